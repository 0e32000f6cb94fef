package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNonFiniteValuesInReports runs a workflow whose values JSON cannot
// hold as numbers — an input set to .nan, 1/0 in outputs, set: and
// results_file, a JSON output of 1e400 — and checks that every JSON it
// writes (-o json, --report, results_file) is valid, with NaN and ±Inf
// as strings, that stderr names them, and that the exit code is the
// run's: 0.
func TestNonFiniteValuesInReports(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "nf.yaml", `
version: 1
inputs:
  f: {type: number, default: 1}
  zero: {type: number, default: 0}
steps:
  - id: a
    set: {y: "${{ 1 / inputs.zero }}", z: ["${{ -1 / inputs.zero }}"]}
  - id: b
    run: "echo '{\"v\": 1e400}'"
    output: json
  - id: c
    parallel:
      items: [1, 2]
      results_file: res.jsonl
    set: {v: "${{ item / inputs.zero }}"}
outputs:
  x: ${{ 1 / inputs.zero }}
  f: ${{ inputs.f }}
  a: ${{ steps.a.output }}
  b: ${{ steps.b.output }}
`)
	code, stdout, stderr := flowrun(t, dir, "apply", "nf.yaml", "--set", "f=.nan", "-o", "json", "--report", "r.json", "--report", "r.html")
	if code != 0 {
		t.Fatalf("exit %d; want 0, the run's\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	report, err := os.ReadFile(filepath.Join(dir, "r.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string][]byte{"stdout": []byte(stdout), "r.json": report} {
		var rep struct {
			Inputs  map[string]any `json:"inputs"`
			Outputs map[string]any `json:"outputs"`
		}
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber() // 1e400 is valid JSON, beyond a float64
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("%s is not JSON: %v\n%s", name, err, doc)
		}
		if rep.Inputs["f"] != "NaN" || rep.Outputs["x"] != "+Inf" || rep.Outputs["f"] != "NaN" {
			t.Errorf("%s: inputs %v, outputs %v; want f NaN and x +Inf as strings", name, rep.Inputs, rep.Outputs)
		}
		a, _ := rep.Outputs["a"].(map[string]any)
		if a["y"] != "+Inf" || len(a["z"].([]any)) != 1 || a["z"].([]any)[0] != "-Inf" {
			t.Errorf("%s: outputs.a = %v; want y +Inf, z [-Inf]", name, a)
		}
		if !bytes.Contains(doc, []byte(`1e400`)) {
			t.Errorf("%s lacks the number 1e400 as written", name)
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "r.html"))
	if err != nil || !bytes.Contains(html, []byte("</html>")) {
		t.Errorf("r.html: %v, %d bytes", err, len(html))
	}
	f, err := os.Open(filepath.Join(dir, "res.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	for sc := bufio.NewScanner(f); sc.Scan(); lines++ {
		var res struct{ Output map[string]any }
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil || res.Output["v"] != "+Inf" {
			t.Errorf("results_file line %q: %v; want output.v +Inf", sc.Text(), err)
		}
	}
	if lines != 2 {
		t.Errorf("results_file has %d lines; want 2", lines)
	}
	for _, path := range []string{"inputs.f is NaN", "outputs.x is +Inf", "outputs.a.z[0] is -Inf"} {
		if !strings.Contains(stderr, "warning: "+path) {
			t.Errorf("stderr does not warn that %s:\n%s", path, stderr)
		}
	}
}
