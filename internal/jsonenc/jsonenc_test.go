package jsonenc

import (
	"encoding/json"
	"math"
	"testing"
)

// TestAppendFloatMatchesJSON: the bytes encoding/json writes.
func TestAppendFloatMatchesJSON(t *testing.T) {
	for _, f := range []float64{0, -0.0, 1, -1, 0.1, 1.5, 1e-6, 9.99e-7, 1e-7, 123456789.125, 1e20, 1e21, 1.5e21, -1e-9, math.MaxFloat64, math.SmallestNonzeroFloat64, 5.942999839782715} {
		want, _ := json.Marshal(f)
		got, err := AppendFloat(nil, f)
		if err != nil || string(got) != string(want) {
			t.Errorf("AppendFloat(%v) = %s, %v; encoding/json writes %s", f, got, err, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := AppendFloat(nil, f); err == nil {
			t.Errorf("AppendFloat(%v) succeeded; JSON has no such number", f)
		}
	}
}

func FuzzAppendFloat(f *testing.F) {
	f.Add(1.5)
	f.Add(1e-7)
	f.Fuzz(func(t *testing.T, x float64) {
		want, werr := json.Marshal(x)
		got, err := AppendFloat(nil, x)
		if (err != nil) != (werr != nil) || err == nil && string(got) != string(want) {
			t.Fatalf("AppendFloat(%v) = %s, %v; encoding/json: %s, %v", x, got, err, want, werr)
		}
	})
}
