package spec

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/internal/suggest"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/steps"
)

var (
	durationType    = reflect.TypeOf(time.Duration(0))
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textType        = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// config checks a step's configuration against its type: every key must
// name a field, every literal must fit the field's type, and expressions
// are compiled. A configuration without expressions is decoded and
// validated now; Static holds the result, shared by every item. Errors
// from decoding or the type's Validate, which name no position, are
// reported at key, the step's action key.
func (p *loader) config(key, n *yaml.Node, info steps.Info, sc *scope) *Value {
	if n.Kind != yaml.MappingNode && info.Shorthand != "" {
		n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column,
			Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: info.Shorthand, Line: n.Line, Column: n.Column}, n}}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	}
	v := &Value{Node: n}
	before := len(p.list)
	w := configWalk{v: v, sc: sc}
	w.enver, _ = info.New().(steps.ExpressionEnver)
	p.walkConfig(&w, n, reflect.TypeOf(info.New()), info.Type, cursor{}, []fieldStep{})
	if len(p.list) > before || !v.IsLiteral() {
		return v
	}
	st, _, err := v.decodeConfig(info, nil, nil)
	if err != nil {
		// Step types quote their configuration as it is (a URL with its
		// credentials): a run masks what it writes, secrets first; here,
		// before any secret is known, URL credentials are redacted.
		p.errorf(key.Line, key.Column, "", "%s: %s", info.Type, mask.URLs(err.Error()))
		return v
	}
	// Decoded once, here, and shared by every run of the workflow: Run
	// must not modify its receiver. A Cleaner holds resources of one run
	// and is decoded afresh for each.
	if _, cleans := st.(steps.Cleaner); !cleans {
		v.static = st
	}
	return v
}

// Decode resolves the step's configuration against env, the scope of one
// item or of the step, and decodes it into a new, validated value of the
// step type. Each field gets its expressions by its own rule (reachOf):
// Script fields hold ${FLOWRUN_EXPR_n} references whose "NAME=value"
// entries are appended to vars; Expression fields hold their compiled
// check with the values bound; other fields hold the values.
//
// A configuration without expressions was decoded when the workflow was
// loaded; Decode returns that value, shared, without decoding again.
func (s *Step) Decode(env map[string]any, vars []string) (steps.Step, []string, error) {
	if st := s.Config.static; st != nil {
		return st, vars, nil
	}
	return s.Config.decodeConfig(s.Info, env, vars)
}

// configWalk is what walkConfig carries down a configuration.
type configWalk struct {
	v     *Value
	sc    *scope
	enver steps.ExpressionEnver
}

// decodeStep decodes n into a new value of the step type.
func decodeStep(info steps.Info, n *yaml.Node) (steps.Step, error) {
	st := info.New()
	rv := reflect.ValueOf(st)
	if rv.Kind() == reflect.Pointer {
		if err := n.Decode(st); err != nil {
			return nil, cleanYAMLError(err)
		}
		return st, nil
	}
	// A value type such as a map: decode through a pointer to a copy.
	ptr := reflect.New(rv.Type())
	ptr.Elem().Set(rv)
	if err := n.Decode(ptr.Interface()); err != nil {
		return nil, cleanYAMLError(err)
	}
	return ptr.Elem().Interface().(steps.Step), nil
}

func cleanYAMLError(err error) error {
	if te, ok := err.(*yaml.TypeError); ok {
		return fmt.Errorf("%s", strings.Join(te.Errors, "; "))
	}
	return err
}

