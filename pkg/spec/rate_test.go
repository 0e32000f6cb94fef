package spec

import (
	"strings"
	"testing"
)

func TestRate(t *testing.T) {
	tests := []struct {
		rate      string
		perSecond float64
		burst     int
		diag      string // a substring of the diagnostic, or "" for none
	}{
		{rate: "200/s", perSecond: 200, burst: 1},
		{rate: "30/m", perSecond: 0.5, burst: 1},
		{rate: "3600/h", perSecond: 1, burst: 1},
		{rate: "0.5/s", perSecond: 0.5, burst: 1},
		{rate: "{limit: 100/s, burst: 20}", perSecond: 100, burst: 20},
		{rate: "200", diag: `wf.yaml:6:13: invalid rate "200": missing /unit (write a count per unit such as 200/s`},
		{rate: "200/d", diag: `wf.yaml:6:13: invalid rate "200/d": unknown unit "d"; use s, m or h`},
		{rate: "-3/s", diag: `wf.yaml:6:13: invalid rate "-3/s": "-3" is not a positive number`},
		{rate: "NaN/s", diag: `wf.yaml:6:13: invalid rate "NaN/s": "NaN" is not a positive number`},
		{rate: "+Inf/s", diag: `is not a positive number`},
		{rate: "{burst: 3}", diag: `wf.yaml:6:13: rate has no limit`},
		{rate: "{limit: 1/s, brust: 3}", diag: `wf.yaml:6:26: unknown key "brust" in rate (did you mean "burst"?)`},
		{rate: "[1, s]", diag: `wf.yaml:6:13: rate must be a count per unit, not a list`},
	}
	for _, tt := range tests {
		t.Run(tt.rate, func(t *testing.T) {
			w, ds := parse(t, `
version: 1
steps:
  - id: fan
    parallel:
      items: ${{ 1..3 }}
      rate: `+tt.rate+`
    run: echo
`)
			// The line numbers above count from "version: 1"; rate: sits
			// on line 6.
			if tt.diag != "" {
				if got := ds.Error(); !strings.Contains(got, tt.diag) {
					t.Fatalf("diagnostics:\n%s\nwant one containing:\n%s", got, tt.diag)
				}
				return
			}
			if ds.HasErrors() {
				t.Fatalf("unexpected diagnostics:\n%v", ds)
			}
			r := w.Step("fan").Parallel.Rate
			if r == nil {
				t.Fatal("got no rate")
			}
			if r.PerSecond != tt.perSecond || r.Burst != tt.burst {
				t.Errorf("got %v/s burst %d; want %v/s burst %d", r.PerSecond, r.Burst, tt.perSecond, tt.burst)
			}
		})
	}
}
