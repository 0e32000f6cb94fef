package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/state"
)

// RunsCmd lists, shows and prunes the runs recorded in the state directory.
type RunsCmd struct {
	StateDir string `name:"state-dir" env:"FLOWRUN_STATE_DIR" default:".flowrun" placeholder:"DIR" help:"State directory holding the recorded runs."`

	List  RunsListCmd  `cmd:"" default:"withargs" help:"List recorded runs, newest first (the default)."`
	Show  RunsShowCmd  `cmd:"" help:"Print a recorded run's summary, or with -o json its report."`
	Prune RunsPruneCmd `cmd:"" help:"Delete old recorded runs."`
}

// Help shows examples.
func (RunsCmd) Help() string {
	return `Runs are recorded under the state directory (.flowrun/ by default):
runs/<id>/run.json, its journal and, once it ended, report.json. A run
whose process died shows as "interrupted".

Examples:
  flowrun runs
  flowrun runs -o json | jq '.[0].id'
  flowrun runs show 2f9d166581ac
  flowrun runs prune --keep 20
  flowrun runs prune --older-than 30d`
}

// dir is the state directory chosen (an empty flag or variable: the
// default).
func (c *RunsCmd) dir() *state.Dir { return state.New(state.DirFromEnv(c.StateDir)) }

// RunsListCmd lists the recorded runs.
type RunsListCmd struct {
	Output string `short:"o" enum:"text,json" default:"text" help:"text (a table) or json."`
}

// runDoc is the stable shape of a run in `flowrun runs -o json`.
type runDoc struct {
	ID         string       `json:"id"`
	Workflow   string       `json:"workflow,omitempty"`
	Status     string       `json:"status"`
	Error      string       `json:"error,omitempty"`
	StartedAt  time.Time    `json:"started_at,omitzero"`
	EndedAt    time.Time    `json:"ended_at,omitzero"`
	DurationMS int64        `json:"duration_ms"`
	Resumes    int          `json:"resumes"`
	Items      state.Counts `json:"items"`
	// Problem says why the run's record could not be read in full.
	Problem string `json:"problem,omitempty"`
}

func newRunDoc(in *state.Info, now time.Time) runDoc {
	d := runDoc{ID: in.ID, Status: in.Status, Items: in.Items, DurationMS: in.Duration(now).Milliseconds()}
	if in.Err != nil {
		d.Problem = in.Err.Error()
	}
	if r := in.Run; r != nil {
		d.Workflow, d.Error, d.StartedAt, d.EndedAt, d.Resumes = r.Workflow, r.Error, r.StartedAt, r.EndedAt, r.Resumes
	}
	return d
}

