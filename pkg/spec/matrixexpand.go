package spec

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// MatrixValues is a matrix with its expressions evaluated: what Expand
// takes. Include and Exclude hold the entries as evaluated; each must be
// a map[string]any.
type MatrixValues struct {
	Names            []string
	Axes             [][]any
	Include, Exclude []any
}

// MatrixError is a matrix that cannot be expanded, naming the part at
// fault so that a caller can point at it: Part is "axis", "include",
// "exclude" or "" (the whole matrix); Axis and Value (an index in the
// axis) or Entry (an index in the list) and Key say where, when known
// (-1 and "" otherwise).
type MatrixError struct {
	Part         string
	Axis         string
	Value, Entry int
	Key          string
	Summary      string
	Detail       string
}

func (e *MatrixError) Error() string {
	if e.Detail == "" {
		return e.Summary
	}
	return e.Summary + " (" + e.Detail + ")"
}

func matrixErr(part string, entry int, key, summary, detail string) *MatrixError {
	return &MatrixError{Part: part, Value: -1, Entry: entry, Key: key, Summary: summary, Detail: detail}
}

// MaxMatrixWork bounds the combinations of a product times the include
// and exclude entries matched against each: a million combinations with
// a hundred entries, or a thousand with a hundred thousand, are expanded
// in about a second; more would look like a hang.
const MaxMatrixWork = 100_000_000

// Expansion is the combinations of a matrix, produced one at a time (Iter)
// so that a large product is never a list in memory: only the include
// entries added as combinations of their own are held.
type Expansion struct {
	names   []string
	axes    [][]any
	product int
	exclude []matrixFilter
	include []includeEntry
	added   []map[string]any
	// addedFrom is the include entry each added combination comes from.
	addedFrom []int
	n         int
	// ExcludeMatched and IncludeMatched say, entry by entry, whether it
	// matched a combination of the product (an include that matched none
	// is added as a combination of its own).
	ExcludeMatched, IncludeMatched []bool
}

// matrixFilter is an include or exclude entry as it selects combinations
// of the product: for each axis, which of its values the entry matches;
// nil where the entry does not name the axis.
type matrixFilter [][]bool

func (f matrixFilter) match(idx []int) bool {
	for a, ok := range f {
		if ok != nil && !ok[idx[a]] {
			return false
		}
	}
	return true
}

// includeEntry is an include entry: the axes it matches on, and the
// other keys it adds to the combinations it matches.
type includeEntry struct {
	filter matrixFilter
	extra  map[string]any
	whole  map[string]any
}

