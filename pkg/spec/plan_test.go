package spec_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/spec"
)

// TestPlanAndGraph renders the plan, the Mermaid graph and the DOT graph
// of each workflow in testdata/plan and of the examples, against goldens
// in testdata/plan (go test ./pkg/spec -update rewrites them).
func TestPlanAndGraph(t *testing.T) {
	files, _ := filepath.Glob("testdata/plan/*.yaml")
	files = append(files, "../../examples/batch.yaml", "../../examples/hello.yaml")
	for _, path := range files {
		w, ds := spec.Load(path, spec.Options{})
		if ds.HasErrors() {
			t.Fatalf("%s: %v", path, ds)
		}
		base := filepath.Join("testdata/plan", strings.TrimSuffix(filepath.Base(path), ".yaml"))
		plan := w.Plan()
		for _, out := range []struct {
			ext    string
			render func(*bytes.Buffer) error
		}{
			{".plan.golden", func(b *bytes.Buffer) error { plan.Format(b); return nil }},
			{".mmd.golden", func(b *bytes.Buffer) error { return plan.Graph(b, spec.GraphMermaid) }},
			{".dot.golden", func(b *bytes.Buffer) error { return plan.Graph(b, spec.GraphDOT) }},
		} {
			t.Run(filepath.Base(base)+out.ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := out.render(&b); err != nil {
					t.Fatal(err)
				}
				golden := base + out.ext
				if *update {
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./pkg/spec -update)", err)
				}
				if diff := cmp.Diff(string(want), b.String()); diff != "" {
					t.Errorf("%s (-want +got):\n%s", golden, diff)
				}
			})
		}
	}
}

func TestPlanLevels(t *testing.T) {
	w, ds := spec.Load("testdata/plan/diamond.yaml", spec.Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p := w.Plan()
	var got [][]string
	for _, l := range p.Levels {
		var ids []string
		for _, s := range l {
			ids = append(ids, s.ID)
		}
		got = append(got, ids)
	}
	want := [][]string{{"list", "squares", "literal"}, {"copy"}, {"verify"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("levels (-want +got):\n%s", diff)
	}
	squares := p.Levels[0][1].Parallel
	if squares == nil || squares.Items != 10 {
		t.Errorf("squares fan-out = %+v; want 10 items (a constant range)", squares)
	}
	if copyBlock := p.Levels[1][0].Parallel; copyBlock.Items != -1 || copyBlock.Workers != "8" {
		t.Errorf("copy = %+v; want an unknown fan-out and 8 workers", copyBlock)
	}
	if err := p.Graph(&bytes.Buffer{}, "svg"); err == nil {
		t.Error("Graph(svg) succeeded; want an error")
	}
}
