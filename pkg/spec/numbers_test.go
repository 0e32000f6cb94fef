package spec

import (
	"math"
	"math/big"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestNumbersOutOfRange: a number YAML's decoder would change — round, turn
// into text or into 0 — is an error at its position; numbers that fit,
// quoted ones and explicitly tagged ones are not.
func TestNumbersOutOfRange(t *testing.T) {
	for _, tc := range []struct {
		value, want string // want "" for no error
	}{
		{"123456789012345678901234567890", "the integer 123456789012345678901234567890 does not fit in 64 bits: YAML would round it to 1.2345678901234568e+29"},
		{"-9223372036854775809", "the integer -9223372036854775809 does not fit in 64 bits"},
		{"18446744073709551616", "the integer 18446744073709551616 does not fit in 64 bits"},
		{"1_000_000_000_000_000_000_000", "does not fit in 64 bits"},
		{"0xFFFFFFFFFFFFFFFFF", "the integer 0xFFFFFFFFFFFFFFFFF does not fit in 64 bits: YAML would take it for text"},
		{"1e400", "the number 1e400 is beyond the range of a 64-bit float: YAML would take it for text"},
		{"-1.5e999", "beyond the range of a 64-bit float"},
		{"1e-400", "the number 1e-400 is beyond the range of a 64-bit float: YAML would make it 0"},
		{"18446744073709551615", ""},
		{"-9223372036854775808", ""},
		{"9007199254740993", ""},
		{"0.1000000000000000055511151231257827", ""},
		{"1e308", ""},
		{"0e-400", ""},
		{"4e-324", ""},
		{"0x7fffffff", ""},
		{".inf", ""},
		{".nan", ""},
		{"'123456789012345678901234567890'", ""},
		{`"1e400"`, ""},
		{"!!str 123456789012345678901234567890", ""},
		{"!!int 0123", "the number 0123 starts with a zero, which YAML reads as the octal number 83"},
		{"!!float 0123", "which YAML reads as the float 83"},
		{"!!float 1e-400", "the number 1e-400 is beyond the range of a 64-bit float: YAML would make it 0"},
		{"!!float 08", ""},
		{"!!int 007", ""},
		{"!!float 123456789012345678901234567890", ""},
		{"0123", "the number 0123 starts with a zero, which YAML reads as the octal number 83: write it without the zero, or 0o123 for an octal number"},
		{"-0123", "YAML reads as the octal number -83: write it without the zero, or -0o123 for an octal number"},
		{"08080", "the number 08080 starts with a zero, which YAML reads as the float 8080: write it without the zero"},
		{"007", ""},
		{"00", ""},
		{"0o17", ""},
		{"01.5", ""},
		{"0XFFFFFFFFFFFFFFFFF", "the integer 0XFFFFFFFFFFFFFFFFF does not fit in 64 bits: YAML would take it for text"},
		{"-0B11111111111111111111111111111111111111111111111111111111111111111", "does not fit in 64 bits"},
		{"0O17777777777777777777777", "does not fit in 64 bits"},
		{"0X1F", ""},
		{"0x_", ""},
		{".5_0", ""},
		{"._5", "the number ._5 is one YAML would take for text"},
		{"1e4_00", "the number 1e4_00 is beyond the range of a 64-bit float: YAML would take it for text"},
		{"1e-4_00", "YAML would make it 0"},
		{"1e1_0", ""},
		{"1.2.3", ""},
		{"12abc", ""},
	} {
		t.Run(tc.value, func(t *testing.T) {
			_, ds := parse(t, `
version: 1
steps:
  - id: a
    set: {x: `+tc.value+`}
`)
			if tc.want == "" {
				if ds.HasErrors() {
					t.Fatalf("unexpected error:\n%v", ds)
				}
				return
			}
			if len(ds) != 1 || !strings.Contains(ds[0].Summary, tc.want) || ds[0].Pos.Line != 4 || ds[0].Pos.Column != 14 {
				t.Fatalf("diagnostics:\n%v\nwant one error at 4:14 saying %q", ds, tc.want)
			}
			if !strings.Contains(ds[0].Detail, "quote it") {
				t.Errorf("no fix in %q", ds[0].Detail)
			}
		})
	}
}

// TestNumbersOutOfRangeLong: a number is checked however long it is: YAML
// takes an integer of 20,000 digits for text and makes 0.000…1 zero.
func TestNumbersOutOfRangeLong(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{strings.Repeat("1", 20000), "does not fit in 64 bits: YAML would take it for text"},
		{"0." + strings.Repeat("0", 20000) + "1", "YAML would make it 0"},
	} {
		_, ds := parse(t, "version: 1\nsteps:\n  - id: a\n    set: {x: "+tc.value+"}\n")
		if len(ds) != 1 || !strings.Contains(ds[0].Summary, tc.want) {
			t.Errorf("%.20s…: diagnostics %v; want one saying %q", tc.value, ds, tc.want)
		}
	}
}

