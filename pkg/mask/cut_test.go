package mask

import (
	"math/rand/v2"
	"strings"
	"testing"
)

const cutSecret = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// shows returns the pieces of cutSecret, 6 bytes or more, that s holds.
func shows(s string) []string {
	var out []string
	for i := 0; i+6 <= len(cutSecret); i++ {
		if p := cutSecret[i : i+6]; strings.Contains(s, p) {
			out = append(out, p)
		}
	}
	return out
}

// TestHeadMasksBeforeCutting: the start of a text is masked whole, then
// cut; a secret or a URL the end of a prefix cuts off is dropped, not
// shown in part.
func TestHeadMasksBeforeCutting(t *testing.T) {
	m := New(cutSecret)
	zeros := strings.Repeat("0", 190)
	tests := []struct {
		name string
		in   string
		n    int
		more bool
		want string
	}{
		{"straddles the cut", zeros + cutSecret + " tail", 200, false, zeros + "*** tail"},
		{"whole, short", "x " + cutSecret, 200, false, "x ***"},
		{"cut off by the prefix", zeros + cutSecret[:20], 200, true, zeros},
		{"URL cut off", "see https://u:pa55word", 200, true, "see "},
		{"URL whole", "see https://u:pa55word@h/ ok", 200, true, "see https://u:***@h/ ok"},
		{"secret holding & in a query", "GET https://h/x?token=ABCDEF&GHIJKLMNOPQRSTUVWXYZ0123456789: 500", 200, false, "GET https://h/x?token=*** 500"},
		{"multi-byte at the cut", "ééé", 3, false, "é"},
	}
	m2 := New(cutSecret, "ABCDEF&GHIJKLMNOPQRSTUVWXYZ0123456789")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mm := m
			if strings.Contains(tt.in, "&") {
				mm = m2
			}
			got := mm.Head([]byte(tt.in), tt.n, tt.more)
			if got != tt.want {
				t.Errorf("Head(%q, %d, %v) = %q; want %q", tt.in, tt.n, tt.more, got, tt.want)
			}
			if p := shows(got); len(p) > 0 {
				t.Errorf("shows %q", p)
			}
		})
	}
}

// TestSplitStreamsLikeWhole: a stream split into pieces anywhere, each
// piece masked with Split and its kept text carried into the next, reads
// as the whole stream masked at once.
func TestSplitStreamsLikeWhole(t *testing.T) {
	m := New(cutSecret, "pa55-w0rd-xyz")
	r := rand.New(rand.NewPCG(1, 2))
	parts := []string{cutSecret, "pa55-w0rd-xyz", "https://u:pa55-w0rd-xyz@h/p?token=t0k&x=1 ", "aaa", "ABC", "https://h/?api_key=k3y ", " ", "ABCDEFGHIJ"}
	for round := range 300 {
		var b strings.Builder
		for b.Len() < 2000 {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		text := b.String()
		var out, keep strings.Builder
		rest := text
		for rest != "" {
			n := min(len(rest), 1+r.IntN(200))
			buf := keep.String() + rest[:n]
			rest = rest[n:]
			keep.Reset()
			if rest == "" {
				out.WriteString(m.String(buf))
				break
			}
			done, k := m.Split([]byte(buf))
			out.WriteString(done)
			keep.WriteString(k)
		}
		if got, want := out.String(), m.String(text); got != want {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("round %d: split and whole differ at %d:\n%q\n%q", round, i, got[max(0, i-60):min(len(got), i+40)], want[max(0, i-60):min(len(want), i+40)])
		}
	}
}

// TestSplitBoundsWhatItKeeps: Split keeps at most the longest form less
// a byte (or an open URL's 4 KiB), so a writer holding a long line stays
// bounded.
func TestSplitBoundsWhatItKeeps(t *testing.T) {
	m := New(cutSecret)
	buf := strings.Repeat("a", 64<<10) + cutSecret[:30]
	done, keep := m.Split([]byte(buf))
	if keep != cutSecret[:30] || done != strings.Repeat("a", 64<<10) {
		t.Errorf("kept %q", keep)
	}
	done, keep = m.Split([]byte(strings.Repeat("a", 64<<10) + " https://" + strings.Repeat("h", 8<<10)))
	if len(keep) != 0 || !strings.HasSuffix(done, "hhh") {
		t.Errorf("kept %d bytes of a URL longer than 4 KiB", len(keep))
	}
}
