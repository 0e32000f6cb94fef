package steps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unsafe"
)

// MemoryLimitError is the error of DecodeJSONLimit for a value that would
// take more memory than allowed.
type MemoryLimitError struct {
	// Need is what the value would take, estimated (JSONCost); Limit is
	// the bound it passes.
	Need, Limit int64
}

func (e *MemoryLimitError) Error() string {
	return fmt.Sprintf("the parsed value would take about %s of memory, more than the limit of %s", FormatSize(e.Need), FormatSize(e.Limit))
}

// MaxJSONDepth is the deepest nesting of lists and objects flowrun reads
// from JSON it is given (a response body, output: json, a jsonl item):
// far beyond any real document, and shallow enough that a report, a
// journal line or a worker's result, which put the value inside their
// own JSON, can still be written and read back (encoding/json stops at
// 10,000 levels). Deeper text is a *DepthError, found before decoding.
const MaxJSONDepth = 1000

// DepthError is the error for JSON nested deeper than MaxJSONDepth.
type DepthError struct{}

func (*DepthError) Error() string {
	return fmt.Sprintf("JSON nested more than %d levels deep (flowrun's limit, so that reports and journals can hold it)", MaxJSONDepth)
}

// CheckJSON scans text once for what flowrun refuses before decoding it:
// nesting beyond MaxJSONDepth (a *DepthError) and a value that would take
// more than limit bytes of memory (JSONCost; a *MemoryLimitError; limit
// <= 0: no bound). It does not validate.
func CheckJSON(text string, limit int64) error {
	if len(text) <= MaxJSONDepth && (limit <= 0 || int64(len(text))*maxCostPerByte <= limit) {
		// Too short to nest past the limit (a level takes a byte) or to
		// cost more than limit (maxCostPerByte): nothing to scan. Most
		// response bodies are.
		return nil
	}
	s := jsonScan{limit: limit}
	if !s.write(stringBytes(text)) {
		// Counted to the end, for the message.
		return &MemoryLimitError{Need: JSONCost(text, 0), Limit: limit}
	}
	s.end()
	if s.deepest > MaxJSONDepth {
		return &DepthError{}
	}
	return nil
}

// Costs, in bytes, of what encoding/json keeps when it decodes into an
// `any`: every value has a slot (in a list, whose array grows by
// doubling, or a map), a string or number is an allocation boxed in an
// interface (rounded up to the allocator's size class), a map is a
// header and, once it holds something, a group of 8 slots. They are
// upper bounds, checked against the heap in TestJSONCostBounds.
const (
	costValue       = 24  // a value's slot in its list or map
	costString      = 16  // a boxed string header, besides its bytes
	costNumber      = 16  // a boxed int or float, besides its text
	costArray       = 32  // a boxed slice header
	costEmptyObject = 48  // a map header
	costObject      = 320 // a map header and its first group of slots
	costMember      = 48  // a member's share of the map's table and growth

	// maxCostPerByte bounds JSONCost over the bytes of any text, JSON or
	// not: each cost is counted for a byte that starts what it costs —
	// an opening brace the most, costValue + costObject; a string, a
	// number or a word at most 41 a byte of its own — so a text costs at
	// most this many times its length (TestJSONCostPerByte).
	maxCostPerByte = costValue + costObject
)

// JSONCost estimates the memory the value DecodeJSON makes of text takes,
// in bytes, from one pass over the text without decoding it: a 64 MiB
// list of {"a":1} takes some 40 times its text, a list of long strings
// about its text. It stops counting once the estimate passes limit
// (limit <= 0: never) and returns it then. It does not validate: text
// that is not JSON costs what its JSON-looking parts would.
func JSONCost(text string, limit int64) int64 {
	s := jsonScan{limit: limit}
	s.write(stringBytes(text))
	return s.end()
}

// DecodeJSONLimit decodes exactly one JSON value from text as DecodeJSON
// does (flowrun's number policy), unless the value would take more than
// limit bytes of memory (JSONCost; limit <= 0: no limit): that is a
// *MemoryLimitError, found before anything is decoded. The text is read
// in place, and the elements of a top-level list or object are decoded
// one at a time, so that memory holds the text, the value and one
// element, never a copy of the whole text as json.Decoder.Decode makes.
func DecodeJSONLimit(text string, limit int64) (any, error) {
	return decodeLimited([][]byte{stringBytes(text)}, limit)
}

// DecodeJSON decodes the text as DecodeJSONLimit does, from its pieces:
// they are never joined into one string.
func (t Text) DecodeJSON(limit int64) (any, error) {
	return decodeLimited(t.pieces, limit)
}

