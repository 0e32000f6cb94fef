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