// TestNumbersOutOfRangeEverywhere: lists, inputs' defaults, with:, items:
// the whole document is checked, every number reported (a key of a set:
// is its text: TestNumbersReadAsText).
func TestNumbersOutOfRangeEverywhere(t *testing.T) {
	_, ds := parse(t, `
version: 1
inputs:
  id: {type: integer, default: 99999999999999999999}
steps:
  - id: a
    parallel: {items: [1, 123456789012345678901234567890]}
    set: {123456789012345678901234567891: x, list: [1e400]}
`)
	var at []string
	for _, d := range ds {
		if strings.Contains(d.Summary, "64") {
			at = append(at, d.Pos.String())
		}
	}
	if got, want := strings.Join(at, " "), "wf.yaml:3:32 wf.yaml:6:27 wf.yaml:7:53"; got != want {
		t.Errorf("errors at %s; want %s:\n%v", got, want, ds)
	}
}

// TestInputParseNumbersOutOfRange: --set of a list or an object holding an
// integer beyond 64 bits fails instead of rounding it.
func TestInputParseNumbersOutOfRange(t *testing.T) {
	in := &Input{Type: "list"}
	if _, err := in.Parse("[1, 123456789012345678901234567890]"); err == nil || !strings.Contains(err.Error(), "does not fit in 64 bits") {
		t.Errorf("Parse: %v; want the integer refused", err)
	}
	if v, err := in.Parse("[1, '123456789012345678901234567890']"); err != nil || len(v.([]any)) != 2 {
		t.Errorf("Parse of the quoted integer: %v, %v", v, err)
	}
}

// TestNumbersReadAsText: where flowrun takes a scalar's text as written —
// an env: or outputs: value, a string field of a step (a script, a URL),
// a name, a key of a set: — YAML's reading of it as a number changes
// nothing, and it is not an error: env: {ZIP: 01234} is "01234".
func TestNumbersReadAsText(t *testing.T) {
	w, ds := parse(t, `
version: 1
name: 0123
env:
  ZIP: 01234
  BIG: 123456789012345678901234567890
steps:
  - id: a
    run: 0755
    env: {TINY: 1e-400}
  - id: b
    http: {url: 1e400, method: 0xFFFFFFFFFFFFFFFFFFFF}
  - id: c
    set: {0123: x, 123456789012345678901234567890: y}
outputs:
  mode: 0755
`)
	if ds.HasErrors() {
		t.Fatalf("unexpected errors:\n%v", ds)
	}
	if w.Name != "0123" || w.Env[0].Value.Raw != "01234" || w.Env[1].Value.Raw != "123456789012345678901234567890" ||
		w.Steps[0].Env[0].Value.Raw != "1e-400" || w.Outputs[0].Value.Raw != "0755" {
		t.Errorf("name %q, env %q %q, step env %q, output %q", w.Name, w.Env[0].Value.Raw, w.Env[1].Value.Raw, w.Steps[0].Env[0].Value.Raw, w.Outputs[0].Value.Raw)
	}
	if st, _, err := w.Steps[0].Decode(nil, nil); err != nil || st.(*runStep).Script != "0755" {
		t.Errorf("run: %+v, %v", st, err)
	}
	if st, _, err := w.Steps[1].Decode(nil, nil); err != nil || st.(*httpStep).URL != "1e400" || st.(*httpStep).Method != "0xFFFFFFFFFFFFFFFFFFFF" {
		t.Errorf("http: %+v, %v", st, err)
	}
	if st, _, err := w.Steps[2].Decode(nil, nil); err != nil || st.(setStep)["0123"] != "x" || st.(setStep)["123456789012345678901234567890"] != "y" {
		t.Errorf("set: %+v, %v", st, err)
	}
}

