package spec_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/pkg/spec"
)

// hostile returns inputs built to hurt a parser: each must come back as
// diagnostics, never as a panic, a stack overflow or a hang.
func hostile() map[string]string {
	step := func(expr string) string {
		return "version: 1\nsteps:\n  - id: a\n    set:\n      x: ${{ " + expr + " }}\n"
	}
	var many strings.Builder
	many.WriteString("version: 1\nsteps:\n")
	for i := range 20000 {
		fmt.Fprintf(&many, "  - id: s%d\n    run: echo ${{ steps.s%d.output }}\n", i, max(i-1, 1))
	}
	bomb := "version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 1; i < 9; i++ {
		bomb += fmt.Sprintf("a%d: &a%d [%s]\n", i, i, strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9)+fmt.Sprintf("*a%d", i-1))
	}
	return map[string]string{
		"parens":         step(strings.Repeat("(", 1_000_000) + "1" + strings.Repeat(")", 1_000_000)),
		"unary chain":    step(strings.Repeat("-", 1_000_000) + "1"),
		"not chain":      step(strings.Repeat("not ", 4000) + "true"),
		"nested lists":   step(strings.Repeat("[", 5000) + strings.Repeat("]", 5000)),
		"huge integer":   step(strings.Repeat("9", 10000)),
		"huge float":     step("1e999999"),
		"long string":    step(`"` + strings.Repeat("a", 2_000_000) + `"`),
		"long sum":       step(strings.Repeat("1+", 8000) + "1"),
		"http deep json": "version: 1\nsteps:\n  - id: a\n    http:\n      url: http://127.0.0.1\n      expect:\n        json: \"" + strings.Repeat("(", 1_000_000) + "true" + strings.Repeat(")", 1_000_000) + "\"\n",
		"alias bomb":     bomb + "steps: []\n",
		"deep yaml":      "version: 1\nsteps:\n  - id: a\n    set:\n      x: " + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + "\n",
		"deep yaml maps": "version: 1\nsteps:\n  - id: a\n    set:\n      x: " + strings.Repeat("{a: ", 9000) + "1" + strings.Repeat("}", 9000) + "\n",
		"many steps":     many.String(),
		"nul bytes":      "version: 1\x00\nsteps: []\n",
		"only a scalar":  "hello",
		"null document":  "~",
		"unclosed":       "version: 1\nsteps:\n  - id: a\n    run: echo ${{ \"}}\" ",
	}
}

func TestHostileInput(t *testing.T) {
	for name, src := range hostile() {
		t.Run(name, func(t *testing.T) {
			w, ds := spec.Parse("hostile.yaml", []byte(src), spec.Options{})
			if w == nil && !ds.HasErrors() {
				t.Fatal("got no workflow and no error")
			}
			if name != "many steps" && !ds.HasErrors() {
				t.Errorf("got no error; want one")
			}
			ds.Format(io.Discard, map[string][]byte{"hostile.yaml": []byte(src)})
		})
	}
}

func TestLoadTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, bytes.Repeat([]byte("# padding\n"), spec.MaxFileSize/10+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, ds := spec.Load(path, spec.Options{})
	if !ds.HasErrors() || !strings.Contains(ds.Error(), "file too large: the limit is 8 MiB") {
		t.Errorf("got %v; want a file size error", ds)
	}
}

// FuzzParse feeds the parser and the expression compiler arbitrary files,
// seeded with every sample and example: whatever the input, Parse returns
// diagnostics with positions and never panics.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/invalid/*.yaml", "testdata/valid/*.yaml", "../../examples/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, path := range files {
			src, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			if len(src) < 64<<10 {
				f.Add(src)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		w, ds := spec.Parse("fuzz.yaml", src, spec.Options{})
		if w == nil && !ds.HasErrors() {
			t.Fatal("got no workflow and no error")
		}
		for _, d := range ds {
			if d.Line < 0 || d.Column < 0 || d.Summary == "" {
				t.Fatalf("malformed diagnostic %#v", d)
			}
		}
		ds.Format(io.Discard, map[string][]byte{"fuzz.yaml": src})
	})
}

// FuzzExpr puts arbitrary text inside ${{ }} in every kind of scalar, so
// that the fuzzer spends its time in the expression compiler and in
// mapping positions through YAML's quoting.
func FuzzExpr(f *testing.F) {
	for _, s := range []string{
		"steps.a.output", "inputs.n + 1", "1..10", `"a" + 'b'`, "item.name", "steps.a.summary.failed == 0",
		"[1, 2, {a: 3}]", "len(steps.a.outputs) > 0 ? 1 : 2", "steps[inputs.s].status", "-(-(1))", "1e308 * 10",
		"ma\tp", "\"}}\"", "'\\''", "not true",
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, expr string, style uint8) {
		var value string
		switch style % 4 {
		case 0:
			value = "${{ " + expr + " }}"
		case 1:
			value = `"${{ ` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(expr) + ` }}"`
		case 2:
			value = "'${{ " + strings.NewReplacer("'", "''", "\n", " ").Replace(expr) + " }}'"
		default:
			value = "|\n        ${{ " + strings.ReplaceAll(expr, "\n", "\n        ") + " }}"
		}
		src := "version: 1\ninputs:\n  n: {type: integer}\n  s: {type: string}\nsteps:\n  - id: a\n    run: echo\n" +
			"  - id: b\n    parallel: {items: [1, 2]}\n    if: " + value + "\n    set:\n      x: " + value + "\n"
		w, ds := spec.Parse("fuzz.yaml", []byte(src), spec.Options{})
		if w == nil && !ds.HasErrors() {
			t.Fatal("got no workflow and no error")
		}
		ds.Format(io.Discard, map[string][]byte{"fuzz.yaml": []byte(src)})
	})
}
