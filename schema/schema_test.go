package schema_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
	_ "github.com/flowrun/flowrun/pkg/steps/all"
	"github.com/flowrun/flowrun/schema"
)

var update = flag.Bool("update", false, "rewrite workflow.schema.json")

// TestSchemaUpToDate fails when the committed schema is not what the
// generator builds from pkg/spec and the registered step types. Refresh it
// with go generate ./schema.
func TestSchemaUpToDate(t *testing.T) {
	got, err := schema.Generate(steps.Default)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("workflow.schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(string(schema.JSON), string(got)); diff != "" {
		t.Errorf("workflow.schema.json is stale; run go generate ./schema (-committed +generated):\n%s", diff)
	}
}

func compiled(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.JSON))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schema.ID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(schema.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// instance reads a YAML workflow as the JSON value a language server
// checks.
func instance(t *testing.T, path string) any {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func glob(t *testing.T, patterns ...string) []string {
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	return out
}

// TestExamplesValidate checks every example and valid sample against the
// schema, and that each example names the schema on its first line.
func TestExamplesValidate(t *testing.T) {
	s := compiled(t)
	examples := glob(t, "../examples/*.yaml")
	if len(examples) == 0 {
		t.Fatal("no examples found")
	}
	for _, path := range append(examples, glob(t, "../pkg/spec/testdata/valid/*.yaml")...) {
		t.Run(path, func(t *testing.T) {
			if err := s.Validate(instance(t, path)); err != nil {
				t.Errorf("%s does not validate against the schema:\n%v", path, err)
			}
		})
	}
	for _, path := range examples {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		first, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		if !strings.HasPrefix(first, "# yaml-language-server: $schema=") {
			t.Errorf("%s: first line is %q; want a # yaml-language-server: $schema= line", path, strings.TrimSpace(first))
		}
	}
}

// TestSchemaAgreesWithValidate checks samples on which the schema and
// flowrun validate must agree: accepted by both, or rejected by both.
func TestSchemaAgreesWithValidate(t *testing.T) {
	s := compiled(t)
	for _, tt := range []struct {
		dir   string
		valid bool
	}{{"testdata/accept", true}, {"testdata/reject", false}} {
		files := glob(t, tt.dir+"/*.yaml")
		if len(files) == 0 {
			t.Fatalf("no samples in %s", tt.dir)
		}
		for _, path := range files {
			t.Run(path, func(t *testing.T) {
				schemaErr := s.Validate(instance(t, path))
				_, ds := spec.Load(path, spec.Options{})
				if got := schemaErr == nil; got != tt.valid {
					t.Errorf("schema accepts %s: %v; want %v (%v)", path, got, tt.valid, schemaErr)
				}
				if got := !ds.HasErrors(); got != tt.valid {
					t.Errorf("flowrun validate accepts %s: %v; want %v\n%v", path, got, tt.valid, ds)
				}
			})
		}
	}
}
