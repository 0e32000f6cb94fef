package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Names of everything flowrun creates on the cluster. A run id or block name
// is one subject token ([A-Za-z0-9_-], 1..64 characters); stream and bucket
// names carry a short hash of the pair so "a_b"+"c" and "a"+"b_c" differ.
const (
	// RegistryBucket is the KV bucket shared by every run: blocks announce
	// themselves under blockKey and cancellation is signalled under
	// cancelKey. Workers watch it all.
	RegistryBucket = "flowrun_registry"

	subjectPrefix = "flowrun"
	// workersConsumer pulls items; coordinatorConsumer pulls results.
	workersConsumer     = "workers"
	coordinatorConsumer = "coordinator"
	// maxDeliveriesAdvisory is followed by ".<stream>.<consumer>".
	maxDeliveriesAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
)

// isToken reports whether s is a subject token: 1..64 of [A-Za-z0-9_-].
// (Not a regexp: `{1,64}` compiles to 64 copies of the class, some 2 ms
// of every flowrun process's start.)
func isToken(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func checkToken(what, s string) error {
	if !isToken(s) {
		return fmt.Errorf("cluster: %s %q must be 1..64 characters of A-Z a-z 0-9 _ -", what, s)
	}
	return nil
}

func pairHash(run, block string) string {
	h := sha256.Sum256([]byte(run + "\x00" + block))
	return hex.EncodeToString(h[:4])
}

// streamName is the work-queue stream of one block of one run.
func streamName(run, block string) string {
	return "FLOWRUN_" + run + "_" + block + "_" + pairHash(run, block)
}

// manifestBucket is the object store holding one run's manifest.
func manifestBucket(run string) string {
	return "flowrun_manifest_" + run + "_" + pairHash(run, "")
}

func itemsSubject(run, block string) string {
	return subjectPrefix + "." + run + "." + block + ".items"
}

func resultsSubject(run, block string) string {
	return subjectPrefix + "." + run + "." + block + ".results"
}

// itemMsgID de-duplicates item publications: run.block.index.
func itemMsgID(run, block string, index int) string {
	return run + "." + block + "." + strconv.Itoa(index)
}

// resultMsgID de-duplicates the results of re-executions of one item.
func resultMsgID(run, block string, index int) string {
	return itemMsgID(run, block, index) + ".result"
}

func blockKey(run, block string) string { return "block." + run + "." + block }
func runCancelKey(run string) string    { return "cancel." + run }
func blockCancelKey(run, block string) string {
	return "cancel." + run + "." + block
}

// blockName names a block of a run as one subject token: the ids of the
// uses: steps that lead to it and its own, joined with "-", which no step
// id holds; a name too long for a token keeps its start and a hash of
// the whole.
func blockName(path []string, id string) string {
	name := id
	for i := len(path) - 1; i >= 0; i-- {
		name = path[i] + "-" + name
	}
	if isToken(name) {
		return name
	}
	h := sha256.Sum256([]byte(name))
	return name[:min(len(name), 47)] + "-" + hex.EncodeToString(h[:8])
}