// TestNumbersAnchoredText: a number read as text in one place but also,
// through an alias, as a value YAML types is still an error where it is
// written.
func TestNumbersAnchoredText(t *testing.T) {
	_, ds := parse(t, `
version: 1
env:
  ZIP: &zip 01234
steps:
  - id: a
    set: {zip: *zip}
`)
	if len(ds) != 1 || !strings.Contains(ds[0].Summary, "octal number 668") || ds[0].Pos.Line != 3 || ds[0].Pos.Column != 8 {
		t.Fatalf("diagnostics:\n%v\nwant one error at 3:8", ds)
	}
}

// TestInputLeadingZero: an integer or a number input given 08, which YAML
// reads as the float 8, is 8, as the input's type says; 010, which YAML
// reads as 8, is still an error, and its fix is not to quote it (a string
// is no integer). In a list, quoting is a fix.
func TestInputLeadingZero(t *testing.T) {
	for _, tc := range []struct {
		typ, in string
		want    any
		err     string
	}{
		{"integer", "08", 8, ""},
		{"integer", "-09", -9, ""},
		{"number", "08080", 8080.0, ""},
		{"integer", "010", nil, "which YAML reads as the octal number 8: write it without the zero, or 0o10 for an octal number"},
		{"list", "[08]", nil, "which YAML reads as the float 8: write it without the zero; quote it to pass it as a string"},
	} {
		v, err := (&Input{Name: "n", Type: tc.typ}).Parse(tc.in)
		switch {
		case tc.err == "" && (err != nil || v != tc.want):
			t.Errorf("%s %s: %#v, %v; want %#v", tc.typ, tc.in, v, err, tc.want)
		case tc.err != "" && (err == nil || !strings.HasSuffix(err.Error(), tc.err)):
			t.Errorf("%s %s: %#v, %v; want an error ending %q", tc.typ, tc.in, v, err, tc.err)
		}
	}
	w, ds := parse(t, `
version: 1
inputs:
  count: {type: integer, default: 08}
  rate: {type: number, default: 09}
steps:
  - id: a
    set: {x: 08}
`)
	if len(ds) != 1 || ds[0].Pos.Line != 7 || !strings.Contains(ds[0].Summary, "the float 8") {
		t.Fatalf("diagnostics:\n%v\nwant one, for the set: at line 7", ds)
	}
	if w.Inputs[0].Default != 8 || w.Inputs[1].Default != 9.0 {
		t.Errorf("defaults %#v, %#v", w.Inputs[0].Default, w.Inputs[1].Default)
	}
}

// TestExprFloatUnderflow: a float literal in an expression that a 64-bit
// float cannot hold but as 0 is an error at its column, as in YAML;
// 0.0e-400 is 0.
func TestExprFloatUnderflow(t *testing.T) {
	_, ds := parse(t, `
version: 1
steps:
  - id: a
    set: {x: "${{ 1 + 1e-400 }}", y: "${{ 0.0e-400 }}"}
`)
	if len(ds) != 1 || ds[0].Summary != "the number 1e-400 is below the smallest 64-bit float: it would be 0" || ds[0].Pos.Line != 4 || ds[0].Pos.Column != 23 {
		t.Fatalf("diagnostics:\n%v\nwant one error at 4:23", ds)
	}
}

