package mask

import "testing"

// BenchmarkBytes masks a typical log line: with no secret, with three
// secrets absent from the line, and with one present. Compare each with
// "none": the cost a run pays per log line for masking.
func BenchmarkBytes(b *testing.B) {
	line := []byte("[fan#1234] 2026-12-02T05:00:00Z INFO copied namespace ns-1234 in 12.5ms (3 objects)\n")
	secrets := []string{"ghp_0123456789abcdefghijABCDEFGHIJ", "hunter2-secret-value", "AKIAIOSFODNN7EXAMPLE"}
	for _, bc := range []struct {
		name string
		m    *Masker
		line []byte
	}{
		{"none", nil, line},
		{"3secrets/clean", New(secrets...), line},
		{"3secrets/dirty", New(secrets...), append(append([]byte(nil), line[:40]...), "hunter2-secret-value\n"...)},
		{"url", nil, []byte("[fan#1] GET https://api.example/v1/ns?page=2&api_key=abc: 500\n")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bc.m.Bytes(bc.line)
			}
		})
	}
}

// BenchmarkValue masks an output of ten strings, one of them holding a
// secret, in the shapes it can come in: compare "[]any" (decoded YAML or
// JSON, walked by a type switch) with "[]string" (split(), walked by
// reflection) and "struct" (a step's typed output, judged by its JSON).
func BenchmarkValue(b *testing.B) {
	m := New("hunter2-secret-value", "ghp_0123456789abcdefghijABCDEFGHIJ")
	strs := []string{"alpha", "beta", "gamma", "delta", "token hunter2-secret-value", "zeta", "eta", "theta", "iota", "kappa"}
	anys := make([]any, len(strs))
	for i, s := range strs {
		anys[i] = s
	}
	type out struct {
		Names []string `json:"names"`
		N     int      `json:"n"`
	}
	for _, bc := range []struct {
		name string
		v    any
	}{
		{"[]any", anys},
		{"[]string", strs},
		{"struct", out{Names: strs, N: 10}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Value(bc.v)
			}
		})
	}
}

// BenchmarkSplit cuts a 64 KiB piece of a long line: compare with
// "whole", masking the same piece as one line.
func BenchmarkSplit(b *testing.B) {
	m := New("hunter2-secret-value", "ghp_0123456789abcdefghijABCDEFGHIJ")
	piece := make([]byte, 64<<10)
	for i := range piece {
		piece[i] = "abcdefghij klmnopqrstuvwxyz"[i%27]
	}
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			_ = m.String(string(piece))
		}
	})
	b.Run("split", func(b *testing.B) {
		for b.Loop() {
			_, _ = m.Split(piece)
		}
	})
}
