package spec

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Numbers YAML cannot hold. A plain scalar written as a number reaches a
// step through YAML's decoder, which keeps integers in 64 bits and floats
// in float64 — and past those it changes the value without a word: an
// integer beyond 64 bits becomes a rounded float (123456789012345678901234567890
// becomes 1.2345678901234568e+29), a float beyond float64's range becomes
// text ("1e400"), a hexadecimal integer too, and 1e-400 becomes 0. flowrun
// refuses them where they are written instead.
var (
	wholeNumber = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)
	leadingZero = regexp.MustCompile(`^[-+]?0[0-9_]*[0-9][0-9_]*$`)
	floatNumber = regexp.MustCompile(`^[-+]?(\.[0-9_]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9][0-9_]*)?$`)
	radixNumber = regexp.MustCompile(`^[-+]?0([xX][0-9a-fA-F_]*[0-9a-fA-F][0-9a-fA-F_]*|[oO][0-7_]*[0-7][0-7_]*|[bB][01_]*[01][01_]*)$`)
)

// NumberOutOfRange returns why the plain scalar n, read as a number,
// cannot be held as written — an integer beyond 64 bits, a float beyond
// float64's range either way, a leading zero YAML reads as octal — or ""
// when it can (or is no number, or is quoted or tagged !!str: then the
// writer chose text). A scalar tagged !!int or !!float is checked for
// what YAML still changes in it: !!int 0123 is 83, !!float 1e-400 is 0.
func NumberOutOfRange(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || n.Style&^(yaml.FlowStyle|yaml.TaggedStyle) != 0 {
		return ""
	}
	text := n.Value
	tag := n.ShortTag()
	if n.Style&yaml.TaggedStyle != 0 && tag != "!!int" && tag != "!!float" {
		return ""
	}
	if leadingZero.MatchString(text) {
		// YAML 1.1's octal: 0123 is 83, 08080 the float 8080.
		decimal, err := strconv.ParseInt(strings.ReplaceAll(text, "_", ""), 10, 64)
		var v any
		if n.Decode(&v) == nil && err == nil && (v == int(decimal) || n.Style&yaml.TaggedStyle != 0 && v == float64(decimal)) {
			return "" // 007 is 7 either way, !!float 08 the float 8
		}
		digits := strings.TrimLeft(strings.TrimLeft(text, "+-"), "0_")
		octal := ""
		if !strings.ContainsAny(digits, "89") {
			octal = fmt.Sprintf(", or %s0o%s for an octal number", strings.TrimRight(text[:len(text)-len(strings.TrimLeft(text, "+-"))], "+"), digits)
		}
		return fmt.Sprintf("the number %s starts with a zero, which YAML reads as %s: write it without the zero%s", truncate(text, 40), decodedText(n), octal)
	}
	if n.Style&yaml.TaggedStyle != 0 {
		if tag == "!!float" && floatNumber.MatchString(text) && !zeroMantissa(text) {
			if f, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64); err == nil && f == 0 {
				return fmt.Sprintf("the number %s is beyond the range of a 64-bit float: YAML would make it 0", truncate(text, 40))
			}
		}
		return "" // !!float 123456789012345678901234567890: a float was asked for
	}
	switch tag {
	case "!!float":
		if wholeNumber.MatchString(text) {
			return fmt.Sprintf("the integer %s does not fit in 64 bits: YAML would round it to %s", truncate(text, 40), roundedText(text))
		}
		if floatNumber.MatchString(text) {
			if f, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64); errors.Is(err, strconv.ErrRange) || f == 0 && !zeroMantissa(text) {
				return fmt.Sprintf("the number %s is beyond the range of a 64-bit float: YAML would make it %s", truncate(text, 40), roundedText(text))
			}
		}
	case "!!str":
		switch {
		case wholeNumber.MatchString(text), radixNumber.MatchString(text):
			return fmt.Sprintf("the integer %s does not fit in 64 bits: YAML would take it for text", truncate(text, 40))
		case floatNumber.MatchString(text):
			if _, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64); err == nil {
				// ._5: YAML reads an underscore only between digits.
				return fmt.Sprintf("the number %s is one YAML would take for text", truncate(text, 40))
			}
			return fmt.Sprintf("the number %s is beyond the range of a 64-bit float: YAML would take it for text", truncate(text, 40))
		}
	}
	return ""
}

// SameAsDecimal reports whether n is a number with a leading zero that
// YAML reads as the number its digits say in decimal, exactly, if perhaps
// as a float: 08 (8.0), 08080, 007 — not 0123 (83). Where the reader
// decides the type, an integer or a number input, 08 is then simply 8.
func SameAsDecimal(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || n.Style&^yaml.FlowStyle != 0 || !leadingZero.MatchString(n.Value) {
		return false
	}
	decimal, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 10, 64)
	if err != nil || decimal > 1<<53 || decimal < -1<<53 {
		return false
	}
	var v any
	if n.Decode(&v) != nil {
		return false
	}
	switch v := v.(type) {
	case int:
		return int64(v) == decimal
	case float64:
		return v == float64(decimal)
	}
	return false
}

// zeroMantissa reports whether a float's digits before its exponent are
// all zeros: 0e-400 is 0, 1e-400 underflows to it.
func zeroMantissa(text string) bool {
	if i := strings.IndexAny(text, "eE"); i >= 0 {
		text = text[:i]
	}
	return !strings.ContainsAny(text, "123456789")
}

// decodedText is what YAML decodes n to, as text: "the octal number 83",
// "the float 8080".
func decodedText(n *yaml.Node) string {
	var v any
	if err := n.Decode(&v); err != nil {
		return "no number"
	}
	switch v := v.(type) {
	case int, int64, uint64:
		return fmt.Sprintf("the octal number %v", v)
	case float64:
		return "the float " + strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprintf("%q", n.Value)
}

// numberFix is what to do about a number out of range.
const numberFix = "quote it to keep it exact, as text (\"...\"), or write a value that fits"

func roundedText(text string) string {
	f, _ := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// FirstNumberOutOfRange returns the first scalar under n that
// NumberOutOfRange refuses, and why; aliases are not followed (their
// anchor is met where it is written).
func FirstNumberOutOfRange(n *yaml.Node) (*yaml.Node, string) {
	if why := NumberOutOfRange(n); why != "" {
		return n, why
	}
	for _, c := range n.Content {
		if at, why := FirstNumberOutOfRange(c); at != nil {
			return at, why
		}
	}
	return nil, ""
}

// checkNumbers reports every number of the document that YAML would
// change (NumberOutOfRange), at its position, once the document is
// loaded: a scalar flowrun read as its text (asText) — an env: value, a
// script, a URL, a key — is not changed, and is not reported, unless it
// sits under an anchor, whose aliases may read it as a value elsewhere.
func (c *diags) checkNumbers(n *yaml.Node, anchored bool) {
	anchored = anchored || n.Anchor != ""
	if anchored || !c.text[n] {
		if why := NumberOutOfRange(n); why != "" {
			c.errorf(n.Line, n.Column, numberFix, "%s", why)
		}
	}
	for _, ch := range n.Content {
		c.checkNumbers(ch, anchored)
	}
}

// asText records that n is read as its text, as written (see checkNumbers).
func (c *diags) asText(n *yaml.Node) {
	if c.text == nil {
		c.text = make(map[*yaml.Node]bool)
	}
	c.text[n] = true
}