// walkConfig checks node n against Go type t. path names the field in
// errors; at is where n sits in the value; fields lead from the decoded
// value to the field, nil once a mapping is crossed.
func (p *loader) walkConfig(w *configWalk, n *yaml.Node, t reflect.Type, path string, at cursor, fields []fieldStep) {
	n = deref(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	r := reachOf(t)
	if r == reachExpression {
		p.expressionField(w, n, path, at, fields)
		return
	}
	if n.Kind == yaml.ScalarNode && containsExpr(n.Value) && r == reachNone {
		p.errorf(n.Line, n.Column, "write it out: it decides which program runs, so it cannot come from inputs or data", "%s cannot hold an expression", path)
		return
	}
	if n.Kind == yaml.ScalarNode && containsExpr(n.Value) {
		tpl := p.addTemplate(w.v, n, w.sc, at, r)
		typed := r == reachValue && t.Kind() != reflect.String && t.Kind() != reflect.Interface
		if typed && tpl != nil && tpl.Single() == nil {
			p.errorf(n.Line, n.Column, "use a single ${{ }} to pass a typed value", "%s wants %s; text with expressions inside is a string", path, typeName(t))
		}
		if r == reachValue && tpl != nil {
			p.checkFieldType(tpl.Single(), t, path)
		}
		if r == reachShell && tpl != nil {
			p.checkShellQuotes(tpl)
		}
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textType) && t.Kind() != reflect.String {
		if !reflect.PointerTo(t).Implements(unmarshalerType) && n.Kind == yaml.ScalarNode {
			p.asText(n) // YAML gives a TextUnmarshaler the text as written
		}
		p.collect(w.v, n, w.sc, at)
		p.decodeScalar(n, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.errorf(n.Line, n.Column, "", "%s must be a mapping, not %s", path, kindName(n))
			return
		}
		byName := structFields(t)
		names := make([]string, 0, len(byName))
		for name := range byName {
			names = append(names, name)
		}
		sortStrings(names)
		seen := make(map[string]int)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p.asText(k)
			if line, dup := seen[k.Value]; dup {
				p.errorf(k.Line, k.Column, fmt.Sprintf("first defined at line %d", line), "duplicate key %q in %s", k.Value, path)
				continue
			}
			seen[k.Value] = k.Line
			f, ok := byName[k.Value]
			if !ok {
				detail := didYouMean(suggest.Closest(k.Value, names))
				if detail == "" {
					detail = "fields: " + strings.Join(names, ", ")
				}
				p.errorf(k.Line, k.Column, detail, "unknown field %q in %s", k.Value, path)
				continue
			}
			p.walkConfig(w, n.Content[i+1], f.Type, path+"."+k.Value, at.key(i+1, k.Value), stepInto(fields, fieldStep{field: f.Index}))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			p.errorf(n.Line, n.Column, "", "%s must be a mapping, not %s", path, kindName(n))
			return
		}
		seen := make(map[string]int)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if line, dup := seen[k.Value]; dup {
				p.errorf(k.Line, k.Column, fmt.Sprintf("first defined at line %d", line), "duplicate key %q in %s", k.Value, path)
				continue
			}
			seen[k.Value] = k.Line
			if t.Key().Kind() == reflect.String {
				p.asText(k) // YAML gives a string the text as written
			}
			p.decodeScalar(k, t.Key(), path+" key")
			p.walkConfig(w, n.Content[i+1], t.Elem(), path+"."+k.Value, at.key(i+1, k.Value), nil)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			p.errorf(n.Line, n.Column, "", "%s must be a list, not %s", path, kindName(n))
			return
		}
		for i, e := range n.Content {
			p.walkConfig(w, e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), at.index(i), stepInto(fields, fieldStep{elem: i}))
		}
	case reflect.Interface:
		p.freeForm(n)
		p.collect(w.v, n, w.sc, at)
	default:
		if n.Kind != yaml.ScalarNode {
			p.errorf(n.Line, n.Column, "", "%s must be %s, not %s", path, typeName(t), kindName(n))
			return
		}
		if t.Kind() == reflect.String {
			p.asText(n) // YAML gives a string the text as written
		}
		p.decodeScalar(n, t, path)
	}
}

// decodeScalar decodes n into a fresh t to report a type error at n.
func (p *loader) decodeScalar(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		if reflect.PointerTo(t).Implements(textType) && t.Kind() != reflect.String {
			// Its own parser says what it wants (a size, a policy).
			p.errorf(n.Line, n.Column, "", "%s: %v", path, err)
			return
		}
		p.errorf(n.Line, n.Column, "", "%s must be %s, not %s", path, typeName(t), kindName(n))
	}
}

// stepInto extends the way from the decoded value to a field; nil stays
// nil (the field sits in a mapping, out of reach).
func stepInto(fields []fieldStep, s fieldStep) []fieldStep {
	if fields == nil {
		return nil
	}
	return append(slices.Clip(fields), s)
}

// expressionField compiles a steps.Expression field and gives it a slot,
// with or without `${{ }}` in it: the step receives it compiled.
func (p *loader) expressionField(w *configWalk, n *yaml.Node, path string, at cursor, fields []fieldStep) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(n.Line, n.Column, "", "%s must be an expression, not %s", path, kindName(n))
		return
	}
	if fields == nil {
		p.errorf(n.Line, n.Column, "", "%s: an expression field cannot sit in a mapping", path)
		return
	}
	before := len(p.list)
	t := p.compiledTemplate(n, w.sc)
	if len(p.list) > before {
		return
	}
	var decl steps.ExpressionEnv
	if w.enver != nil {
		decl = w.enver.ExpressionEnv(at.path)
	}
	check := p.checkExpr(t, n, decl, at.path)
	if check == nil {
		return
	}
	w.v.add(&slot{path: at.path, tpl: t, reach: reachExpression, fields: fields, check: check}, at)
}

// structFields maps yaml names to fields (steps.ConfigFields).
func structFields(t reflect.Type) map[string]steps.ConfigField {
	out := make(map[string]steps.ConfigField)
	for _, f := range steps.ConfigFields(t) {
		out[f.Name] = f
	}
	return out
}

// typeName describes a Go type to a workflow author.
func typeName(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 500ms or 30s"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return "a " + t.String()
}
