package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"
)

// FormatVersion is the version of run.json and the journal this package
// writes. Reading a run with a newer version is an error, not a guess.
const FormatVersion = 1

// Run statuses stored in run.json, as the executor names them.
const (
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Run is a run's metadata, stored in run.json. It is rewritten whole
// (atomically) when the run starts, resumes and ends.
type Run struct {
	Format         int    `json:"format"`
	ID             string `json:"id"`
	FlowrunVersion string `json:"flowrun_version"`
	// Workflow is the workflow file's absolute path; WorkflowSHA256 the
	// hex sha256 of its bytes.
	Workflow       string `json:"workflow"`
	WorkflowSHA256 string `json:"workflow_sha256"`
	// Callees maps the path of every file reached through uses: (as the
	// executor names it, relative to the workflow) to its sha256.
	Callees map[string]string `json:"callees,omitempty"`
	// Inputs are the resolved inputs that are not secret; SecretInputs
	// the secret ones as keyed hashes (see SplitInputs). A secret value is
	// never stored.
	Inputs       map[string]any    `json:"inputs"`
	SecretInputs map[string]string `json:"secret_inputs,omitempty"`
	StartedAt    time.Time         `json:"started_at"`
	EndedAt      time.Time         `json:"ended_at,omitzero"`
	// Status is StatusRunning until the run ends; a run whose process died
	// stays "running" with no lock held (see Info.Interrupted).
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Resumes counts the times the run was resumed.
	Resumes int `json:"resumes"`
	// Items counts the items of every parallel block, set when the run
	// ends; nil while it runs.
	Items *Counts `json:"items,omitempty"`
}

// Counts counts items by outcome. Pending is every item that did not
// succeed or fail: cancelled, skipped or never started.
type Counts struct {
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Pending int `json:"pending"`
}

// SplitInputs separates resolved inputs into those stored as they are and
// the secret ones, stored as hash(name, value) (a keyed hash: the masking
// code provides it). It fails, rather than store a secret in the clear,
// when a secret input exists and hash is nil.
func SplitInputs(inputs map[string]any, secret func(name string) bool, hash func(name string, value any) (string, error)) (plain map[string]any, hashed map[string]string, err error) {
	plain = make(map[string]any, len(inputs))
	for name, v := range inputs {
		if secret == nil || !secret(name) {
			plain[name] = v
			continue
		}
		if hash == nil {
			return nil, nil, fmt.Errorf("input %q is secret and no hash function was given to store it", name)
		}
		h, err := hash(name, v)
		if err != nil {
			return nil, nil, fmt.Errorf("input %q: %w", name, err)
		}
		if hashed == nil {
			hashed = make(map[string]string)
		}
		hashed[name] = h
	}
	return plain, hashed, nil
}

// writeRun stores r as dir/run.json, atomically, mode 0600, refusing one
// that would be limit bytes or more (see runFileHeadroom).
func writeRun(dir string, r *Run, limit int) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("run %s: encoding run.json: %w", r.ID, err)
	}
	if len(data) >= limit {
		// It could not be read back: no resume, no runs list. (Its
		// indentation grows as the square of the inputs' nesting.)
		return fmt.Errorf("run %s: run.json would take %d bytes, more than the %d flowrun reads back with room for the run's end: the inputs are too large or too deeply nested to record; pass large data as a file the workflow reads (items_from, a step)", r.ID, len(data), limit)
	}
	return writeFileAtomic(filepath.Join(dir, RunFile), append(data, '\n'), 0o600)
}

// maxRunFile bounds what is read of a run.json: inputs are small.
const maxRunFile = 16 << 20

// runFileHeadroom is kept free in a run.json when the run starts, for what
// its end adds (the end time, the counts, an error of at most
// maxRunError bytes, escaped), so that a run.json written at the start
// can still be written at the end.
const runFileHeadroom = 64 << 10

// maxRunError bounds the error text run.json keeps; the report and the
// journal keep it whole.
const maxRunError = 8 << 10

// readRun reads dir/run.json.
func readRun(dir string) (*Run, error) {
	name := filepath.Join(dir, RunFile)
	data, err := readRegular(name, maxRunFile)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var r Run
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if r.Format < 1 || r.Format > FormatVersion {
		return nil, fmt.Errorf("%s: format %d, this flowrun reads format %d", name, r.Format, FormatVersion)
	}
	if r.ID != filepath.Base(dir) {
		return nil, fmt.Errorf("%s: holds run %q, not %q", name, r.ID, filepath.Base(dir))
	}
	return &r, nil
}

// readRegular reads a regular file of at most limit bytes.
func readRegular(name string, limit int64) ([]byte, error) {
	f, fi, err := openRegular(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d read", name, fi.Size(), limit)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%s: more than the %d bytes read", name, limit)
	}
	return buf.Bytes(), nil
}
