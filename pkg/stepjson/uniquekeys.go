package stepjson

import (
	"bytes"

	"github.com/flowrun/flowrun/pkg/steps"
)

// smallObject is the most keys of an object checked against each other
// one by one; a larger object's keys go in a map.
const smallObject = 16

// uniqueKeys reports whether no object of text has a key twice, and
// text nests at most steps.MaxJSONDepth deep. text must be valid JSON,
// ASCII without a backslash (plain), so that a string ends at the next
// quote. Decoding keeps the last of two equal
// keys, and the report writes that; text holding both would not read as
// the value it decodes to (and some JSON readers refuse it).
func uniqueKeys(text []byte) bool {
	_, ok := checkKeys(text)
	return ok
}

// checkKeys is uniqueKeys, also returning how deep text nests (0 for a
// value that is neither an object nor a list).
func checkKeys(text []byte) (depth int, ok bool) {
	type frame struct {
		object bool
		start  int                 // where its keys start in keys
		seen   map[string]struct{} // its keys, past smallObject of them
	}
	var stackBuf [8]frame
	var keyBuf [16][]byte
	stack, keys := stackBuf[:0], keyBuf[:0]
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '{', '[':
			if len(stack) == steps.MaxJSONDepth {
				return 0, false
			}
			stack = append(stack, frame{object: text[i] == '{', start: len(keys)})
			depth = max(depth, len(stack))
		case '}', ']':
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.object {
				keys = keys[:top.start]
			}
		case '"':
			n := bytes.IndexByte(text[i+1:], '"')
			if n < 0 {
				return 0, false // not the valid JSON it must be
			}
			s := text[i+1 : i+1+n]
			i += n + 1
			// A string followed by a colon is a key of the innermost object.
			j := i + 1
			for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r') {
				j++
			}
			if j == len(text) || text[j] != ':' || len(stack) == 0 {
				continue
			}
			f := &stack[len(stack)-1]
			if f.seen != nil {
				if _, dup := f.seen[string(s)]; dup {
					return 0, false
				}
				f.seen[string(s)] = struct{}{}
				continue
			}
			for _, k := range keys[f.start:] {
				if bytes.Equal(k, s) {
					return 0, false
				}
			}
			keys = append(keys, s)
			if len(keys)-f.start > smallObject {
				f.seen = make(map[string]struct{}, 2*smallObject)
				for _, k := range keys[f.start:] {
					f.seen[string(k)] = struct{}{}
				}
				keys = keys[:f.start]
			}
		}
	}
	return depth, true
}
