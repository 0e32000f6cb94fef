package http

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/flowrun/flowrun/pkg/steps"
)

// statusRule matches one status code, or a whole class when class is set
// (2 for "2xx").
type statusRule struct{ code, class int }

// statusSet is a parsed expect.status; a response passes when any rule
// matches.
type statusSet []statusRule

var defaultStatus = statusSet{{class: 2}}

// parseStatus reads expect.status: nil, a code, a class string or a list
// of codes and classes.
func parseStatus(v any) (statusSet, error) {
	if v == nil {
		return defaultStatus, nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("empty list; want codes or classes such as [200, \"3xx\"], or leave it out for 2xx")
	}
	set := make(statusSet, 0, len(list))
	for _, e := range list {
		r, err := parseStatusRule(e)
		if err != nil {
			return nil, err
		}
		set = append(set, r)
	}
	return set, nil
}

func parseStatusRule(v any) (statusRule, error) {
	bad := fmt.Errorf("%v is not a status: want a code from 100 to 599 or a class from \"1xx\" to \"5xx\"", v)
	var code int
	switch v := v.(type) {
	case int:
		code = v
	case int64:
		code = int(v)
	case uint64:
		code = int(min(v, math.MaxInt32))
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
			return statusRule{}, bad
		}
		code = int(v)
	case string:
		s := strings.ToLower(strings.TrimSpace(v))
		if len(s) == 3 && s[1:] == "xx" && '1' <= s[0] && s[0] <= '5' {
			return statusRule{class: int(s[0] - '0')}, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return statusRule{}, bad
		}
		code = n
	default:
		return statusRule{}, fmt.Errorf("got %T; want a status code such as 200 or a class such as \"2xx\"", v)
	}
	if code < 100 || code > 599 {
		return statusRule{}, bad
	}
	return statusRule{code: code}, nil
}

func (s statusSet) match(code int) bool {
	for _, r := range s {
		if r.code == code || r.class != 0 && code/100 == r.class {
			return true
		}
	}
	return false
}

// String renders the set for an error message: "2xx", "200 or 201",
// "200, 204 or 3xx".
func (s statusSet) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		if r.class != 0 {
			parts[i] = strconv.Itoa(r.class) + "xx"
		} else {
			parts[i] = strconv.Itoa(r.code)
		}
	}
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// expectJSON is the path of the expect.json field, as ExpressionEnv gets it.
const expectJSON = "expect.json"

// ExpressionEnv declares the variables of expect.json: the response's body
// (parsed when it is JSON, else a string; any type, so `body.items > 2`
// type-checks whatever the response turns out to hold), its status code
// and its headers (first values). The expression must yield a boolean.
func (h *HTTP) ExpressionEnv(path string) steps.ExpressionEnv {
	if path != expectJSON {
		return steps.ExpressionEnv{}
	}
	return steps.ExpressionEnv{
		Vars: map[string]any{"body": nil, "status": 0, "headers": map[string]any{}},
		Bool: true,
	}
}

// checkJSON runs expect.json over a response; a result that is not true,
// or an error, is reported with the expression's text.
func checkJSON(e steps.Expression, status int, headers map[string]any, body any) error {
	out, err := e.Eval(map[string]any{"body": body, "status": status, "headers": headers})
	if err != nil {
		return fmt.Errorf("expect.json %q: %v", e.Source, err)
	}
	if ok, _ := out.(bool); !ok {
		return fmt.Errorf("expect.json %q is false", e.Source)
	}
	return nil
}

var _ steps.ExpressionEnver = (*HTTP)(nil)

// response is what the checks read of a response.
type response struct {
	Body    any
	Status  int
	Headers map[string]any
}
