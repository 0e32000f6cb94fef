package spec

import (
	"reflect"
)

// kindClass groups Go kinds as a YAML field decodes them.
type kindClass int

const (
	classUnknown kindClass = iota
	classString
	classNumber
	classBool
	classList
	classMap
)

func classOf(t reflect.Type) kindClass {
	if t == nil {
		return classUnknown
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return classString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return classNumber
	case reflect.Bool:
		return classBool
	case reflect.Slice, reflect.Array:
		return classList
	case reflect.Map, reflect.Struct:
		return classMap
	}
	return classUnknown
}

// fits reports whether a value of class got can fill a field of class
// want, as the field decodes the value: a string field takes any scalar
// as its text, a duration (a number field) also a string such as "5s".
func fits(want, got kindClass, field reflect.Type) bool {
	switch {
	case want == classUnknown || got == classUnknown || want == got:
		return true
	case want == classString:
		return got == classNumber || got == classBool
	case want == classNumber && field == durationType:
		return got == classString
	}
	return false
}

// checkFieldType reports an expression that is a configuration field's
// whole value (a single ${{ }}, which keeps its type) when the type its
// value has, known when the file is loaded, cannot fill the field:
// `log: ${{ steps.a.outputs }}` puts a list into a string. Without this
// the step would fail on every run, after the steps before it.
func (p *loader) checkFieldType(x *Expr, field reflect.Type, path string) {
	if x == nil || x.program == nil {
		return
	}
	for field.Kind() == reflect.Pointer {
		field = field.Elem()
	}
	if reflect.PointerTo(field).Implements(unmarshalerType) || reflect.PointerTo(field).Implements(textType) && field.Kind() != reflect.String {
		return // it parses what it gets itself
	}
	got := x.program.Node().Type()
	want, have := classOf(field), classOf(got)
	if fits(want, have, field) {
		return
	}
	detail := "convert it in the expression, or read the part of it the field wants"
	if want == classString {
		detail = "turn it into text in the expression, such as toJSON(x) or join(x, \", \")"
	}
	p.errorf(x.Pos.Line, x.Pos.Column, detail, "%s wants %s; the expression gives %s", path, typeName(field), exprTypeName(got.String()))
}
