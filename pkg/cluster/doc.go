// Package cluster runs a parallel block's items on workers across machines
// through NATS JetStream, and embeds a NATS server for the zero-setup case.
//
// Layout on the cluster, per run R and block B:
//
//   - stream FLOWRUN_R_B_<hash>, work-queue retention, file storage, subjects
//     flowrun.R.B.items and flowrun.R.B.results, de-duplication by message
//     id (items: R.B.<index>; results: R.B.<index>.result);
//   - durable pull consumer "workers" on the items: MaxAckPending is the
//     block's workers (the cap on items in flight across the cluster),
//     explicit AckWait and MaxDeliver, no backoff;
//   - durable pull consumer "coordinator" on the results;
//   - KV bucket flowrun_registry: key block.R.B announces the block to
//     workers, cancel.R and cancel.R.B cancel a run or a block;
//   - object store flowrun_manifest_R_<hash>: the run's manifest.
//
// Delivery guarantee: every item is executed at least once — a delivery
// that is not acknowledged within AckWait (the worker died, or stopped
// heartbeating) is redelivered, up to MaxDeliver times, after which the
// item fails with ErrMaxDeliveries (learned from the server's
// max-deliveries advisory) — and each index's result is accepted exactly
// once by the coordinator: a per-index table of pending items drops every
// later result for an accepted index. The coordinator's AcceptFunc runs
// before the result is acknowledged, so what it journals survives a
// coordinator crash.
//
// The coordinator side is Run (OpenRun, Dispatch, Cancel, Close); the
// worker side is Worker; StartServer embeds a server. The package knows
// nothing of flowrun's engine: items, results and the manifest are bytes.
package cluster
