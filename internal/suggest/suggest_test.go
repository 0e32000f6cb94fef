package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"timeout", "retry", "parallel", "needs", "http", "run"}
	tests := []struct{ in, want string }{
		{"timout", "timeout"},
		{"tiemout", "timeout"},
		{"retyr", "retry"},
		{"paralel", "parallel"},
		{"htp", "http"},
		{"need", "needs"},
		{"xyzzy", ""},
		{"run", ""}, // an exact match is not a suggestion
	}
	for _, tt := range tests {
		if got := Closest(tt.in, names); got != tt.want {
			t.Errorf("Closest(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