// Expand computes a matrix's combinations as GitHub Actions does
// (docs.github.com, "Running variations of jobs in a workflow"):
//
//  1. The product of the axes, the first axis outermost: [a1 b1], [a1
//     b2], [a2 b1], ...
//  2. exclude: drops every combination an entry matches. An entry names
//     axes only; it matches a combination when every value it gives
//     matches, partially: a mapping or list in an entry matches a value
//     that has at least its leaves at the same places.
//  3. include: each entry, in order, splits into the axes it names (its
//     filter) and its other keys. It is added to every remaining product
//     combination its filter matches — values of the axes are never
//     overwritten, but keys added by an earlier entry are. An entry that
//     matches no combination of the product is added as a new
//     combination, after the product, in the order of the entries.
//
// Values match when they are equal (numbers by value: 16 and 16.0);
// strings compare exactly, where GitHub Actions ignores case and
// converts "16" to 16.
//
// The product's size is checked against maxItems before anything is
// computed, so a product of long axes costs nothing; the final count is
// checked too. Every combination is matched against every entry, so the
// product times the entries is bounded too (MaxMatrixWork). With uniqueKeys (the block has no key: of its own), two
// combinations whose keys (Matrix.Key) would be equal are an error.
func Expand(m MatrixValues, maxItems int, uniqueKeys bool) (*Expansion, error) {
	x := &Expansion{names: m.Names, axes: m.Axes, product: 1}
	if len(m.Axes) == 0 {
		x.product = 0
	}
	for _, a := range m.Axes {
		x.product = mulCapped(x.product, len(a))
	}
	if x.product > maxItems {
		lens := make([]string, len(m.Axes))
		for i, a := range m.Axes {
			lens[i] = fmt.Sprint(len(a))
		}
		total := fmt.Sprint(x.product)
		if x.product == math.MaxInt {
			total = fmt.Sprintf("more than %d", math.MaxInt)
		}
		if len(lens) > 1 {
			total = strings.Join(lens, " × ") + " = " + total
		}
		return nil, matrixErr("", -1, "", fmt.Sprintf("the matrix has %s combinations before exclude, more than max_items %d", total, maxItems), "raise max_items if this many items is intended")
	}
	if entries := len(m.Include) + len(m.Exclude); entries > 0 && x.product > MaxMatrixWork/entries {
		return nil, matrixErr("", -1, "", fmt.Sprintf("the matrix has %d combinations and %d include and exclude entries to match against each, more than flowrun matches (%d)", x.product, entries, MaxMatrixWork),
			"compute the items in a step and pass them to items:, or use fewer entries")
	}
	if uniqueKeys {
		if err := x.distinctValues(); err != nil {
			return nil, err
		}
	}
	var err error
	if x.exclude, err = x.filters(m.Exclude, "exclude"); err != nil {
		return nil, err
	}
	if x.include, err = x.includes(m.Include); err != nil {
		return nil, err
	}
	x.count()
	for i, in := range x.include {
		if !x.IncludeMatched[i] {
			x.added = append(x.added, in.whole)
			x.addedFrom = append(x.addedFrom, i)
		}
	}
	x.n += len(x.added)
	if x.n > maxItems {
		return nil, matrixErr("", -1, "", fmt.Sprintf("the matrix has %d combinations, more than max_items %d", x.n, maxItems), "raise max_items if this many items is intended")
	}
	if uniqueKeys {
		if err := x.distinctAdded(); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// Len is the number of combinations.
func (x *Expansion) Len() int { return x.n }

// distinctValues checks that no axis lists two values with the same text:
// their combinations' keys would be equal.
func (x *Expansion) distinctValues() error {
	for a, vals := range x.axes {
		seen := make(map[string]int, len(vals))
		for j, v := range vals {
			t := Text(v)
			if first, dup := seen[t]; dup {
				return &MatrixError{Part: "axis", Axis: x.names[a], Value: j, Entry: -1,
					Summary: fmt.Sprintf("matrix axis %q lists %q twice (values %d and %d)", x.names[a], truncate(t, 40), first+1, j+1),
					Detail:  "an item's key is its combination: remove the repeat, or set key: to tell the items apart"}
			}
			seen[t] = j
		}
	}
	return nil
}

// filters builds the filters of exclude entries.
func (x *Expansion) filters(entries []any, what string) ([]matrixFilter, error) {
	out := make([]matrixFilter, len(entries))
	for i, e := range entries {
		entry, err := x.entry(e, i, what)
		if err != nil {
			return nil, err
		}
		out[i] = x.filter(entry)
	}
	return out, nil
}

// includes splits include entries into their filters and extra keys.
func (x *Expansion) includes(entries []any) ([]includeEntry, error) {
	out := make([]includeEntry, len(entries))
	for i, e := range entries {
		entry, err := x.entry(e, i, "include")
		if err != nil {
			return nil, err
		}
		in := includeEntry{filter: x.filter(entry), whole: entry, extra: map[string]any{}}
		for k, v := range entry {
			if !slices.Contains(x.names, k) {
				in.extra[k] = v
			}
		}
		out[i] = in
	}
	return out, nil
}

// entry checks one include or exclude entry by the rules the file's
// entries are checked by (checkComboKey).
func (x *Expansion) entry(e any, i int, what string) (map[string]any, error) {
	entry, ok := e.(map[string]any)
	if !ok {
		return nil, matrixErr(what, i, "", fmt.Sprintf("matrix %s entry %d must be a mapping, got %s", what, i+1, describeValue(e)), "")
	}
	if len(entry) == 0 {
		return nil, matrixErr(what, i, "", fmt.Sprintf("empty matrix %s entry %d", what, i+1), entryDetail(what))
	}
	for _, k := range slices.Sorted(maps.Keys(entry)) {
		if summary, detail := checkComboKey(what, k, x.names); summary != "" {
			return nil, matrixErr(what, i, k, fmt.Sprintf("entry %d: %s", i+1, summary), detail)
		}
	}
	return entry, nil
}

// filter is the axes part of an entry as a filter.
func (x *Expansion) filter(entry map[string]any) matrixFilter {
	f := make(matrixFilter, len(x.axes))
	for a, name := range x.names {
		want, ok := entry[name]
		if !ok {
			continue
		}
		f[a] = make([]bool, len(x.axes[a]))
		for j, v := range x.axes[a] {
			f[a][j] = matchValue(want, v)
		}
	}
	return f
}

// count walks the product once: how many combinations exclude leaves,
// and which entries matched any.
func (x *Expansion) count() {
	x.ExcludeMatched = make([]bool, len(x.exclude))
	x.IncludeMatched = make([]bool, len(x.include))
	idx := make([]int, len(x.axes))
	for range x.product {
		excluded := false
		for i, f := range x.exclude {
			if f.match(idx) {
				x.ExcludeMatched[i], excluded = true, true
			}
		}
		if !excluded {
			x.n++
			for i, in := range x.include {
				if !x.IncludeMatched[i] && in.filter.match(idx) {
					x.IncludeMatched[i] = true
				}
			}
		}
		x.advance(idx)
	}
}

// advance moves idx to the next combination of the product, the last
// axis fastest.
func (x *Expansion) advance(idx []int) {
	for a := len(idx) - 1; a >= 0; a-- {
		if idx[a]++; idx[a] < len(x.axes[a]) {
			return
		}
		idx[a] = 0
	}
}

func (x *Expansion) excluded(idx []int) bool {
	for _, f := range x.exclude {
		if f.match(idx) {
			return true
		}
	}
	return false
}

// combo builds the combination at idx of the product, with the keys of
// the include entries that match it.
func (x *Expansion) combo(idx []int) map[string]any {
	c := make(map[string]any, len(x.axes))
	for a, name := range x.names {
		c[name] = x.axes[a][idx[a]]
	}
	for _, in := range x.include {
		if in.filter.match(idx) {
			for k, v := range in.extra {
				c[k] = v
			}
		}
	}
	return c
}

// distinctAdded checks that the combinations include adds have keys of
// their own: unlike each other, and unlike the product's.
func (x *Expansion) distinctAdded() error {
	texts := make([]map[string]int, len(x.axes))
	for a, vals := range x.axes {
		texts[a] = make(map[string]int, len(vals))
		for j, v := range vals {
			texts[a][Text(v)] = j
		}
	}
	seen := make(map[string]bool, len(x.added))
	for i, c := range x.added {
		key := comboKey(x.names, c)
		clash := seen[key]
		if !clash {
			clash = x.productHas(key, c, texts)
		}
		if clash {
			entry := x.addedFrom[i]
			return matrixErr("include", entry, "", fmt.Sprintf("matrix include entry %d adds the combination %q, which the matrix has already", entry+1, key),
				"remove the repeat, or set key: to tell the items apart")
		}
		seen[key] = true
	}
	return nil
}

// productHas reports whether a combination the product keeps has key.
func (x *Expansion) productHas(key string, c map[string]any, texts []map[string]int) bool {
	if len(x.axes) == 0 {
		return false
	}
	idx := make([]int, len(x.axes))
	for a, name := range x.names {
		v, ok := c[name]
		if !ok {
			return false
		}
		j, ok := texts[a][Text(v)]
		if !ok {
			return false
		}
		idx[a] = j
	}
	return !x.excluded(idx) && comboKey(x.names, x.combo(idx)) == key
}

// MatrixIter yields an Expansion's combinations in order. It is not safe
// for concurrent use.
type MatrixIter struct {
	x     *Expansion
	idx   []int
	p     int // next position in the product
	added int // next added combination
}

// Iter returns an iterator over the combinations.
func (x *Expansion) Iter() *MatrixIter {
	return &MatrixIter{x: x, idx: make([]int, len(x.axes))}
}

// Next returns the next combination, a new map the caller owns (its
// values are shared), or false after the last.
func (it *MatrixIter) Next() (map[string]any, bool) {
	x := it.x
	for it.p < x.product {
		it.p++
		excluded := x.excluded(it.idx)
		var c map[string]any
		if !excluded {
			c = x.combo(it.idx)
		}
		x.advance(it.idx)
		if !excluded {
			return c, true
		}
	}
	if it.added < len(x.added) {
		it.added++
		return x.added[it.added-1], true
	}
	return nil, false
}
