package http

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/flowrun/flowrun/pkg/steps"
)

// recorder is a server that records the headers of the requests it gets.
type recorder struct {
	mu   sync.Mutex
	got  []http.Header
	next string // when set, redirect there
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.got = append(rc.got, r.Header.Clone())
	next := rc.next
	rc.mu.Unlock()
	if next != "" && r.URL.Path == "/start" {
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ok": true}`))
}

func (rc *recorder) requests() []http.Header {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]http.Header(nil), rc.got...)
}

// TestRedirectOrigins checks that the step's headers never reach another
// origin: two servers on loopback differ only by port, which net/http
// alone treats as the same host.
func TestRedirectOrigins(t *testing.T) {
	secrets := map[string]any{"Authorization": "Bearer s3cret", "Cookie": "session=s3cret", "X-Api-Key": "s3cret", "Accept": "application/json"}
	tests := []struct {
		name      string
		policy    Redirects
		sameHost  bool // redirect to /end on the first server
		wantErr   string
		wantOther int // requests the second server gets
		wantKept  bool
	}{
		{name: "default refuses another port", policy: RedirectSameOrigin, wantErr: "redirect to another origin not followed: to http://127.0.0.1:", wantOther: 0},
		{name: "default follows the same origin", policy: RedirectSameOrigin, sameHost: true, wantKept: true},
		{name: "true drops the headers on another port", policy: RedirectAny, wantOther: 1},
		{name: "true keeps them on the same origin", policy: RedirectAny, sameHost: true, wantKept: true},
		{name: "false checks the 3xx", policy: RedirectNever, wantErr: "status 302 Found, want 2xx", wantOther: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := &recorder{}
			otherSrv := httptest.NewServer(other)
			defer otherSrv.Close()
			first := &recorder{next: otherSrv.URL + "/end"}
			if tt.sameHost {
				first.next = "/end"
			}
			firstSrv := httptest.NewServer(first)
			defer firstSrv.Close()

			_, err := run(t, t.Context(), &HTTP{URL: firstSrv.URL + "/start", Headers: secrets, FollowRedirects: tt.policy})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Run: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got error %v; want one containing %q", err, tt.wantErr)
			case tt.wantErr != "" && !steps.IsPermanent(err):
				t.Errorf("error %v is retryable; want permanent", err)
			}
			if got := len(other.requests()); got != tt.wantOther {
				t.Errorf("the other origin got %d requests; want %d", got, tt.wantOther)
			}
			for _, h := range other.requests() {
				for _, k := range []string{"Authorization", "Cookie", "X-Api-Key"} {
					if v := h.Get(k); v != "" {
						t.Errorf("the other origin got %s: %s; want none", k, v)
					}
				}
				if h.Get("Accept") != "application/json" || h.Get("User-Agent") != "flowrun" {
					t.Errorf("the other origin got Accept %q, User-Agent %q; want them kept", h.Get("Accept"), h.Get("User-Agent"))
				}
			}
			if tt.wantKept {
				reqs := first.requests()
				if len(reqs) != 2 {
					t.Fatalf("the first origin got %d requests; want 2", len(reqs))
				}
				if reqs[1].Get("X-Api-Key") != "s3cret" || reqs[1].Get("Authorization") != "Bearer s3cret" {
					t.Errorf("a same-origin redirect got headers %v; want the step's headers", reqs[1])
				}
			}
		})
	}
}

// TestRedirectBackToOrigin checks that headers dropped on leaving the
// origin stay dropped when another server sends the request back.
func TestRedirectBackToOrigin(t *testing.T) {
	first := &recorder{}
	firstSrv := httptest.NewServer(first)
	defer firstSrv.Close()
	other := &recorder{next: firstSrv.URL + "/end"}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	first.mu.Lock()
	first.next = otherSrv.URL + "/start"
	first.mu.Unlock()

	if _, err := run(t, t.Context(), &HTTP{URL: firstSrv.URL + "/start", Headers: map[string]any{"X-Api-Key": "s3cret"}, FollowRedirects: RedirectAny}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	reqs := first.requests()
	if len(reqs) != 2 || reqs[1].Get("X-Api-Key") != "" {
		t.Errorf("the first origin got %d requests, the last with X-Api-Key %q; want 2, without it", len(reqs), reqs[len(reqs)-1].Get("X-Api-Key"))
	}
}

func TestRedirectsText(t *testing.T) {
	for text, want := range map[string]Redirects{"same_origin": RedirectSameOrigin, "true": RedirectAny, "false": RedirectNever} {
		var r Redirects
		if err := r.UnmarshalText([]byte(text)); err != nil || r != want {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, r, err, want)
		}
		if got, _ := want.MarshalText(); string(got) != text {
			t.Errorf("MarshalText(%v) = %q; want %q", want, got, text)
		}
	}
	var r Redirects
	if err := r.UnmarshalText([]byte("yes")); err == nil || !strings.Contains(err.Error(), `"yes" is not same_origin`) {
		t.Errorf("UnmarshalText(yes) error %v; want one listing the values", err)
	}
}
