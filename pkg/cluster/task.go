package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/nats-io/nats.go"
)

// Item is one item of a block as the coordinator dispatches it. Payload is
// opaque to the cluster (flowrun puts the item value, scope and step id in it).
type Item struct {
	Index   int
	Key     string
	Payload []byte
}

// Task is what a worker's Handler runs: one delivery of one item.
type Task struct {
	Run, Block string
	Index      int
	Key        string
	Payload    []byte
	// Deliveries counts this delivery: 1 the first time, more when a
	// previous delivery was lost (worker died, ack deadline passed).
	Deliveries int
	// Manifest is the run's manifest as the coordinator stored it (shared;
	// do not modify).
	Manifest []byte
	// BlockData is the block's Data (Block.Data; shared, do not modify),
	// nil when it has none.
	BlockData []byte
}

// Result is the outcome of one index as the coordinator accepts it: exactly
// one per index. Err is set when the item failed: the handler returned an
// error (*ItemError naming the worker), no delivery finished within
// MaxDeliver (ErrMaxDeliveries), or the item could not be sent
// (ErrPayloadTooLarge).
type Result struct {
	Index   int
	Key     string
	Payload []byte
	Err     error
	// Worker names the worker whose result was accepted ("" when the
	// coordinator failed the item itself).
	Worker string
	// Deliveries is the delivery count of the accepted execution; more than
	// 1 means the item ran (at least partly) more than once.
	Deliveries int
}

// Handler runs one item on a worker. It must honour ctx: it is cancelled
// when the run or block is cancelled, or when the worker's drain grace ends.
// An error fails the item (it is not retried by the cluster: retries are the
// step's business); a worker that cannot run the item at all, e.g. lacks its
// step type, returns an error saying so.
type Handler func(ctx context.Context, t Task) ([]byte, error)

var (
	// ErrMaxDeliveries: every delivery of an item was lost (each worker
	// died or stalled past the ack deadline) MaxDeliver times.
	ErrMaxDeliveries = errors.New("no worker finished the item")
	// ErrPayloadTooLarge: an item or result exceeds the server's max payload.
	ErrPayloadTooLarge = errors.New("payload too large")
)

// ItemError is the failure of one item, with where it happened.
type ItemError struct {
	Run, Block string
	Index      int
	Key        string
	// Worker is the worker that reported the failure, "" if none did.
	Worker string
	Err    error
}

func (e *ItemError) Error() string {
	s := fmt.Sprintf("block %s item %d", e.Block, e.Index)
	if e.Key != "" {
		s += fmt.Sprintf(" (key %q)", e.Key)
	}
	if e.Worker != "" {
		s += fmt.Sprintf(" on worker %q", e.Worker)
	}
	return s + ": " + e.Err.Error()
}

func (e *ItemError) Unwrap() error { return e.Err }

// remoteError is a handler's error as it crossed the wire: its text only.
type remoteError struct{ msg string }

func (e *remoteError) Error() string { return e.msg }

// Message headers. Values are header-safe: numbers, tokens, or
// query-escaped text.
const (
	hdrIndex      = "Flowrun-Index"
	hdrKey        = "Flowrun-Key"
	hdrWorker     = "Flowrun-Worker"
	hdrDeliveries = "Flowrun-Deliveries"
	hdrStatus     = "Flowrun-Status" // "ok" or "error" (body is the error text)
)

func itemMsg(run, block string, it Item) *nats.Msg {
	m := nats.NewMsg(itemsSubject(run, block))
	m.Header.Set(hdrIndex, strconv.Itoa(it.Index))
	if it.Key != "" {
		m.Header.Set(hdrKey, url.QueryEscape(it.Key))
	}
	m.Header.Set(nats.MsgIdHdr, itemMsgID(run, block, it.Index))
	m.Data = it.Payload
	return m
}

// msgSize is what the server counts against max_payload: headers + data.
func msgSize(m *nats.Msg) int {
	n := len(m.Data)
	for k, vs := range m.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n + len("NATS/1.0\r\n\r\n")
}

func headerIndex(h nats.Header) (int, error) {
	s := h.Get(hdrIndex)
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("message without a valid %s header (%q)", hdrIndex, s)
	}
	return i, nil
}

func headerKey(h nats.Header) string {
	k, err := url.QueryUnescape(h.Get(hdrKey))
	if err != nil {
		return h.Get(hdrKey)
	}
	return k
}
