// Package cluster runs a parallel block's items on workers across machines
// through NATS JetStream, and embeds a NATS server for the zero-setup case.
//
// It has two layers. The transport moves opaque bytes: Run (OpenRun,
// Dispatch, Cancel, Close) on the coordinator, Worker on each worker,
// StartServer to embed a server. On top of it, flowrun's side:
// Coordinator, the exec.Dispatcher that apply --nats sets in
// exec.Options, and ItemHandler, the Worker's Handler that runs items
// with exec.ItemRunner; NewManifest is what a worker compiles.
//
// Layout on the cluster, per run R and block B (a block of a called
// workflow is named by its path: "call-inner-fan"):
//
//   - stream FLOWRUN_R_B_<hash>, work-queue retention, file storage, subjects
//     flowrun.R.B.items and flowrun.R.B.results, de-duplication by message
//     id (items: R.B.<index>; results: R.B.<index>.result); a dispatch
//     deletes any stream of the same name first, so that a resumed run's
//     items and results are not taken for duplicates of a dead one's;
//   - durable pull consumer "workers" on the items: MaxAckPending is the
//     block's workers (the cap on items in flight across the cluster),
//     explicit AckWait and MaxDeliver, no backoff;
//   - durable pull consumer "coordinator" on the results;
//   - KV bucket flowrun_registry: key block.R.B announces the block to
//     workers (with a generation, so that workers follow a re-dispatch),
//     cancel.R and cancel.R.B cancel a run or a block;
//   - object store flowrun_manifest_R_<hash>: the run's manifest, and each
//     block's Data (flowrun: the step's path, scope and environment), read
//     once per run and per block by each worker; items carry only
//     themselves.
//
// Delivery guarantee: every item is executed at least once — a delivery
// that is not acknowledged within AckWait (the worker died, or stopped
// heartbeating) is redelivered, up to MaxDeliver times, after which the
// item fails with ErrMaxDeliveries (learned from the server's
// max-deliveries advisory, or, should that be lost, from a sweep of the
// queue every Poll) — and each index's result is accepted exactly once by
// the coordinator: a per-index table of pending items drops every later
// result for an accepted index. The coordinator's AcceptFunc runs before
// the result is acknowledged: the Coordinator's calls job.Done, where the
// block's Recorder journals the result, so what the cluster forgets,
// flowrun has kept.
package cluster
