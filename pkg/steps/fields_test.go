package steps

import (
	"context"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type size int64

func (s *size) UnmarshalText([]byte) error { return nil }

type greet struct {
	Name    string            `yaml:"name"`
	Times   *int              `yaml:"times"`
	Wait    Duration          `yaml:"wait"`
	Script  Script            `yaml:"script"`
	Tags    []string          `yaml:"tags"`
	Headers map[string]any    `yaml:"headers"`
	Max     size              `yaml:"max"`
	Expect  struct{ OK bool } `yaml:"expect"`
	Skipped string            `yaml:"-"`
	Plain   float64
	hidden  int
}

func (*greet) Run(context.Context, *Input) (any, error) { return nil, nil }

type free map[string]any

func (free) Run(context.Context, *Input) (any, error) { return nil, nil }

func TestFields(t *testing.T) {
	got := Info{Type: "acme.greet", New: func() Step { return new(greet) }}.Fields()
	want := []Field{
		{"name", "string"}, {"times", "integer"}, {"wait", "duration"}, {"script", "script"},
		{"tags", "list of string"}, {"headers", "mapping of any"}, {"max", "string"},
		{"expect", "mapping"}, {"expect.ok", "boolean"}, {"plain", "number"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Fields() (-want +got):\n%s", diff)
	}
	if got := (Info{Type: "set", New: func() Step { return free{} }}).Fields(); got != nil {
		t.Errorf("Fields() of a map type = %v; want none", got)
	}
}

func TestConfigFields(t *testing.T) {
	type common struct {
		Retries int `yaml:"retries"`
	}
	type config struct {
		URL     string `yaml:"url"`
		Plain   bool
		Skipped string `yaml:"-"`
		hidden  string
		common  `yaml:",inline"`
		Nested  *struct {
			A int `yaml:"a"`
		} `yaml:"nested,omitempty"`
	}
	var got []string
	for _, f := range ConfigFields(reflect.TypeOf(&config{})) {
		got = append(got, f.Name+":"+f.Type.String())
	}
	want := []string{"url:string", "plain:bool", "retries:int", "nested:*struct { A int \"yaml:\\\"a\\\"\" }"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ConfigFields (-want +got):\n%s", diff)
	}
	if f := ConfigFields(reflect.TypeOf(map[string]any{})); f != nil {
		t.Errorf("ConfigFields(map) = %v; want none", f)
	}
}
