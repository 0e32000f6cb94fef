package exec

import (
	"encoding/json"
	"sync"

	"github.com/flowrun/flowrun/internal/jsonenc"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/steps"
)

// EncodedOutput returns the item's output as JSON, as the report writes it
// (NaN and ±Inf as strings, steps.NonFinite), or nil for no output. The
// bytes are kept with the result when the output is made of plain shapes
// (see jsonenc.AppendPlain) and at most maxKeptJSON long, so that an
// output is encoded once although it is written twice: by the journal as
// the item ends, and by the report when the run does. The caller must not
// modify them, nor the output once they are kept.
//
// It is called, like every use of a result, by the one goroutine that
// holds the result at the time (the lane that finished the item, then the
// one writing the report).
func (r *ItemResult) EncodedOutput() ([]byte, error) {
	out, _, err := r.encodeOutput(false)
	return out, err
}

// ExactOutput is EncodedOutput, also returning where that JSON holds a
// NaN or ±Inf as a string (steps.NonFinitePaths), so that a reader can
// restore them (steps.RestoreNonFinite): what the journal keeps. Only an
// output that holds one pays for the walk that finds them; for the rest
// the paths are nil at no cost, encoding tells (jsonenc.AppendShape).
func (r *ItemResult) ExactOutput() ([]byte, [][]any, error) {
	return r.encodeOutput(true)
}

// encodeOutput is EncodedOutput, and ExactOutput when paths is set.
func (r *ItemResult) encodeOutput(paths bool) ([]byte, [][]any, error) {
	if r.outJSON != nil {
		return r.outJSON, nil, nil // plain: no NaN
	}
	if r.Output == nil {
		return nil, nil, nil
	}
	bp := encodeBufs.Get().(*[]byte)
	defer encodeBufs.Put(bp)
	b, shape, err := jsonenc.Output((*bp)[:0], r.Output)
	if cap(b) <= maxPooledEncode {
		*bp = b[:0]
	}
	if err != nil {
		return nil, nil, err
	}
	var nonFinite [][]any
	out := append([]byte(nil), b...)
	if shape.Plain && len(out) <= maxKeptJSON {
		r.outJSON = out
	}
	if paths && shape.NonFinite {
		nonFinite = steps.NonFinitePaths(r.Output)
	}
	return out, nonFinite, nil
}

// compactOutput replaces a result's output by its JSON, when EncodedOutput
// keeps it: see Options.CompactResults. Outputs it does not keep (large,
// of other than plain shapes, holding NaN or infinities, whose warnings
// read the value) stay as they are. It returns the error of encoding the
// output, if any.
func compactOutput(res *ItemResult) error {
	if res.Status != Succeeded || res.Output == nil {
		return nil
	}
	_, err := res.EncodedOutput()
	if err == nil && res.outJSON != nil {
		res.Output = json.RawMessage(res.outJSON)
	}
	return err
}

// outputIsJSON reports whether the result's output is its kept JSON
// itself (a json.RawMessage over the same bytes, as an output the step
// wrote as JSON is): then keeping that JSON costs nothing.
func outputIsJSON(res *ItemResult) bool {
	raw, ok := res.Output.(json.RawMessage)
	return ok && len(raw) > 0 && len(res.outJSON) == len(raw) && &raw[0] == &res.outJSON[0]
}

// maxKeptJSON bounds the JSON of an output kept with its result: kept
// outputs are small ones, for which encoding is a large part of what an
// item costs; a large one is encoded again by the report rather than held
// twice. (An output a step wrote as its JSON, a stepjson.Output, is kept
// whatever its size: it is held once, as the output and its JSON.)
const maxKeptJSON = 4 << 10

// encodeBufs are scratch buffers for EncodedOutput, so that an output is
// copied once, at its size, instead of grown.
var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledEncode = 64 << 10

// maskedOutput masks an item's output for a report: when its JSON is kept
// and masking would change nothing in it, without walking it. That is
// decided from the JSON only when m masks no secret: URLs are then all it
// redacts, and a string holds "://" exactly when its JSON does (the
// escapes of JSON never touch ':' or '/'). An output kept as its JSON
// (compacted, or written so by its step) is masked by the masker as JSON
// text: member by member, members it leaves alone keeping their bytes.
func maskedOutput(m *mask.Masker, res *ItemResult) (any, bool) {
	if res.outJSON != nil && m.Empty() && !m.Contains(res.outJSON) {
		return res.Output, false
	}
	return m.ValueChanged(res.Output)
}
