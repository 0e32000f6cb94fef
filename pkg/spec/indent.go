package spec

import (
	"fmt"
	"strings"
)

// misindented finds the first line, from line on, whose indentation
// matches no block that is open above it: deeper than a sibling key whose
// value is a plain scalar, or between two levels. YAML reports such a line
// as "mapping values are not allowed" or "did not find expected key",
// often at the line where the enclosing block starts, and names no
// column; the author's mistake is the indentation of this line.
//
// It returns the line, its indentation in spaces and a detail that says
// what the indentation should be, or 0 when every line fits.
func misindented(src []byte, from int) (line, indent int, detail string) {
	sl := newSourceLines(src)
	// open holds the indentations of the blocks enclosing the current
	// line, innermost last; opens is true when the last line can take a
	// deeper block (it ends with a colon, or is a list item).
	var open []int
	opens := true
	for n := 1; ; n++ {
		text, ok := sl.line(n)
		if !ok {
			return 0, 0, ""
		}
		trimmed := strings.TrimLeft(text, " ")
		if trimmed == "" || trimmed[0] == '#' || strings.HasPrefix(trimmed, "---") {
			continue
		}
		if trimmed[0] == '\t' {
			return 0, 0, "" // tabs have their own diagnostic
		}
		ind := len(text) - len(trimmed)
		for len(open) > 0 && open[len(open)-1] > ind {
			open = open[:len(open)-1]
		}
		top := -1
		if len(open) > 0 {
			top = open[len(open)-1]
		}
		if top < ind {
			if !opens && n >= from {
				return n, ind, indentDetail(ind, prevIndent(sl, n), top)
			}
			open = append(open, ind)
		}
		// A list item "- key: v" opens a mapping at the key's column.
		body := trimmed
		for strings.HasPrefix(body, "- ") {
			rest := strings.TrimLeft(body[2:], " ")
			open = append(open, len(text)-len(rest))
			body = rest
		}
		code := body
		if i := strings.Index(code, " #"); i >= 0 {
			code = code[:i]
		}
		code = strings.TrimRight(code, " ")
		// An unclosed flow collection or a trailing comma continues on
		// the next lines, at any indentation.
		depth := strings.Count(code, "{") + strings.Count(code, "[") - strings.Count(code, "}") - strings.Count(code, "]")
		opens = depth > 0 || strings.HasSuffix(code, ",") ||
			strings.HasSuffix(code, ":") || code == "-" || strings.HasSuffix(code, "|") ||
			strings.HasSuffix(code, ">") || strings.HasSuffix(code, "|-") || strings.HasSuffix(code, ">-")
		if strings.HasSuffix(code, "|") || strings.HasSuffix(code, ">") || strings.HasSuffix(code, "|-") || strings.HasSuffix(code, ">-") {
			// A block scalar: its lines are text, not structure.
			n = skipBlockScalar(sl, n, ind)
			opens = false
		}
	}
}

// indentDetail says how a misindented line should be indented: like the
// line above (a sibling), or like the enclosing level top.
func indentDetail(ind, prev, top int) string {
	if ind > prev {
		return fmt.Sprintf("this line is indented %d spaces, deeper than the line above, whose value is already complete; indent it %d spaces, like the line above", ind, prev)
	}
	if top < 0 || top == prev {
		return fmt.Sprintf("this line is indented %d spaces, which matches no block above it; indent it %d spaces, like the line above", ind, prev)
	}
	return fmt.Sprintf("this line is indented %d spaces, which matches no block above it; indent it %d spaces, like the line above, or %d", ind, prev, top)
}

// prevIndent is the indentation of the last non-blank line before n.
func prevIndent(sl *sourceLines, n int) int {
	for m := n - 1; m > 0; m-- {
		text, _ := sl.line(m)
		if t := strings.TrimLeft(text, " "); t != "" && t[0] != '#' {
			return len(text) - len(t)
		}
	}
	return 0
}

// skipBlockScalar returns the last line of the block scalar whose
// indicator is on line n, indented ind.
func skipBlockScalar(sl *sourceLines, n, ind int) int {
	last := n
	for m := n + 1; ; m++ {
		text, ok := sl.line(m)
		if !ok {
			return last
		}
		t := strings.TrimLeft(text, " ")
		if t == "" {
			continue
		}
		if len(text)-len(t) <= ind {
			return last
		}
		last = m
	}
}
