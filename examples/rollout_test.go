package examples_test

import (
	"fmt"
	"strings"
	"testing"
)

func init() {
	exampleTests["rollout.yaml"] = func(t *testing.T) {
		deployed := `deployed: ["api@eu-west (canary)","web@eu-west (canary)","worker@eu-west (canary)","billing@eu-west (canary)",` +
			`"api@us-east","web@us-east","worker@us-east","billing@us-east","api@ap-south","web@ap-south","worker@ap-south"]`
		for _, per := range []int{1, 2} {
			code, stdout, stderr := apply(t, "rollout.yaml", "--set", fmt.Sprint("per_region=", per))
			first, rest, _ := strings.Cut(stdout, "\n")
			if code != 0 || first != deployed {
				t.Fatalf("per_region=%d: exit %d, stdout:\n%s\nwant exit 0 and:\n%s\nstderr:\n%s", per, code, stdout, deployed, stderr)
			}
			// The limit is a ceiling: how close the run came to it
			// depends on how the workers were scheduled.
			var peak int
			if _, err := fmt.Sscanf(rest, "most_at_once_in_a_region: %d\n", &peak); err != nil || peak < 1 || peak > per {
				t.Errorf("per_region=%d: %q; want a peak from 1 to %d", per, rest, per)
			}
			if line := fmt.Sprintf("deploy: at most %d per ${{ item.region }}: peak %d", per, peak); !strings.Contains(stderr, line) {
				t.Errorf("per_region=%d: the summary does not say %q:\n%s", per, line, stderr)
			}
		}
	}
}
