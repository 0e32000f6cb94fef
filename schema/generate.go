package schema

import (
	"encoding"
	"encoding/json"
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// ID is the schema's $id.
const ID = "https://flowrun.dev/schema/workflow.schema.json"

type object = map[string]any

var (
	exprRef   = object{"$ref": "#/definitions/expression"}
	stringish = object{"type": "string"}
)

// orExpr accepts s or a single ${{ }} expression that yields the value.
func orExpr(s object) object { return object{"anyOf": []any{s, exprRef}} }

// Generate builds the schema of workflow format v1 for the step types in
// reg, as indented JSON with a trailing newline. Keys the generator has no
// specific shape for (a key just added to a list in pkg/spec) are accepted
// with any value, so the schema never rejects what flowrun accepts.
func Generate(reg *steps.Registry) ([]byte, error) {
	defs := object{
		"expression": object{
			"type":        "string",
			"pattern":     `^\s*\$\{\{[\s\S]*\}\}\s*$`,
			"description": "one ${{ }} expression, whose value has the field's type",
		},
		"workflow": workflowSchema(),
		"step":     stepSchema(reg),
		"parallel": keyed(spec.ParallelKeys, parallelProps(), nil),
		"input":    inputSchema(),
		"env": object{
			"type":                 "object",
			"propertyNames":        object{"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
			"additionalProperties": object{"type": []any{"string", "number", "boolean"}},
		},
	}
	s := object{
		"$schema":     "http://json-schema.org/draft-07/schema#",
		"$id":         ID,
		"title":       "flowrun workflow",
		"description": "A flowrun workflow file, format version 1.",
		"definitions": defs,
		"$ref":        "#/definitions/workflow",
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// keyed builds an object schema that allows exactly keys; props gives the
// shape of the keys it knows.
func keyed(keys []string, props object, required []string) object {
	p := object{}
	for _, k := range keys {
		if s, ok := props[k]; ok {
			p[k] = s
		} else {
			p[k] = object{}
		}
	}
	s := object{"type": "object", "properties": p, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func workflowSchema() object {
	stepList := object{"type": "array", "items": object{"$ref": "#/definitions/step"}}
	scalars := object{"type": "object", "additionalProperties": object{"type": []any{"string", "number", "boolean"}}}
	return keyed(spec.TopKeys, object{
		"version": object{"const": 1, "description": "the format version; always 1"},
		"name":    stringish,
		"inputs": object{
			"type":                 "object",
			"propertyNames":        object{"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
			"additionalProperties": object{"$ref": "#/definitions/input"},
		},
		"env":     object{"$ref": "#/definitions/env"},
		"steps":   merge(stepList, object{"minItems": 1}),
		"finally": stepList,
		"outputs": scalars,
	}, []string{"version", "steps"})
}

func inputSchema() object {
	in := keyed(spec.InputKeys, object{
		"type":        object{"enum": toAny(spec.InputTypes)},
		"required":    object{"type": "boolean"},
		"description": stringish,
		"secret":      object{"type": "boolean", "description": "mask the value as *** in everything flowrun writes"},
		"env": object{
			"type":        "string",
			"pattern":     "^[A-Za-z_][A-Za-z0-9_]*$",
			"description": "an environment variable that sets the input when --set does not",
		},
	}, nil)
	return object{"anyOf": []any{object{"type": "null"}, in}}
}

func parallelProps() object {
	count := orExpr(object{"type": "integer", "minimum": 1})
	return object{
		"items":    object{"anyOf": []any{object{"type": "array"}, exprRef}},
		"as":       object{"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
		"key":      stringish,
		"workers":  count,
		"on_error": object{"enum": []any{spec.OnErrorCancel, spec.OnErrorContinue}},
		"max_failures": object{"anyOf": []any{
			object{"type": "integer", "minimum": 0},
			object{"type": "string", "pattern": `^\s*\d+(\.\d+)?\s*%$`},
		}},
		"max_items": object{"type": "integer", "minimum": 1},
		"rate": object{"anyOf": []any{rateText, object{
			"type":                 "object",
			"properties":           object{"limit": rateText, "burst": object{"type": "integer", "minimum": 1}},
			"required":             []any{"limit"},
			"additionalProperties": false,
		}}},
		"duration": duration,
		"items_from": object{"anyOf": []any{
			object{"type": "string", "description": "a file, relative to the workflow file; may be ${{ }} over inputs and run"},
			object{"type": "object", "required": []any{"file"}, "properties": object{
				"file":   stringish,
				"format": object{"enum": []any{spec.FormatLines, spec.FormatJSONL, spec.FormatCSV}},
			}, "additionalProperties": false},
		}},
		"results":      object{"enum": []any{spec.ResultsAll, spec.ResultsFailures}},
		"results_file": stringish,
		"matrix":       matrixSchema(),
		"limit": object{"anyOf": []any{limit, object{"type": "array", "minItems": 1, "items": limit}},
			"description": "at most max items with the same key run at once, on top of workers"},
		"remote": object{"type": "boolean", "description": "false keeps the items in-process when the run uses a cluster"},
	}
}

// limit is one limit: mapping.
var limit = keyed(spec.LimitKeys, object{
	"key": object{"type": "string", "pattern": `\$\{\{`, "description": "an expression of the item, such as ${{ item.host }}"},
	"max": orExpr(object{"type": "integer", "minimum": 1}),
}, []string{"key", "max"})

// matrixSchema is a matrix: named axes (lists) plus include and exclude,
// lists of partial combinations.
func matrixSchema() object {
	name := object{"pattern": `^[A-Za-z_][A-Za-z0-9_-]*$`}
	combos := object{"anyOf": []any{object{"type": "array", "items": object{
		"type": "object", "minProperties": 1, "propertyNames": name,
	}}, exprRef}}
	return object{
		"type":                 "object",
		"description":          "the product of named axes, as GitHub Actions' strategy.matrix; include: extends or adds combinations, exclude: drops them",
		"minProperties":        1,
		"propertyNames":        name,
		"properties":           object{"include": combos, "exclude": combos},
		"additionalProperties": object{"anyOf": []any{object{"type": "array", "minItems": 1}, exprRef}},
	}
}

// rateText is a rate such as 200/s, 30/m or 1000/h.
var rateText = object{"type": "string", "pattern": `^\s*[^/\s]+\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$`}

var duration = object{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}

func stepSchema(reg *steps.Registry) object {
	props := object{
		"id":      object{"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
		"name":    stringish,
		"needs":   object{"anyOf": []any{stringish, object{"type": "array", "items": stringish}}},
		"if":      object{"type": []any{"string", "boolean"}, "description": "a condition, with or without ${{ }}; always(), success(), failure() and cancelled() decide whether the step runs after a failure or an interrupt"},
		"env":     object{"$ref": "#/definitions/env"},
		"timeout": duration,
		"retry": object{"anyOf": []any{
			object{"type": "integer", "minimum": 1},
			keyed(spec.RetryKeys, object{"attempts": object{"type": "integer", "minimum": 1}, "backoff": duration, "max_backoff": duration}, nil),
		}},
		"parallel": object{"$ref": "#/definitions/parallel"},
		"output":   object{"enum": toAny(spec.OutputFormats)},
		"uses":     object{"type": "string", "description": "a workflow file to run as this step"},
		"with":     object{"type": "object", "description": "the inputs of the workflow that uses: calls"},
	}
	keys := append([]string{}, spec.StepKeys...)
	actions := []any{object{"required": []any{"uses"}}}
	for _, info := range reg.List() {
		keys = append(keys, info.Type)
		props[info.Type] = configSchema(info)
		actions = append(actions, object{"required": []any{info.Type}})
	}
	s := keyed(keys, props, []string{"id"})
	s["oneOf"] = actions
	return s
}

// configSchema is the shape of a step type's configuration: its Go type,
// or the shorthand field's value alone.
func configSchema(info steps.Info) object {
	t := reflect.TypeOf(info.New())
	full := typeSchema(t, 0)
	alts := []any{object{"type": "null"}, full}
	if info.Shorthand != "" {
		for _, f := range steps.ConfigFields(t) {
			if f.Name == info.Shorthand {
				alts = append(alts, typeSchema(f.Type, 0))
			}
		}
	}
	s := object{"anyOf": alts}
	if info.Doc != "" {
		s["description"] = info.Doc
	}
	return s
}

var (
	scriptType      = reflect.TypeOf(steps.Script(""))
	expressionType  = reflect.TypeOf(steps.Expression{})
	durationType    = reflect.TypeOf(time.Duration(0))
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textType        = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	enumType        = reflect.TypeOf((*interface{ Enum() []any })(nil)).Elem()
)

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// typeSchema maps a Go type to the schema of its YAML form, as
// pkg/spec checks it: every typed field may also be one expression.
func typeSchema(t reflect.Type, depth int) object {
	t = deref(t)
	if depth > 10 {
		return object{}
	}
	switch {
	case t == durationType:
		return orExpr(duration)
	case t.Implements(enumType):
		// A type that lists its values: follow_redirects.
		return orExpr(object{"enum": reflect.Zero(t).Interface().(interface{ Enum() []any }).Enum()})
	case t == scriptType, t == expressionType, t.Kind() == reflect.String:
		return stringish
	case reflect.PointerTo(t).Implements(unmarshalerType), reflect.PointerTo(t).Implements(textType):
		return object{"type": []any{"string", "integer", "number"}}
	}
	switch t.Kind() {
	case reflect.Bool:
		return orExpr(object{"type": "boolean"})
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return orExpr(object{"type": "integer"})
	case reflect.Float32, reflect.Float64:
		return orExpr(object{"type": "number"})
	case reflect.Slice, reflect.Array:
		return orExpr(object{"type": "array", "items": typeSchema(t.Elem(), depth+1)})
	case reflect.Map:
		return orExpr(object{"type": "object", "additionalProperties": typeSchema(t.Elem(), depth+1)})
	case reflect.Struct:
		props := object{}
		for _, f := range steps.ConfigFields(t) {
			props[f.Name] = typeSchema(f.Type, depth+1)
		}
		return object{"type": "object", "properties": props, "additionalProperties": false}
	}
	return object{}
}

func merge(a, b object) object {
	out := object{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
