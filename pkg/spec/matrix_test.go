package spec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/spec"
)

// loadMatrix loads a one-step workflow whose parallel block is matrix
// (YAML, indented under `matrix:`) and returns the block.
func loadMatrix(t *testing.T, matrix string) (*spec.Parallel, spec.Diagnostics) {
	t.Helper()
	src := "version: 1\nsteps:\n  - id: fan\n    parallel:\n      matrix:\n" + indent(matrix, "        ") + "    log: hi\n"
	w, ds := spec.Parse("m.yaml", []byte(src), spec.Options{})
	if w == nil || len(w.Steps) == 0 {
		return nil, ds
	}
	return w.Steps[0].Parallel, ds
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = by + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// combos expands a loaded matrix.
func combos(t *testing.T, b *spec.Parallel) ([]map[string]any, []string) {
	t.Helper()
	mv, err := b.Matrix.Eval(map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := spec.Expand(mv, b.MaxItems, true)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	var keys []string
	for it := x.Iter(); ; {
		c, ok := it.Next()
		if !ok {
			break
		}
		out = append(out, c)
		keys = append(keys, b.Matrix.Key(c))
	}
	if len(out) != x.Len() {
		t.Errorf("Len %d; iterated %d", x.Len(), len(out))
	}
	if b.StaticCount != x.Len() {
		t.Errorf("StaticCount %d; want %d", b.StaticCount, x.Len())
	}
	return out, keys
}

type m = map[string]any

// TestMatrixGitHubSemantics expands the matrices of GitHub Actions'
// documentation ("Running variations of jobs in a workflow") and the edge
// cases of its include/exclude rules, and checks the combinations in
// order.
func TestMatrixGitHubSemantics(t *testing.T) {
	for _, tc := range []struct {
		name, matrix string
		want         []map[string]any
	}{
		{
			// The documentation's worked include example, in its order.
			name: "include extends and adds",
			matrix: `fruit: [apple, pear]
animal: [cat, dog]
include:
  - color: green
  - color: pink
    animal: cat
  - fruit: apple
    shape: circle
  - fruit: banana
  - fruit: banana
    animal: cat
`,
			want: []map[string]any{
				{"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
				{"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
				{"fruit": "pear", "animal": "cat", "color": "pink"},
				{"fruit": "pear", "animal": "dog", "color": "green"},
				{"fruit": "banana"},
				{"fruit": "banana", "animal": "cat"},
			},
		},
		{
			name: "expanding a configuration",
			matrix: `os: [windows-latest, ubuntu-latest]
node: [14, 16]
include:
  - {os: windows-latest, node: 16, npm: 6}
`,
			want: []map[string]any{
				{"os": "windows-latest", "node": 14},
				{"os": "windows-latest", "node": 16, "npm": 6},
				{"os": "ubuntu-latest", "node": 14},
				{"os": "ubuntu-latest", "node": 16},
			},
		},
		{
			name: "adding a configuration",
			matrix: `os: [macos, windows]
version: [12, 14]
include:
  - {os: windows, version: 17}
`,
			want: []map[string]any{
				{"os": "macos", "version": 12}, {"os": "macos", "version": 14},
				{"os": "windows", "version": 12}, {"os": "windows", "version": 14},
				{"os": "windows", "version": 17},
			},
		},
		{
			name: "include only",
			matrix: `include:
  - {site: production, datacenter: site-a}
  - {site: staging, datacenter: site-b}
`,
			want: []map[string]any{
				{"site": "production", "datacenter": "site-a"},
				{"site": "staging", "datacenter": "site-b"},
			},
		},
		{
			// Nine of twelve: one full match and two partial ones dropped.
			name: "exclude partial matches",
			matrix: `os: [macos, windows]
version: [12, 14, 16]
environment: [staging, production]
exclude:
  - {os: macos, version: 12, environment: production}
  - {os: windows, version: 16}
`,
			want: []map[string]any{
				{"os": "macos", "version": 12, "environment": "staging"},
				{"os": "macos", "version": 14, "environment": "staging"},
				{"os": "macos", "version": 14, "environment": "production"},
				{"os": "macos", "version": 16, "environment": "staging"},
				{"os": "macos", "version": 16, "environment": "production"},
				{"os": "windows", "version": 12, "environment": "staging"},
				{"os": "windows", "version": 12, "environment": "production"},
				{"os": "windows", "version": 14, "environment": "staging"},
				{"os": "windows", "version": 14, "environment": "production"},
			},
		},
		{
			// Include is processed after exclude: it adds an excluded
			// combination back, at the end.
			name: "include adds back what exclude dropped",
			matrix: `a: [1, 2]
b: [3, 4]
exclude:
  - {a: 1, b: 3}
include:
  - {a: 1, b: 3, c: back}
`,
			want: []map[string]any{
				{"a": 1, "b": 4}, {"a": 2, "b": 3}, {"a": 2, "b": 4},
				{"a": 1, "b": 3, "c": "back"},
			},
		},
		{
			// An include never extends an excluded combination: it was
			// not there to match.
			name: "include matching only excluded combinations adds one",
			matrix: `a: [1, 2]
exclude:
  - {a: 1}
include:
  - {a: 1, x: y}
  - {a: 2, x: z}
`,
			want: []map[string]any{{"a": 2, "x": "z"}, {"a": 1, "x": "y"}},
		},
		{
			// Original values are never overwritten; an added value is,
			// by a later entry.
			name: "later include overwrites added values only",
			matrix: `a: [1, 2]
include:
  - {x: first}
  - {a: 2, x: second}
`,
			want: []map[string]any{{"a": 1, "x": "first"}, {"a": 2, "x": "second"}},
		},
		{
			// An include naming only axes, matching, adds nothing and no
			// combination.
			name: "include of axes only that matches",
			matrix: `a: [1, 2]
include:
  - {a: 2}
`,
			want: []map[string]any{{"a": 1}, {"a": 2}},
		},
		{
			// Filters match leaf by leaf: a mapping in an entry matches a
			// value holding at least its leaves.
			name: "nested values match partially",
			matrix: `versions:
  - {node: 12, npm: 6}
  - {node: 14, npm: 7}
exclude:
  - versions: {node: 12}
`,
			want: []map[string]any{{"versions": m{"node": 14, "npm": 7}}},
		},
		{
			name: "numbers compare by value",
			matrix: `node: [16, 18]
exclude:
  - {node: 16.0}
`,
			want: []map[string]any{{"node": 18}},
		},
		{
			name: "the first axis is outermost",
			matrix: `x: [a, b]
y: [1, 2, 3]
`,
			want: []map[string]any{
				{"x": "a", "y": 1}, {"x": "a", "y": 2}, {"x": "a", "y": 3},
				{"x": "b", "y": 1}, {"x": "b", "y": 2}, {"x": "b", "y": 3},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ds := loadMatrix(t, tc.matrix)
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			got, _ := combos(t, b)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("combinations (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMatrixKey checks the default key: axes in order, then added keys by
// name, values as text with \ , and = escaped.
func TestMatrixKey(t *testing.T) {
	b, ds := loadMatrix(t, `os: [windows, "a,b=c\\d"]
node: [16]
include:
  - {os: windows, npm: 6, arch: x64}
  - {extra: [1, 2]}
`)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	_, keys := combos(t, b)
	want := []string{
		`os=windows,node=16,arch=x64,extra=[1\,2],npm=6`,
		`os=a\,b\=c\\d,node=16,extra=[1\,2]`,
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

// TestMatrixExpandErrors checks matrices that cannot be expanded, from
// data an expression could yield, with the part at fault named.
func TestMatrixExpandErrors(t *testing.T) {
	long := make([]any, 100_000)
	for i := range long {
		long[i] = i
	}
	for _, tc := range []struct {
		name   string
		mv     spec.MatrixValues
		max    int
		unique bool
		want   string
		part   string
		entry  int
	}{
		{name: "product beyond max_items", mv: spec.MatrixValues{Names: []string{"a", "b", "c"}, Axes: [][]any{long, long, long}},
			max: 1_000_000, want: "the matrix has 100000 × 100000 × 100000 = 1000000000000000 combinations before exclude, more than max_items 1000000"},
		{name: "product overflowing int", mv: spec.MatrixValues{Names: []string{"a", "b", "c", "d", "e"}, Axes: [][]any{long, long, long, long, long}},
			max: 1_000_000, want: "more than 9223372036854775807 combinations before exclude"},
		{name: "too many entries to match", mv: spec.MatrixValues{Names: []string{"a", "b"}, Axes: [][]any{long, long[:100]}, Exclude: make([]any, 1001)},
			max: 1_000_000_000, want: "the matrix has 10000000 combinations and 1001 include and exclude entries to match against each, more than flowrun matches (100000000)"},
		{name: "includes beyond max_items", mv: spec.MatrixValues{Names: []string{"a"}, Axes: [][]any{{1, 2}}, Include: []any{m{"a": 3}}},
			max: 2, want: "the matrix has 3 combinations, more than max_items 2"},
		{name: "repeated value", mv: spec.MatrixValues{Names: []string{"a"}, Axes: [][]any{{"x", "y", "x"}}},
			max: 10, unique: true, want: `matrix axis "a" lists "x" twice (values 1 and 3)`, part: "axis", entry: -1},
		{name: "values with one text", mv: spec.MatrixValues{Names: []string{"a"}, Axes: [][]any{{1, "1"}}},
			max: 10, unique: true, want: `lists "1" twice`, part: "axis", entry: -1},
		{name: "added twice", mv: spec.MatrixValues{Names: []string{"a"}, Axes: [][]any{{1}}, Include: []any{m{"a": 2}, m{"a": 2}}},
			max: 10, unique: true, want: `matrix include entry 2 adds the combination "a=2", which the matrix has already`, part: "include", entry: 1},
		{name: "added with a product key", mv: spec.MatrixValues{Names: []string{"a"}, Axes: [][]any{{1}}, Include: []any{m{"a": "1"}}},
			max: 10, unique: true, want: `adds the combination "a=1"`, part: "include", entry: 0},
		{name: "exclude key not an axis", mv: spec.MatrixValues{Names: []string{"region"}, Axes: [][]any{{"eu"}}, Exclude: []any{m{"regoin": "eu"}}},
			max: 10, want: `entry 1: matrix exclude key "regoin" is not an axis (did you mean "region"?)`, part: "exclude", entry: 0},
		{name: "empty entry", mv: spec.MatrixValues{Names: []string{"a"}, Axes: [][]any{{1}}, Include: []any{m{}}},
			max: 10, want: "empty matrix include entry 1", part: "include", entry: 0},
		{name: "entry not a mapping", mv: spec.MatrixValues{Names: []string{"a"}, Axes: [][]any{{1}}, Exclude: []any{"a"}},
			max: 10, want: "matrix exclude entry 1 must be a mapping, got string a", part: "exclude", entry: 0},
		{name: "bad include key", mv: spec.MatrixValues{Names: []string{"a"}, Axes: [][]any{{1}}, Include: []any{m{"a=b": 1}}},
			max: 10, want: `invalid matrix include key "a=b"`, part: "include", entry: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := spec.Expand(tc.mv, tc.max, tc.unique)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want an error containing %q", err, tc.want)
			}
			var me *spec.MatrixError
			if !errors.As(err, &me) {
				t.Fatalf("got %T; want a *spec.MatrixError", err)
			}
			if me.Part != tc.part || tc.part != "" && me.Entry != tc.entry {
				t.Errorf("part %q entry %d; want %q %d", me.Part, me.Entry, tc.part, tc.entry)
			}
		})
	}
}

// TestMatrixDuplicatesWithKey allows repeated values when the block
// names its own key.
func TestMatrixDuplicatesWithKey(t *testing.T) {
	mv := spec.MatrixValues{Names: []string{"a"}, Axes: [][]any{{"x", "x"}}}
	x, err := spec.Expand(mv, 10, false)
	if err != nil || x.Len() != 2 {
		t.Fatalf("got %v, %v; want 2 combinations", x, err)
	}
}

// TestMatrixHugeIntegers compares integers beyond 2^53 exactly.
func TestMatrixHugeIntegers(t *testing.T) {
	const big = 1<<53 + 1
	mv := spec.MatrixValues{Names: []string{"n"}, Axes: [][]any{{big, big - 1}}, Exclude: []any{m{"n": float64(1 << 53)}}}
	x, err := spec.Expand(mv, 10, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	for it := x.Iter(); ; {
		c, ok := it.Next()
		if !ok {
			break
		}
		got = append(got, c["n"])
	}
	if diff := cmp.Diff([]any{big}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