// FuzzNumberOutOfRange checks NumberOutOfRange against YAML's decoder: a
// plain scalar written as a number that it lets through must decode to
// that number — an integer to the same integer, a float to the float64
// nearest to it (not 0, not infinite, not text).
func FuzzNumberOutOfRange(f *testing.F) {
	for _, s := range []string{"1", "-0", "007", "0123", "08", "1_000", "0x1F", "0XFF_FF", "0o17", "0b101", "-0b11",
		"1.5", ".5", "1e3", "1e400", "1e-400", "123456789012345678901234567890", "18446744073709551615", "._5", "+.5e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		want, isInt, ok := writtenNumber(text)
		if !ok {
			return
		}
		var doc yaml.Node
		if yaml.Unmarshal([]byte("x: "+text), &doc) != nil || len(doc.Content) == 0 || len(doc.Content[0].Content) != 2 {
			return
		}
		n := doc.Content[0].Content[1]
		if n.Kind != yaml.ScalarNode || n.Value != text || NumberOutOfRange(n) != "" {
			return
		}
		var v any
		if err := n.Decode(&v); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		var got big.Float
		switch v := v.(type) {
		case int:
			got.SetInt64(int64(v))
		case int64:
			got.SetInt64(v)
		case uint64:
			got.SetUint64(v)
		case float64:
			if isInt {
				t.Fatalf("%q, an integer, decodes to the float %v", text, v)
			}
			if math.IsInf(v, 0) || v == 0 && want.Sign() != 0 {
				t.Fatalf("%q decodes to %v", text, v)
			}
			f, _ := want.Float64()
			if f != v {
				t.Fatalf("%q decodes to %v, not %v", text, v, f)
			}
			return
		default:
			t.Fatalf("%q decodes to %T %v", text, v, v)
		}
		if got.Cmp(want) != 0 {
			t.Fatalf("%q decodes to %v, not %s", text, v, want.Text('g', 40))
		}
	})
}

// underscoresBetweenDigits reports whether every _ in s sits between two
// digits (or after a 0x, 0o, 0b prefix).
func underscoresBetweenDigits(s string) bool {
	radix := len(s) > 2 && s[0] == '0' && strings.ContainsRune("xXoObB", rune(s[1]))
	isDigit := func(c byte) bool {
		return c >= '0' && c <= '9' || radix && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '_' {
			continue
		}
		if i == 0 || i == len(s)-1 || !isDigit(s[i+1]) && s[i+1] != '_' || !isDigit(s[i-1]) && s[i-1] != '_' && !(i == 2 && radix) {
			return false
		}
	}
	return true
}

// writtenNumber is the number text says, read as a person reads it —
// decimal digits, 0x/0o/0b in either case, underscores between digits,
// a float's fraction and exponent — and whether it is an integer; ok is
// false for text that is no number (or a leading zero, which is either).
func writtenNumber(text string) (v *big.Float, isInt, ok bool) {
	plain := strings.ReplaceAll(text, "_", "")
	if plain == "" || len(text) > 1000 || !underscoresBetweenDigits(strings.TrimLeft(text, "+-")) {
		return nil, false, false
	}
	sign, digits := "", plain
	if digits[0] == '+' || digits[0] == '-' {
		sign, digits = digits[:1], digits[1:]
	}
	if len(digits) > 2 && digits[0] == '0' {
		base := map[byte]int{'x': 16, 'X': 16, 'o': 8, 'O': 8, 'b': 2, 'B': 2}[digits[1]]
		if base != 0 {
			i, ok := new(big.Int).SetString(sign+digits[2:], base)
			if !ok || strings.ContainsAny(digits[2:], "+-") {
				return nil, false, false
			}
			return new(big.Float).SetInt(i), true, true
		}
	}
	if len(digits) > 1 && digits[0] == '0' && digits[1] >= '0' && digits[1] <= '9' && !strings.ContainsAny(digits, ".eE") {
		return nil, false, false // 0123: octal or decimal, NumberOutOfRange's to judge
	}
	if digits == "" {
		return nil, false, false
	}
	if strings.Trim(digits, "0123456789") == "" {
		i, _ := new(big.Int).SetString(sign+digits, 10)
		return new(big.Float).SetInt(i), true, true
	}
	if !floatNumber.MatchString(sign+digits) || strings.HasPrefix(text, "._") {
		return nil, false, false
	}
	f, _, err := big.ParseFloat(sign+digits, 10, 2000, big.ToNearestEven)
	if err != nil {
		return nil, false, false
	}
	return f, false, true
}