// Run lists the runs.
func (c *RunsListCmd) Run(e *env, parent *RunsCmd) error {
	d := parent.dir()
	infos, err := d.List()
	if err != nil {
		fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
		return exitError{ExitInvalid}
	}
	now := time.Now()
	docs := make([]runDoc, 0, len(infos))
	for _, in := range infos {
		docs = append(docs, newRunDoc(in, now))
	}
	if c.Output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(docs)
	}
	if len(docs) == 0 {
		fmt.Fprintf(e.stderr, "flowrun: no runs recorded in %s\n", d.Path())
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWORKFLOW\tSTATUS\tSTARTED\tDURATION\tOK\tFAILED\tPENDING")
	for _, r := range docs {
		wf, started, dur := "?", "?", "-"
		if r.Workflow != "" {
			wf = displayPath(r.Workflow)
		}
		if !r.StartedAt.IsZero() {
			started = r.StartedAt.Local().Format("2006-01-02 15:04:05")
		}
		if r.DurationMS > 0 || !r.EndedAt.IsZero() {
			dur = formatDuration(time.Duration(r.DurationMS) * time.Millisecond)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", r.ID, wf, r.Status, started, dur, r.Items.OK, r.Items.Failed, r.Items.Pending)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range docs {
		if r.Problem != "" {
			fmt.Fprintf(e.stderr, "flowrun: run %s: %s\n", r.ID, r.Problem)
		}
	}
	return nil
}

// RunsShowCmd prints one run.
type RunsShowCmd struct {
	ID     string `arg:"" name:"run-id" help:"The run's id, or a prefix of it that names one run."`
	Output string `short:"o" enum:"text,json" default:"text" help:"text (a summary) or json (the run's stored report)."`
}

// Run prints the run.
func (c *RunsShowCmd) Run(e *env, parent *RunsCmd) error {
	d := parent.dir()
	id, err := d.Resolve(c.ID)
	if err != nil {
		fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
		return exitError{ExitInvalid}
	}
	if c.Output == "json" {
		rc, err := d.Report(id)
		if err != nil {
			fmt.Fprintf(e.stderr, "flowrun: %v; 'flowrun runs show %s' prints what was recorded\n", err, id)
			return exitError{ExitFailed}
		}
		defer rc.Close()
		_, err = io.Copy(e.stdout, rc)
		return err
	}
	in, err := d.Get(id)
	if err != nil {
		fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
		return exitError{ExitInvalid}
	}
	if in.Run == nil {
		fmt.Fprintf(e.stderr, "flowrun: run %s: %v\n", id, in.Err)
		return exitError{ExitFailed}
	}
	printRun(e.stdout, in, time.Now())
	if in.Err != nil {
		fmt.Fprintf(e.stderr, "flowrun: run %s: %v\n", id, in.Err)
		return exitError{ExitFailed}
	}
	return nil
}

// printRun prints a run's summary, one `name: value` per line.
func printRun(w io.Writer, in *state.Info, now time.Time) {
	r := in.Run
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	line := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "%s:\t"+format+"\n", append([]any{name}, args...)...)
	}
	line("run", "%s", r.ID)
	line("workflow", "%s", displayPath(r.Workflow))
	line("status", "%s", in.Status)
	if r.Error != "" {
		line("error", "%s", strings.ReplaceAll(r.Error, "\n", "\n\t"))
	}
	line("started", "%s", r.StartedAt.Local().Format("2006-01-02 15:04:05"))
	if !r.EndedAt.IsZero() {
		line("ended", "%s (%s)", r.EndedAt.Local().Format("2006-01-02 15:04:05"), formatDuration(in.Duration(now)))
	}
	line("resumes", "%d", r.Resumes)
	line("items", "%d ok, %d failed, %d pending", in.Items.OK, in.Items.Failed, in.Items.Pending)
	for _, k := range slices.Sorted(maps.Keys(r.Inputs)) {
		line("input "+k, "%s", spec.Text(r.Inputs[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(r.SecretInputs)) {
		line("input "+k, "(secret)")
	}
	line("flowrun", "%s", r.FlowrunVersion)
	line("sha256", "%s  %s", r.WorkflowSHA256, displayPath(r.Workflow))
	for _, k := range slices.Sorted(maps.Keys(r.Callees)) {
		line("sha256", "%s  %s", r.Callees[k], k)
	}
	_ = tw.Flush()
}

// RunsPruneCmd deletes old runs.
type RunsPruneCmd struct {
	Keep      *int   `placeholder:"N" help:"Keep the N newest runs, delete the others."`
	OlderThan string `placeholder:"AGE" help:"Delete runs started more than AGE ago: 30d, 2w, 12h. With --keep, only runs both select are deleted."`
}

// Run deletes the runs.
func (c *RunsPruneCmd) Run(e *env, parent *RunsCmd) error {
	keep := -1
	if c.Keep != nil {
		if *c.Keep < 0 {
			fmt.Fprintf(e.stderr, "flowrun: --keep must be 0 or more, got %d\n", *c.Keep)
			return exitError{ExitInvalid}
		}
		keep = *c.Keep
	}
	var age time.Duration
	if c.OlderThan != "" {
		var err error
		if age, err = state.ParseAge(c.OlderThan); err != nil {
			fmt.Fprintf(e.stderr, "flowrun: --older-than: %v\n", err)
			return exitError{ExitInvalid}
		}
	}
	if keep < 0 && age == 0 {
		fmt.Fprintln(e.stderr, "flowrun: runs prune needs --keep N or --older-than AGE")
		return exitError{ExitInvalid}
	}
	d := parent.dir()
	deleted, err := d.Prune(keep, age, time.Now())
	for _, id := range deleted {
		fmt.Fprintf(e.stdout, "deleted %s\n", id)
	}
	fmt.Fprintf(e.stderr, "flowrun: deleted %d run(s) from %s\n", len(deleted), d.Path())
	if err != nil {
		fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
		return exitError{ExitFailed}
	}
	return nil
}

// displayPath shows an absolute path relative to the working directory
// when it is inside it.
func displayPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

// formatDuration rounds a duration for a table.
func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}
