package spec

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Rate caps how often a parallel block starts items: a token bucket shared
// by the block's workers, refilled at Limit per second and holding at most
// Burst tokens. Written `rate: 200/s` (also /m and /h), or
// `rate: {limit: 200/s, burst: 20}`.
type Rate struct {
	Pos Pos
	// Text is the limit as written, such as "200/s".
	Text string
	// PerSecond is the limit in items per second.
	PerSecond float64
	// Burst is how many items may start at once after a quiet spell; 1 by
	// default, which spaces starts evenly.
	Burst int
}

var rateKeys = []string{"limit", "burst"}

var rateUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "second": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute,
	"h": time.Hour, "hour": time.Hour,
}

const rateHint = "write a count per unit such as 200/s, 30/m or 1000/h"

// rate parses a parallel block's rate:.
func (p *loader) rate(n *yaml.Node) *Rate {
	r := &Rate{Pos: Pos{p.file, n.Line, n.Column}, Burst: 1}
	limit := n
	if n.Kind == yaml.MappingNode {
		f := p.fields(n, "rate", rateKeys)
		v, ok := f["limit"]
		if !ok {
			p.errorf(n.Line, n.Column, rateHint, "rate has no limit")
			return nil
		}
		limit = deref(v.value)
		if b, ok := f["burst"]; ok {
			r.Burst = p.positiveInt(deref(b.value), "burst")
		}
	}
	if limit.Kind != yaml.ScalarNode {
		p.errorf(limit.Line, limit.Column, rateHint, "rate must be a count per unit, not %s", kindName(limit))
		return nil
	}
	perSec, err := ParseRate(limit.Value)
	if err != nil {
		p.errorf(limit.Line, limit.Column, rateHint, "invalid rate %q: %v", limit.Value, err)
		return nil
	}
	r.Text, r.PerSecond = strings.TrimSpace(limit.Value), perSec
	return r
}

// ParseRate reads "N/unit" (unit s, m or h) as items per second.
func ParseRate(s string) (float64, error) {
	count, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, fmt.Errorf("missing /unit")
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(count), 64)
	if err != nil || !(n > 0 && n <= 1e9) { // NaN fails every comparison
		return 0, fmt.Errorf("%q is not a positive number", strings.TrimSpace(count))
	}
	per, ok := rateUnits[strings.TrimSpace(unit)]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q; use s, m or h", strings.TrimSpace(unit))
	}
	return n / per.Seconds(), nil
}
