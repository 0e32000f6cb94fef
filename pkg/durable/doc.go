// Package durable makes runs of pkg/exec durable: it records a run in a
// pkg/state journal, through the executor's Recorder seam, and resumes a
// recorded run through its Restorer seam, so that neither package knows
// the other.
//
// A run from scratch:
//
//	run, err := durable.NewRun(wf, inputs, key)     // hashes, inputs (secrets hashed)
//	j, err := durable.Create(dir, run, wf, m, warn)  // run.json, journal, lock
//	defer j.Close()
//	rep := exec.Run(ctx, wf, exec.Options{RunID: j.ID(), Recorder: j, ...})
//
// A resume (flowrun apply FILE --resume [ID]):
//
//	p, err := durable.PrepareResume(dir, id, wf, set, key) // nothing locked or changed yet
//	// p.Inputs are the run's inputs; p.Run its record
//	j, err := p.Open(m, warn)                              // lock, replay, reopen the journal
//	defer j.Close()
//	rep := exec.Run(ctx, wf, exec.Options{RunID: j.ID(), Recorder: j, Restorer: j, ...})
//
// The guarantee is the journal's (pkg/state): at-least-once per item. An
// item that succeeded and whose record reached the disk is never run
// again; items running at a crash, or finished in the last commit window
// (at most state.SyncEvery) before a power loss, run again. Steps see
// FLOWRUN_RUN_ID and FLOWRUN_ITEM_KEY to make themselves idempotent.
package durable
