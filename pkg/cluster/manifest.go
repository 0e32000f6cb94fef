package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/spec"
)

// manifestVersion is the shape of Manifest; a worker refuses another.
const manifestVersion = 2

// Manifest is what a worker needs to compile a run's workflow as the
// coordinator did: the workflow file and every file it calls, as bytes,
// and the run's resolved inputs. The worker compiles it with its own step
// registry, so a custom flowrun's worker runs its own step types.
type Manifest struct {
	Version int `json:"version"`
	// File is the workflow file as the coordinator named it (positions in
	// errors name it the same way on every machine); Dir is the
	// coordinator's working directory, against which a relative File
	// and the workflow's directory resolve.
	File string `json:"file"`
	Dir  string `json:"dir"`
	// Source is the workflow file; Callees the files its uses: steps
	// call, by path as spec.Options.Files wants them.
	Source  []byte            `json:"source"`
	Callees map[string][]byte `json:"callees,omitempty"`
	// Inputs are the run's resolved inputs; the worker masks the secret
	// ones in what it writes.
	Inputs map[string]any `json:"inputs"`
	// InputsNonFinite is where the inputs held a NaN or ±Inf (sendable).
	InputsNonFinite [][]any `json:"inputs_nonfinite,omitempty"`
	// MaxParsed is the run's bound on one parsed output
	// (exec.Options.MaxParsed; --max-parsed-output): workers apply it to
	// the items they run, as the coordinator would. 0: the default.
	MaxParsed int64 `json:"max_parsed,omitempty"`
}

// NewManifest encodes the manifest of a run of wf with inputs whose
// parsed outputs may take maxParsed bytes each (0: the default).
func NewManifest(wf *spec.Workflow, inputs map[string]any, maxParsed int64) ([]byte, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("cluster: manifest: %w", err)
	}
	in, paths := sendable(inputs)
	sent, _ := in.(map[string]any)
	m := Manifest{Version: manifestVersion, File: wf.File, Dir: dir, Source: wf.Source, Callees: wf.Callees(), Inputs: sent, InputsNonFinite: paths, MaxParsed: maxParsed}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("cluster: manifest of %s: %w", wf.File, err)
	}
	return data, nil
}

// decodeManifest reads a manifest, numbers as expressions see them.
func decodeManifest(data []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("unreadable manifest: %w", err)
	}
	if m.Version != manifestVersion {
		return nil, fmt.Errorf("manifest version %d, this worker reads version %d (coordinator and worker run different flowrun versions)", m.Version, manifestVersion)
	}
	if m.File == "" || len(m.Source) == 0 {
		return nil, errors.New("manifest without a workflow")
	}
	spec.Normalize(m.Inputs)
	var err error
	if m.Inputs, err = receivedMap(m.Inputs, m.InputsNonFinite); err != nil {
		return nil, fmt.Errorf("unreadable manifest: inputs: %w", err)
	}
	return &m, nil
}

// abs resolves a path of the coordinator's (a workflow's directory)
// against the coordinator's working directory.
func (m *Manifest) abs(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(m.Dir, path)
}

// itemPayload is an item as it travels: its value's NaN and ±Inf written
// as strings, and where they were (sendable).
type itemPayload struct {
	Item      exec.Item `json:"item"`
	NonFinite [][]any   `json:"nonfinite,omitempty"`
}

// blockJob is a block's Data: what every item of the block shares. Items
// carry only themselves (exec.Item).
type blockJob struct {
	// Path and Step find the step in the compiled workflow: the uses:
	// steps from the top workflow down, then the step's id.
	Path []string `json:"path,omitempty"`
	Step string   `json:"step"`
	// Type is the step's type, named when a worker lacks it.
	Type string `json:"type"`
	// Scope is the step's scope without the item; InputsNonFinite and
	// StepsNonFinite are where its inputs and steps held a NaN or ±Inf
	// (sendable).
	Scope           *spec.Scope `json:"scope"`
	InputsNonFinite [][]any     `json:"inputs_nonfinite,omitempty"`
	StepsNonFinite  [][]any     `json:"steps_nonfinite,omitempty"`
	// Env is what the run added to the process environment (exec.Job.Env).
	Env []string `json:"env,omitempty"`
	// Start is when the run started, for the items' offsets.
	Start time.Time `json:"start"`
}
