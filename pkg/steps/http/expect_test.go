package http

import (
	"strings"
	"testing"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// mustExpr compiles an expect.json expression as flowrun's loader does.
func mustExpr(src string) steps.Expression {
	e, err := spec.CompileExpression(src, new(HTTP).ExpressionEnv(expectJSON))
	if err != nil {
		panic(err)
	}
	return e
}

// TestExpectJSONCompile checks the environment the step declares: what a
// workflow's expect.json may read and that it must yield a boolean. The
// loader reports these when the workflow is validated.
func TestExpectJSONCompile(t *testing.T) {
	tests := []struct{ src, want string }{
		{"body.x +", "unexpected token EOF"},
		{"item.ok", "unknown name item"},
		{"status + 1", "expected bool, but got int"},
		{"body.ok && status == 200 && headers.a == 'b'", ""},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := spec.CompileExpression(tt.src, new(HTTP).ExpressionEnv(expectJSON))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got error %v; want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v; want one containing %q", err, tt.want)
			}
		})
	}
}

// TestExpectJSONNotCompiled: an expect.json that did not come from the
// loader fails the item; it is never skipped as if it held.
func TestExpectJSONNotCompiled(t *testing.T) {
	srv := newServer(t)
	var e steps.Expression
	if err := e.UnmarshalText([]byte("true")); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, t.Context(), &HTTP{URL: srv.URL + "/json", Expect: Expect{JSON: e}})
	if err == nil || !strings.Contains(err.Error(), "not compiled") {
		t.Errorf("got error %v; want one saying the expression was not compiled", err)
	}
}
