package steps

import (
	"encoding"
	"reflect"
	"strings"
	"time"
)

// Field is one configuration key of a step type, as `flowrun steps` and
// editors show it.
type Field struct {
	// Name is the key, dotted for a key of a nested mapping
	// ("expect.status").
	Name string `json:"name"`
	// Type describes the value a workflow writes: string, integer,
	// number, boolean, duration, script, list of T, mapping of T, mapping
	// or any.
	Type string `json:"type"`
}

// Fields lists the configuration keys of the step type, reflected from the
// value New returns and its `yaml` tags, in the order the Go type declares
// them; nested mappings follow their parent. A type that is not a struct
// (a map, say) has none: its keys are free.
func (i Info) Fields() []Field {
	if i.New == nil {
		return nil
	}
	var out []Field
	appendFields(&out, "", reflect.TypeOf(i.New()), 0)
	return out
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	scriptType   = reflect.TypeOf(Script(""))
	textType     = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// ConfigField is one key of the mapping a configuration type decodes from.
type ConfigField struct {
	Name string
	Type reflect.Type
	// Index leads from the configuration value to the field, as
	// reflect.Value.FieldByIndex takes it.
	Index []int
}

// ConfigFields returns the keys a value of type t decodes from, in the
// order the Go type declares them, by the rules flowrun's decoder (yaml v3)
// follows: a field's `yaml` tag name, else its lower-cased Go name; a field
// tagged ",inline" (embedded or not) contributes its own fields; unexported
// fields and those tagged "-" are left out. A type that is not a struct has none. flowrun's
// validation, `flowrun steps` and the JSON schema all read fields through
// it, so they cannot disagree.
func ConfigFields(t reflect.Type) []ConfigField {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []ConfigField
	for i := range t.NumField() {
		out = appendConfigField(out, t.Field(i))
	}
	return out
}

// appendConfigField appends the keys field f decodes from.
func appendConfigField(out []ConfigField, f reflect.StructField) []ConfigField {
	tag := f.Tag.Get("yaml")
	if !f.IsExported() && !f.Anonymous || tag == "-" {
		return out
	}
	name, opts, _ := strings.Cut(tag, ",")
	if strings.Contains(opts, "inline") {
		for _, in := range ConfigFields(f.Type) {
			in.Index = append([]int{f.Index[0]}, in.Index...)
			out = append(out, in)
		}
		return out
	}
	if !f.IsExported() {
		return out
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return append(out, ConfigField{Name: name, Type: f.Type, Index: []int{f.Index[0]}})
}

func appendFields(out *[]Field, prefix string, t reflect.Type, depth int) {
	if depth > 4 {
		return
	}
	for _, f := range ConfigFields(t) {
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		*out = append(*out, Field{Name: prefix + f.Name, Type: typeText(ft)})
		if ft.Kind() == reflect.Struct && !isText(ft) {
			appendFields(out, prefix+f.Name+".", ft, depth+1)
		}
	}
}

func isText(t reflect.Type) bool { return reflect.PointerTo(t).Implements(textType) }

// typeText names a Go type the way a workflow author writes its values.
func typeText(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return "duration"
	case t == scriptType:
		return "script"
	case isText(t):
		return "string"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "list of " + typeText(t.Elem())
	case reflect.Map:
		return "mapping of " + typeText(t.Elem())
	case reflect.Struct:
		return "mapping"
	}
	return "any"
}
