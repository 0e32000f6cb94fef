package cluster

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const manifestObject = "manifest"

// Run is a coordinator's handle on one run in the cluster: it owns the run's
// manifest and its run-wide cancel key; Dispatch sends one block's items to
// the workers. Methods are safe for concurrent use (blocks may dispatch in
// parallel).
type Run struct {
	id  string
	nc  *nats.Conn
	js  jetstream.JetStream
	reg jetstream.KeyValue
	obj jetstream.ObjectStore // the manifest, and each block's Data
}

// OpenRun prepares run id on the cluster behind nc: the registry bucket, a
// cleared cancel key (a resumed run starts uncancelled), and the manifest
// (opaque to the cluster: flowrun's workflow, callees and inputs) in an
// object store bucket of its own, which workers read once per run.
// Close removes them.
func OpenRun(ctx context.Context, nc *nats.Conn, id string, manifest []byte) (*Run, error) {
	if err := checkToken("run id", id); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	reg, err := registry(ctx, js)
	if err != nil {
		return nil, err
	}
	if err := reg.Purge(ctx, runCancelKey(id)); err != nil {
		return nil, fmt.Errorf("cluster: run %s: clear cancel key: %w", id, err)
	}
	obj, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      manifestBucket(id),
		Description: "flowrun: manifest of run " + id,
		TTL:         0,
		MaxBytes:    -1,
		Storage:     jetstream.FileStorage,
		Replicas:    1,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: run %s: manifest bucket: %w", id, err)
	}
	if _, err := obj.PutBytes(ctx, manifestObject, manifest); err != nil {
		return nil, fmt.Errorf("cluster: run %s: store manifest: %w", id, err)
	}
	return &Run{id: id, nc: nc, js: js, reg: reg, obj: obj}, nil
}

// ID is the run id.
func (r *Run) ID() string { return r.id }

// Cancel tells every worker to cancel the run's running items (they see the
// run's cancel key within a watch round trip). Blocks still dispatching
// end when their Dispatch context is cancelled; Cancel does not do that.
func (r *Run) Cancel(ctx context.Context) error {
	if _, err := r.reg.PutString(ctx, runCancelKey(r.id), "cancelled"); err != nil {
		return fmt.Errorf("cluster: run %s: cancel: %w", r.id, err)
	}
	return nil
}

// Close removes the run's manifest and cancel key. Call it after every
// Dispatch of the run has returned.
func (r *Run) Close(ctx context.Context) error {
	err := r.js.DeleteObjectStore(ctx, manifestBucket(r.id))
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("cluster: run %s: delete manifest: %w", r.id, err)
	}
	if err := r.reg.Purge(ctx, runCancelKey(r.id)); err != nil {
		return fmt.Errorf("cluster: run %s: clear cancel key: %w", r.id, err)
	}
	return nil
}

// blockDataObject names a block's Data in the run's object store.
func blockDataObject(block string) string { return "block." + block }

// readBlockData is the worker's side: the Data of one block.
func readBlockData(ctx context.Context, js jetstream.JetStream, run, block string) ([]byte, error) {
	obj, err := js.ObjectStore(ctx, manifestBucket(run))
	if err != nil {
		return nil, fmt.Errorf("data of block %s: %w", block, err)
	}
	data, err := obj.GetBytes(ctx, blockDataObject(block))
	if err != nil {
		return nil, fmt.Errorf("data of block %s: %w", block, err)
	}
	return data, nil
}

// readManifest is the worker's side: the manifest of run id.
func readManifest(ctx context.Context, js jetstream.JetStream, id string) ([]byte, error) {
	obj, err := js.ObjectStore(ctx, manifestBucket(id))
	if err != nil {
		return nil, fmt.Errorf("manifest of run %s: %w", id, err)
	}
	data, err := obj.GetBytes(ctx, manifestObject)
	if err != nil {
		return nil, fmt.Errorf("manifest of run %s: %w", id, err)
	}
	return data, nil
}
