package exec

import (
	"maps"

	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
)

// newMasker returns the run's Masker: the caller's, or a new one, with the
// values of the workflow's secret inputs added.
func newMasker(wf *spec.Workflow, opts Options) *mask.Masker {
	m := opts.Mask
	if m == nil {
		m = mask.New()
	}
	for _, v := range wf.SecretValues(opts.Inputs) {
		m.Add(v)
	}
	return m
}

// secretInputs is the inputs as the report shows them: a secret input's
// value is mask.Replacement whatever it is, however short, since the
// report knows it is the secret.
func secretInputs(wf *spec.Workflow, inputs map[string]any) map[string]any {
	out, copied := inputs, false
	for _, in := range wf.Inputs {
		if _, ok := inputs[in.Name]; !ok || !in.Secret {
			continue
		}
		if !copied {
			out, copied = maps.Clone(inputs), true // inputs is the caller's
		}
		out[in.Name] = mask.Replacement
	}
	return out
}

// Masked returns a copy of the report with every string masked by m: the
// errors, reasons, keys, outputs, output errors and log tails of the run,
// its steps and their items, the cluster workers that ran items, the key
// values of limits, and the inputs. The report itself is left as it is;
// the copy shares the results and values that masking leaves unchanged,
// so modify neither. Write reports through Masked: an error or an output
// may quote a secret.
func (r *Report) Masked(m *mask.Masker) *Report {
	cp := *r
	cp.Error = m.String(r.Error)
	cp.Inputs, _ = m.Value(r.Inputs).(map[string]any)
	cp.Outputs, _ = m.Value(r.Outputs).(map[string]any)
	if r.OutputErrors != nil {
		cp.OutputErrors = make([]OutputError, len(r.OutputErrors))
		for i, e := range r.OutputErrors {
			cp.OutputErrors[i] = OutputError{Name: e.Name, Error: m.String(e.Error)}
		}
	}
	cp.Steps = make([]*StepReport, len(r.Steps))
	for i, s := range r.Steps {
		sc := *s
		maskStep(m, &sc)
		if s.Results != nil {
			sc.Results = make([]*ItemResult, len(s.Results))
			for j, res := range s.Results {
				sc.Results[j] = maskedResult(m, res)
			}
		}
		cp.Steps[i] = &sc
	}
	return &cp
}

// maskStep masks a step's report in place, but for its results: a copy.
func maskStep(m *mask.Masker, s *StepReport) {
	s.Reason, s.Error = m.String(s.Reason), m.String(s.Error)
	s.Output = m.Value(s.Output)
	if s.Summary != nil && len(s.Summary.Limits) > 0 {
		sum := *s.Summary
		sum.Limits = maskedLimits(m, s.Summary.Limits)
		s.Summary = &sum
	}
}

// maskedResult returns a masked copy of an item's result, or res itself
// when masking changes nothing in it.
func maskedResult(m *mask.Masker, res *ItemResult) *ItemResult {
	key, errText, tail, worker := m.String(res.Key), m.String(res.Error), m.String(res.LogTail), m.String(res.Worker)
	out, changed := maskedOutput(m, res)
	if !changed && key == res.Key && errText == res.Error && tail == res.LogTail && worker == res.Worker {
		return res
	}
	cp := *res
	cp.Key, cp.Error, cp.LogTail, cp.Output, cp.Worker = key, errText, tail, out, worker
	if changed {
		cp.outJSON = nil // the JSON of the unmasked output
	}
	return &cp
}

// maskedLimits returns a masked copy of a block's limits: a key value may
// be a secret.
func maskedLimits(m *mask.Masker, limits []spec.LimitSummary) []spec.LimitSummary {
	out := make([]spec.LimitSummary, len(limits))
	for i, l := range limits {
		l.Key = m.String(l.Key)
		keys := make([]spec.KeyPeak, len(l.Keys))
		for j, k := range l.Keys {
			keys[j] = spec.KeyPeak{Key: m.String(k.Key), Peak: k.Peak}
		}
		l.Keys = keys
		out[i] = l
	}
	return out
}
