package all_test

import (
	"testing"

	"github.com/flowrun/flowrun/pkg/steps"
	_ "github.com/flowrun/flowrun/pkg/steps/all"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestBuiltinsRegistered(t *testing.T) {
	for _, typ := range []string{"run", "exec", "http", "sleep", "log", "set", "assert"} {
		t.Run(typ, func(t *testing.T) {
			info, err := steps.Lookup(typ)
			if err != nil {
				t.Fatalf("got %v; want %q registered", err, typ)
			}
			if info.Doc == "" {
				t.Errorf("got an empty Doc for %q; want one line", typ)
			}
		})
	}
}
