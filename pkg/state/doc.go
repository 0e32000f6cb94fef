// Package state is flowrun's record of runs on disk: a state directory
// holding, for each run, its metadata, an append-only journal of results,
// its final report and a lock.
//
// Layout, under the state directory (default ".flowrun", or
// $FLOWRUN_STATE_DIR, or --state-dir):
//
//	runs/<run_id>/run.json     Run: hashes, inputs, status (atomic rewrite, 0600)
//	runs/<run_id>/journal      one JSON record per line, append-only (0600)
//	runs/<run_id>/report.json  the run's report, written when it ends
//	runs/<run_id>/lock         flock held by the process running the run
//
// The journal's guarantee: a record is whole or absent. The Writer writes
// whole records with group commit (one write(2) per batch, at least every
// 10 ms; fsync at least every 100 ms and at every step, block and run end);
// a reader drops a torn last record and refuses a damaged one in the middle.
// After a crash, what a resume sees is every record up to the last commit:
// items that finished in the last ≤100 ms before a power loss, or that were
// running at a kill, are not in it and run again — at-least-once per item,
// nothing that was recorded is lost.
//
// Typical use by the executor:
//
//	d := state.New(state.DirFromEnv(flag))
//	if err := d.Check(); err != nil { ... }      // before the first step
//	rs, err := d.Create(&state.Run{...})         // new run: run.json, lock, journal
//	defer rs.Close()
//	rs.Journal.Item(&state.ItemRecord{...})      // per finished item, from any goroutine
//	rs.Journal.Step(&state.StepRecord{...})      // per finished single step (synced)
//	rs.Finish(status, errText, counts, write)    // run end: journal, run.json, report.json
//
// and for a resume: d.Resolve(id) or d.LatestUnfinished(workflow), then
// d.Resume(id) which locks the run, replays its journal into a Replay and
// reopens the journal for appending.
package state
