package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClosing(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{` 1 + 2 }} tail`, 7},
		{` "}}" + '}}' + ` + "`}}`" + ` }}`, 20},
		{` "a\"}}" }}`, 9},
		{` {a: {b: 1}} }}`, 13}, // a map literal's braces are not the end
		{` {a: 1}}}`, 7},
		{` "unterminated }}`, -1},
		{` no end`, -1},
	}
	for _, tt := range tests {
		if got := closing(tt.in); got != tt.want {
			t.Errorf("closing(%q) = %d; want %d", tt.in, got, tt.want)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	got := splitArgs(`1, f(2, 3), "a,b", [4, 5]`)
	want := []arg{{"1", 0}, {" f(2, 3)", 2}, {` "a,b"`, 11}, {" [4, 5]", 18}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(arg{})); diff != "" {
		t.Errorf("splitArgs (-want +got):\n%s", diff)
	}
}
