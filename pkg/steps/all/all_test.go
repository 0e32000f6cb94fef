package all_test

import (
	"reflect"
	"testing"

	"go.uber.org/goleak"

	"github.com/flowrun/flowrun/pkg/steps"
	_ "github.com/flowrun/flowrun/pkg/steps/all"
	"github.com/flowrun/flowrun/pkg/steps/basic"
	"github.com/flowrun/flowrun/pkg/steps/http"
	"github.com/flowrun/flowrun/pkg/steps/shell"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestBuiltinsRegistered checks every built-in step type once, here,
// through the import a flowrun binary uses: its name, shorthand, doc line
// and the type New returns.
func TestBuiltinsRegistered(t *testing.T) {
	tests := []struct {
		typ, shorthand string
		want           steps.Step
	}{
		{"run", "script", new(shell.Run)},
		{"exec", "argv", new(shell.Exec)},
		{"http", "url", new(http.HTTP)},
		{"sleep", "duration", new(basic.Sleep)},
		{"log", "message", new(basic.Log)},
		{"set", "", new(basic.Set)},
		{"assert", "that", new(basic.Assert)},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			info, err := steps.Lookup(tt.typ)
			if err != nil {
				t.Fatalf("got %v; want %q registered", err, tt.typ)
			}
			if info.Shorthand != tt.shorthand {
				t.Errorf("got Shorthand %q; want %q", info.Shorthand, tt.shorthand)
			}
			if info.Doc == "" {
				t.Error("got an empty Doc; want one line")
			}
			if got := reflect.TypeOf(info.New()); got != reflect.TypeOf(tt.want) {
				t.Errorf("New() returned %v; want %T", got, tt.want)
			}
		})
	}
	if got, want := len(steps.List()), len(tests); got != want {
		t.Errorf("%d step types registered; want the %d built-ins", got, want)
	}
}
