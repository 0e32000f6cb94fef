package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Diff says what differs between the recorded run r and now, the run a
// resume is about to continue it with (built the same way from the
// workflow and inputs it loaded): one sentence each, the workflow first,
// then the callees and the inputs by name. None means the resume may go
// on: the same workflow file (path and sha256), the same files called
// through uses: (sha256 each), the same inputs. Inputs are compared as
// JSON, so 5 read back from run.json equals the 5 resolved now; secret
// inputs by their keyed hashes, which must be made with the same key.
func (r *Run) Diff(now *Run) []string {
	var out []string
	if r.Workflow != now.Workflow {
		out = append(out, fmt.Sprintf("the workflow is %s; the run's was %s", now.Workflow, r.Workflow))
	} else if r.WorkflowSHA256 != now.WorkflowSHA256 {
		out = append(out, fmt.Sprintf("%s changed since the run (sha256 %s, the run's %s)", now.Workflow, short(now.WorkflowSHA256), short(r.WorkflowSHA256)))
	}
	for _, name := range union(r.Callees, now.Callees) {
		was, wok := r.Callees[name]
		is, iok := now.Callees[name]
		switch {
		case !wok:
			out = append(out, fmt.Sprintf("%s is called with uses: now, but was not in the run", name))
		case !iok:
			out = append(out, fmt.Sprintf("%s was called with uses: in the run, but is not now", name))
		case was != is:
			out = append(out, fmt.Sprintf("%s (called with uses:) changed since the run (sha256 %s, the run's %s)", name, short(is), short(was)))
		}
	}
	for _, name := range union(union2(r.Inputs, r.SecretInputs), union2(now.Inputs, now.SecretInputs)) {
		was, wplain := r.Inputs[name]
		wasHash, wsecret := r.SecretInputs[name]
		is, iplain := now.Inputs[name]
		isHash, isecret := now.SecretInputs[name]
		switch {
		case !wplain && !wsecret:
			out = append(out, fmt.Sprintf("input %q is new: the run had no such input", name))
		case !iplain && !isecret:
			out = append(out, fmt.Sprintf("input %q is gone: the run had it", name))
		case wsecret != isecret:
			out = append(out, fmt.Sprintf("input %q is secret in one and not in the other", name))
		case wsecret:
			if wasHash != isHash {
				out = append(out, fmt.Sprintf("secret input %q differs from the run's (compared by keyed hash; not shown)", name))
			}
		default:
			a, b := jsonText(was), jsonText(is)
			if !bytes.Equal(a, b) {
				out = append(out, fmt.Sprintf("input %q is %s; the run's was %s", name, clip(b), clip(a)))
			}
		}
	}
	return out
}

// union returns the keys of both maps, sorted, once each.
func union[V any](a, b map[string]V) []string {
	keys := slices.AppendSeq(slices.Collect(maps.Keys(a)), maps.Keys(b))
	slices.Sort(keys)
	return slices.Compact(keys)
}

// union2 is the keys of two maps of different value types, as a set.
func union2(a map[string]any, b map[string]string) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// jsonText is v as JSON, maps with sorted keys; a value JSON cannot hold
// is its Go syntax, which compares unequal to any JSON.
func jsonText(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Appendf(nil, "%#v", v)
	}
	return b
}

// clip shortens a value shown in a sentence.
func clip(b []byte) string {
	const limit = 60
	if len(b) > limit {
		return strings.ToValidUTF8(string(b[:limit]), "") + "…"
	}
	return string(b)
}

// short is the start of a hex hash, enough to tell two apart.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
