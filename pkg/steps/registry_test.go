package steps

import (
	"context"
	"strings"
	"testing"
)

type nop struct{}

func (nop) Run(context.Context, *Input) (any, error) { return nil, nil }

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	r.Register(Info{Type: "http", New: func() Step { return nop{} }})
	r.Register(Info{Type: "acme.notify", New: func() Step { return nop{} }})

	if _, err := r.Lookup("http"); err != nil {
		t.Fatalf("Lookup(http): %v", err)
	}
	_, err := r.Lookup("htp")
	want := `unknown step type "htp" (forgotten import?); did you mean "http"?`
	if err == nil || err.Error() != want {
		t.Fatalf("Lookup(htp) = %v; want %s", err, want)
	}
	if got := strings.Join(r.Names(), ","); got != "acme.notify,http" {
		t.Errorf("Names() = %s; want sorted acme.notify,http", got)
	}
	if Default.Has("acme.notify") {
		t.Error("a private registry leaked into Default")
	}
}

func TestRegisterPanics(t *testing.T) {
	tests := map[string]Info{
		"duplicate": {Type: "x", New: func() Step { return nop{} }},
		"bad name":  {Type: "Bad-Name", New: func() Step { return nop{} }},
		"no New":    {Type: "y"},
	}
	for name, info := range tests {
		t.Run(name, func(t *testing.T) {
			r := NewRegistry()
			r.Register(Info{Type: "x", New: func() Step { return nop{} }})
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%+v) did not panic", info)
				}
			}()
			r.Register(info)
		})
	}
}

func TestPermanent(t *testing.T) {
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	err := Permanent(context.Canceled)
	if !IsPermanent(err) || err.Error() != context.Canceled.Error() {
		t.Errorf("Permanent lost its mark or message: %v", err)
	}
	if IsPermanent(context.Canceled) {
		t.Error("IsPermanent of a plain error")
	}
}

type closer struct{ closed *int }

func (c closer) Close() error { *c.closed++; return nil }

func TestResources(t *testing.T) {
	var r Resources
	n, closed := 0, 0
	type key struct{}
	for range 3 {
		r.Load(key{}, func() any { n++; return closer{&closed} })
	}
	if n != 1 {
		t.Errorf("create called %d times; want 1", n)
	}
	if err := r.Close(); err != nil || closed != 1 {
		t.Errorf("Close: err=%v closed=%d; want nil, 1", err, closed)
	}
}
