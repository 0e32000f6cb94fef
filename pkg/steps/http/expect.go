package http

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
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

// exprEnv declares the variables of an expect.json expression. A struct
// rather than a map gives body an interface type, so `body.items > 2`
// type-checks whatever the response turns out to hold.
type exprEnv struct {
	Body    any            `expr:"body"`
	Status  int            `expr:"status"`
	Headers map[string]any `expr:"headers"`
}

// program is a compiled expect.json expression. It is immutable and safe
// to run from many goroutines.
type program struct {
	src  string
	prog *vm.Program
}

type compiled struct {
	p   *program
	err error
}

// programs caches compiled expressions by source text: flowrun decodes and
// validates a step once per item, and an expression is the same text for
// every item unless it holds an item's value.
var (
	programs     sync.Map // string -> compiled
	programCount atomic.Int64
)

// maxPrograms bounds the cache for expressions that differ per item
// (`body.name == "${{ item }}"` over a million items); beyond it, they are
// compiled without being kept.
const maxPrograms = 4096

// maxExprLen bounds an expectation's length: the expression parser
// recurses once per nesting level, and a hostile file must get an error,
// not a stack overflow.
const maxExprLen = 16 << 10

func compile(src string) (*program, error) {
	if len(src) > maxExprLen {
		return nil, fmt.Errorf("expression is %d bytes long; the limit is %d", len(src), maxExprLen)
	}
	if c, ok := programs.Load(src); ok {
		return c.(compiled).p, c.(compiled).err
	}
	prog, err := expr.Compile(src, expr.Env(exprEnv{}), expr.AsBool())
	c := compiled{err: err}
	if err == nil {
		c.p = &program{src: src, prog: prog}
	}
	if programCount.Load() < maxPrograms {
		if _, loaded := programs.LoadOrStore(src, c); !loaded {
			programCount.Add(1)
		}
	}
	return c.p, c.err
}

// eval runs the expression; a result that is not true, or an error, is
// reported with the expression's text.
func (p *program) eval(env exprEnv) error {
	out, err := expr.Run(p.prog, env)
	if err != nil {
		return fmt.Errorf("expect.json %q: %v", p.src, err)
	}
	if ok, _ := out.(bool); !ok {
		return fmt.Errorf("expect.json %q is false", p.src)
	}
	return nil
}