func decodeLimited(pieces [][]byte, limit int64) (any, error) {
	var s jsonScan // to the end, so that the error says what it would take
	for _, p := range pieces {
		s.write(p)
	}
	need := s.end()
	if s.deepest > MaxJSONDepth {
		return nil, &DepthError{}
	}
	if limit > 0 && need > limit {
		return nil, &MemoryLimitError{Need: need, Limit: limit}
	}
	rs := make([]io.Reader, len(pieces))
	for i, p := range pieces {
		rs[i] = bytes.NewReader(p)
	}
	dec := json.NewDecoder(io.MultiReader(rs...))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	var v any
	switch tok {
	case json.Delim('['):
		list := make([]any, 0, s.elements())
		for dec.More() {
			var e any
			if err := dec.Decode(&e); err != nil {
				return nil, err
			}
			list = append(list, e)
		}
		v = list
	case json.Delim('{'):
		obj := make(map[string]any)
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			var e any
			if err := dec.Decode(&e); err != nil {
				return nil, err
			}
			obj[k.(string)] = e
		}
		v = obj
	default:
		v = tok
	}
	if _, isDelim := tok.(json.Delim); isDelim {
		if _, err := dec.Token(); err != nil { // the closing ] or }
			return nil, err
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("more than one JSON value")
		}
		return nil, err
	}
	return normalizeNumbers(v), nil
}

// jsonScan adds up JSONCost over text given in pieces; it also counts the
// elements of a top-level list, to size it.
type jsonScan struct {
	cost, limit  int64
	str, esc     bool  // in a string; after its backslash
	strLen       int64 // the string's bytes so far
	num          bool  // in a number
	numLen       int64
	word         bool // in true, false or null
	brace        bool // after {, before what follows it
	depth        int
	deepest      int  // the most depth reached
	commas       int  // at depth 1
	nonEmptyList bool // a value at depth 1
}

// write scans p; it returns false once the cost passed the limit.
func (s *jsonScan) write(p []byte) bool {
	for i := 0; i < len(p); i++ {
		if s.str {
			if s.esc {
				s.esc = false
				s.strLen++
				continue
			}
			k := bytes.IndexAny(p[i:], `"\`)
			if k < 0 {
				s.strLen += int64(len(p) - i)
				break
			}
			s.strLen += int64(k)
			i += k
			if p[i] == '\\' {
				s.esc = true
				s.strLen++
				continue
			}
			s.str = false
			n := s.strLen + 2 // and its quotes
			s.cost += costValue + costString + n + n/8
			continue
		}
		c := p[i]
		if s.num {
			if c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
				s.numLen++
				continue
			}
			s.num = false
			s.cost += costValue + costNumber + s.numLen
		}
		if s.word {
			if c >= 'a' && c <= 'z' {
				continue
			}
			s.word = false
		}
		if s.brace && c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			s.brace = false
			if c == '}' {
				s.cost += costValue + costEmptyObject
			} else {
				s.cost += costValue + costObject
			}
		}
		switch {
		case c == '"':
			s.str, s.strLen = true, 0
			s.value()
		case c == '{':
			s.brace = true
			s.value()
			s.depth++
			s.deepest = max(s.deepest, s.depth)
		case c == '[':
			s.cost += costValue + costArray
			s.value()
			s.depth++
			s.deepest = max(s.deepest, s.depth)
		case c == '}' || c == ']':
			s.depth--
		case c == ':':
			s.cost += costMember
		case c == ',' && s.depth == 1:
			s.commas++
		case c == '-' || c >= '0' && c <= '9':
			s.num, s.numLen = true, 1
			s.value()
		case c == 't' || c == 'f' || c == 'n':
			s.word = true
			s.cost += costValue
			s.value()
		}
		if s.limit > 0 && s.cost > s.limit {
			return false
		}
	}
	return s.limit <= 0 || s.cost <= s.limit
}

// value notes a value that starts at the current depth.
func (s *jsonScan) value() {
	if s.depth == 1 {
		s.nonEmptyList = true
	}
}

// end counts what the text ended in the middle of and returns the cost.
func (s *jsonScan) end() int64 {
	if s.num {
		s.num = false
		s.cost += costValue + costNumber + s.numLen
	}
	if s.brace {
		s.brace = false
		s.cost += costValue + costObject
	}
	return s.cost
}

// elements is the number of elements of a top-level list.
func (s *jsonScan) elements() int {
	if !s.nonEmptyList {
		return 0
	}
	return s.commas + 1
}

// stringBytes is s as bytes, without a copy, to be read only.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// FormatSize formats a byte count for a person: "64 MiB", "1.5 GiB",
// "512 bytes".
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<30))) + " GiB"
	case n >= 1<<20:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<20))) + " MiB"
	case n >= 1<<10:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<10))) + " KiB"
	}
	return fmt.Sprintf("%d bytes", n)
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }
