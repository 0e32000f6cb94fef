package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/pkg/steps"
)

// InputTypes are the types an input may declare.
var InputTypes = []string{"string", "integer", "number", "boolean", "list", "object"}

// Input is one typed workflow input, set with `--set name=value`.
type Input struct {
	Name        string
	Type        string
	Description string
	Required    bool
	// Default is the value when none is set; HasDefault tells a null
	// default from none.
	Default    any
	HasDefault bool
	// Secret marks a value that flowrun masks in everything it writes.
	Secret bool
	// Env names the environment variable that sets the input when no
	// value is given; "" for none.
	Env string
	Pos Pos
}

// InputKeys are the keys of an input declaration.
var InputKeys = []string{"type", "default", "required", "description", "secret", "env"}

func (p *loader) inputs(n *yaml.Node) []*Input {
	f := p.fields(n, "inputs", nil)
	if f == nil {
		return nil
	}
	var out []*Input
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if pair, ok := f[k.Value]; !ok || pair.key != k {
			continue
		}
		in := &Input{Name: k.Value, Type: "string", Pos: Pos{p.file, k.Line, k.Column}}
		if !identifier.MatchString(in.Name) {
			p.errorf(k.Line, k.Column, "input names are identifiers: letters, digits and _", "invalid input name %q", in.Name)
		}
		out = append(out, in)
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
			continue // `name:` alone: a string input without default
		}
		g := p.fields(v, "input "+in.Name, InputKeys)
		if t, ok := g["type"]; ok {
			if s, ok := p.str(t.value, "type"); ok {
				if !contains(InputTypes, s) {
					p.errorf(t.value.Line, t.value.Column, unknownKeyDetail(s, InputTypes), "unknown input type %q", s)
				} else {
					in.Type = s
				}
			}
		}
		if d, ok := g["description"]; ok {
			in.Description, _ = p.str(d.value, "description")
		}
		if r, ok := g["required"]; ok {
			if err := r.value.Decode(&in.Required); err != nil {
				p.errorf(r.value.Line, r.value.Column, "", "required must be true or false, not %s", kindName(r.value))
			}
		}
		if sec, ok := g["secret"]; ok {
			if err := sec.value.Decode(&in.Secret); err != nil {
				p.errorf(sec.value.Line, sec.value.Column, "", "secret must be true or false, not %s", kindName(sec.value))
			}
		}
		if e, ok := g["env"]; ok {
			if name, ok := p.str(e.value, "env"); ok {
				if !envName.MatchString(name) {
					p.errorf(e.value.Line, e.value.Column, "environment variable names are letters, digits and _", "invalid environment variable name %q", name)
				} else {
					in.Env = name
				}
			}
		}
		if d, ok := g["default"]; ok {
			p.freeForm(d.value)
			if (in.Type == "integer" || in.Type == "number") && SameAsDecimal(d.value) {
				p.asText(d.value) // default: 08 is 8 for an integer input, as --set count=08
			}
			var v any
			if err := d.value.Decode(&v); err != nil {
				p.errorf(d.value.Line, d.value.Column, "", "invalid default: %v", err)
				continue
			}
			v, err := in.Convert(normalize(v))
			if err != nil {
				p.errorf(d.value.Line, d.value.Column, "", "default of input %q: %v", in.Name, err)
				continue
			}
			in.Default, in.HasDefault = v, true
			if in.Required {
				p.errorf(d.value.Line, d.value.Column, "drop one of them", "input %q is required and has a default", in.Name)
			}
		}
	}
	return out
}

func inputNames(ins []*Input) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.Name
	}
	return out
}

// Convert checks that v, decoded from YAML or JSON, has the input's type.
// Integers written as 3.0 are accepted as integers.
func (in *Input) Convert(v any) (any, error) {
	ok := false
	switch in.Type {
	case "string":
		_, ok = v.(string)
	case "integer":
		switch n := v.(type) {
		case int:
			ok = true
		case float64:
			if n == float64(int(n)) {
				v, ok = int(n), true
			}
		}
	case "number":
		switch n := v.(type) {
		case int:
			v, ok = float64(n), true
		case float64:
			ok = true
		}
	case "boolean":
		_, ok = v.(bool)
	case "list":
		_, ok = v.([]any)
	case "object":
		_, ok = v.(map[string]any)
	}
	if !ok {
		return nil, fmt.Errorf("want %s, got %s", article(in.Type), describe(v))
	}
	return v, nil
}

