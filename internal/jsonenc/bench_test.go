package jsonenc

import (
	"encoding/json"
	"testing"
)

// httpOut is an http step's output as an item of a block writes it: the
// body kept as its JSON text, the headers map shared by the block.
var httpOut = map[string]any{
	"status":      200,
	"headers":     map[string]any{"Content-Type": "application/json", "Date": "Wed, 02 Dec 2026 10:27:46 GMT", "Content-Length": "37"},
	"body":        json.RawMessage(`{"backend":"users","n":1,"result":1}`),
	"duration_ms": 1.234,
}

// BenchmarkOutputHTTP encodes an http output, as the journal does once a
// kept result.
func BenchmarkOutputHTTP(b *testing.B) {
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		buf, _, _ = Output(buf[:0], httpOut)
	}
}

func BenchmarkAppendStringKey(b *testing.B) {
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		buf = AppendString(buf[:0], "Content-Type")
	}
}

func BenchmarkAppendRawBody(b *testing.B) {
	buf := make([]byte, 0, 1024)
	raw := json.RawMessage(`{"backend":"users","n":1,"result":1}`)
	for b.Loop() {
		buf, _ = appendRaw(buf[:0], raw, nil)
	}
}
