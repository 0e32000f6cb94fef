package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// blockInfo is what a coordinator announces under blockKey for workers.
type blockInfo struct {
	Run      string        `json:"run"`
	Block    string        `json:"block"`
	Stream   string        `json:"stream"`
	Consumer string        `json:"consumer"`
	Results  string        `json:"results"`
	AckWait  time.Duration `json:"ack_wait"`
	// Gen tells this dispatch of the block from an earlier one of the
	// same name (a resumed run): a worker still following the earlier
	// one starts over.
	Gen string `json:"gen"`
	// Data says the block has Data in the run's object store.
	Data bool `json:"data,omitempty"`
}

// newGeneration returns a random id for one dispatch of a block.
func newGeneration() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// registry opens the shared KV bucket, creating it with an explicit config
// (the same from every coordinator and worker, so creation is idempotent).
func registry(ctx context.Context, js jetstream.JetStream) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       RegistryBucket,
		Description:  "flowrun: blocks open for workers, cancellations",
		MaxValueSize: 64 << 10,
		History:      1,
		TTL:          0,
		MaxBytes:     -1,
		Storage:      jetstream.FileStorage,
		Replicas:     1,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: registry bucket %s: %w", RegistryBucket, err)
	}
	return kv, nil
}

func encodeBlockInfo(b blockInfo) []byte {
	data, err := json.Marshal(b)
	if err != nil {
		panic(err) // plain struct of strings and ints
	}
	return data
}

// registryKey is a parsed registry key: kind is "block" or "cancel"; block
// is "" for a run-wide cancel.
type registryKey struct {
	kind, run, block string
}

func parseRegistryKey(k string) (registryKey, bool) {
	p := strings.Split(k, ".")
	switch {
	case len(p) == 3 && p[0] == "block":
		return registryKey{"block", p[1], p[2]}, true
	case len(p) == 2 && p[0] == "cancel":
		return registryKey{"cancel", p[1], ""}, true
	case len(p) == 3 && p[0] == "cancel":
		return registryKey{"cancel", p[1], p[2]}, true
	}
	return registryKey{}, false
}
