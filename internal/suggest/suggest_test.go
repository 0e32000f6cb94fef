package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"timeout", "retry", "parallel", "needs", "http", "run", "count", "region", "counter"}
	tests := []struct{ in, want string }{
		{"timout", "timeout"},
		{"tiemout", "timeout"},
		{"retyr", "retry"},
		{"paralel", "parallel"},
		{"htp", "http"},
		{"need", "needs"},
		{"xyzzy", ""},
		{"run", ""}, // an exact match is not a suggestion
		// Abbreviations, when no spelling is close: the shortest name
		// that holds the letters in order.
		{"cnt", "count"},
		{"pll", "parallel"},
		{"cn", ""},  // too short to be sure
		{"tnt", ""}, // not from the same first letter
		{"cuont", "count"},
		{"ctr", "counter"},
	}
	for _, tt := range tests {
		if got := Closest(tt.in, names); got != tt.want {
			t.Errorf("Closest(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