// Parse converts a command-line value to the input's type: strings are
// taken as they are; other types are read as YAML (so lists and objects
// may be written in JSON).
func (in *Input) Parse(s string) (any, error) {
	if in.Type == "string" {
		return s, nil
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil {
		return nil, fmt.Errorf("want %s, got %q", article(in.Type), s)
	}
	if bad := FreeForm(&n); bad != nil {
		return nil, fmt.Errorf("a key must be text, not %s", kindName(deref(bad)))
	}
	scalar := in.Type == "integer" || in.Type == "number" || in.Type == "boolean"
	if len(n.Content) == 1 && scalar && SameAsDecimal(n.Content[0]) {
		// --set count=08: the input's type, not YAML's float, decides.
	} else if at, why := FirstNumberOutOfRange(&n); at != nil {
		if !scalar {
			why += "; quote it to pass it as a string"
		}
		return nil, errors.New(why)
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("want %s, got %q", article(in.Type), s)
	}
	if in.Type == "integer" {
		if _, err := strconv.Atoi(strings.TrimSpace(s)); err != nil {
			return nil, fmt.Errorf("want an integer, got %q", s)
		}
	}
	return in.Convert(normalize(v))
}

func article(t string) string {
	switch t {
	case "integer":
		return "an integer"
	case "object":
		return "an object"
	}
	return "a " + t
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", truncate(v, 40))
	case bool:
		return "a boolean"
	case int, float64:
		return fmt.Sprintf("the number %v", v)
	case uint64, json.Number:
		return fmt.Sprintf("the number %v, beyond what a 64-bit integer or a float holds exactly", v)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func normalize(v any) any { return Normalize(v) }

// Normalize turns YAML- or JSON-decoded values into the plain shapes
// expressions see: maps keyed by strings, JSON numbers read with UseNumber
// by flowrun's number policy (steps.JSONNumber: whole numbers as int, or
// uint64 above the int range, never rounded), other numbers as float64.
func Normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = Normalize(x)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = Normalize(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = Normalize(x)
		}
		return v
	case int64:
		return int(v)
	case uint64:
		if v <= math.MaxInt {
			return int(v)
		}
		return v // int(v) would wrap to a negative number
	case json.Number:
		return steps.JSONNumber(v)
	}
	return v
}

// ResolveInputs returns every input's value: set holds command-line values
// by name (already typed, or strings to Parse); an input not in set takes
// the value of its env: variable from the process environment, else its
// default. The error lists every problem.
func (w *Workflow) ResolveInputs(set map[string]any) (map[string]any, error) {
	return w.ResolveInputsEnv(set, os.LookupEnv)
}

// ResolveInputsEnv is ResolveInputs reading environment variables through
// lookup. A variable set to the empty string counts as unset: that is
// what CI systems give a job that may not see a secret, and a required
// secret should then be missing, not empty. Errors never quote the value
// of a secret input.
func (w *Workflow) ResolveInputsEnv(set map[string]any, lookup func(string) (string, bool)) (map[string]any, error) {
	return w.resolveInputs(set, lookup, true)
}

// ResolveTyped is ResolveInputs for values that have their types already:
// a uses step's with:. A string is a string there, never read as YAML as
// a command-line value is: the item "{admin: true}" reaches an object
// input as an error, not as a map, and " 7 " an integer input as an error,
// not as 7. Environment variables (an input's env:) are text and are
// read as on the command line.
func (w *Workflow) ResolveTyped(set map[string]any) (map[string]any, error) {
	return w.resolveInputs(set, os.LookupEnv, false)
}

// resolveInputs resolves the inputs; parse reads the strings in set as
// command-line values.
func (w *Workflow) resolveInputs(set map[string]any, lookup func(string) (string, bool), parse bool) (map[string]any, error) {
	out := make(map[string]any, len(w.Inputs))
	var problems []string
	known := make(map[string]bool)
	for _, in := range w.Inputs {
		known[in.Name] = true
		raw, ok := set[in.Name]
		from, text := "", parse
		if !ok && in.Env != "" {
			if v, set := lookup(in.Env); set && v != "" {
				raw, ok, from, text = v, true, " (from $"+in.Env+")", true
			}
		}
		switch {
		case ok:
			var v any
			var err error
			if s, isStr := raw.(string); isStr && text {
				v, err = in.Parse(s)
			} else {
				v, err = in.Convert(normalize(raw))
			}
			if err != nil {
				if in.Secret {
					err = fmt.Errorf("want %s; the value is secret, not shown", article(in.Type))
				}
				problems = append(problems, fmt.Sprintf("input %q%s: %v", in.Name, from, err))
				continue
			}
			out[in.Name] = v
		case in.HasDefault:
			out[in.Name] = in.Default
		case in.Required && in.Env != "":
			problems = append(problems, fmt.Sprintf("input %q is required: set the environment variable %s or --set %s=...", in.Name, in.Env, in.Name))
		case in.Required:
			problems = append(problems, fmt.Sprintf("input %q is required: set it with --set %s=...", in.Name, in.Name))
		default:
			out[in.Name] = zeroOf(in.Type)
		}
	}
	for name := range set {
		if !known[name] {
			msg := fmt.Sprintf("unknown input %q", name)
			if s := closestName(name, inputNames(w.Inputs)); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else if len(w.Inputs) == 0 {
				msg += "; the workflow declares no inputs"
			}
			problems = append(problems, msg)
		}
	}
	if len(problems) > 0 {
		sortStrings(problems)
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return out, nil
}

// SecretValues returns the values of the secret inputs among inputs (as
// ResolveInputs returns them), as text: a string as it is, a number or a
// boolean as written, and every string and number inside a list or an
// object, plus the whole as JSON. A Masker masks them.
func (w *Workflow) SecretValues(inputs map[string]any) []string {
	var out []string
	for _, in := range w.Inputs {
		if v, ok := inputs[in.Name]; ok && in.Secret {
			out = appendTexts(out, v)
		}
	}
	return out
}

func appendTexts(out []string, v any) []string {
	switch v := v.(type) {
	case nil:
		return out
	case []any:
		for _, x := range v {
			out = appendTexts(out, x)
		}
	case map[string]any:
		for _, x := range v {
			out = appendTexts(out, x)
		}
	default:
		return append(out, Text(v))
	}
	return append(out, Text(v))
}

func zeroOf(t string) any {
	switch t {
	case "integer":
		return 0
	case "number":
		return 0.0
	case "boolean":
		return false
	case "list":
		return []any{}
	case "object":
		return map[string]any{}
	}
	return ""
}
