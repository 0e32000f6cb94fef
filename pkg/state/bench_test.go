package state

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkJournalItem measures the hot path: one finished item journaled
// (encoded into the group-commit buffer; the background commit writes and
// syncs to a real file meanwhile). json-marshal is the baseline: encoding
// the same record with encoding/json alone, writing nothing.
func BenchmarkJournalItem(b *testing.B) {
	rec := ItemRecord{Step: "migrate", Index: 123456, Key: "tenant-123456", Status: "succeeded", Attempts: 1, DurationMS: 12.345}
	b.Run("json-marshal", func(b *testing.B) {
		type wire struct {
			Type       string  `json:"type"`
			Step       string  `json:"step"`
			Index      int     `json:"index"`
			Key        string  `json:"key"`
			Status     string  `json:"status"`
			Attempts   int     `json:"attempts"`
			DurationMS float64 `json:"duration_ms"`
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(wire{"item", rec.Step, rec.Index, rec.Key, rec.Status, rec.Attempts, rec.DurationMS}); err != nil {
				b.Fatal(err)
			}
		}
	})
	run := func(b *testing.B, rec ItemRecord, parallel bool) {
		w, err := OpenJournal(filepath.Join(b.TempDir(), "journal"))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				r := rec
				for pb.Next() {
					if err := w.Item(&r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		} else {
			for i := 0; i < b.N; i++ {
				rec.Index = i
				if err := w.Item(&rec); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StopTimer()
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) { run(b, rec, false) })
	b.Run("parallel", func(b *testing.B) { run(b, rec, true) })
	withOutput := rec
	withOutput.Output = map[string]any{"rows": int64(42), "table": "users"}
	b.Run("serial-output", func(b *testing.B) { run(b, withOutput, false) })
}

// BenchmarkReplayLoad1M loads a journal of 1,000,000 item records (one
// block, distinct keys, no outputs) for a resume and reports the heap it
// keeps (retained-MB) and the most it used while loading (peak-heap-MB,
// sampled every millisecond), besides the time. encoding-json is the
// baseline: the same load with every line decoded by encoding/json.
func BenchmarkReplayLoad1M(b *testing.B) {
	const n = 1_000_000
	name := filepath.Join(b.TempDir(), "journal")
	w, err := OpenJournal(name)
	if err != nil {
		b.Fatal(err)
	}
	if err := w.BlockStart("migrate", n); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		rec := ItemRecord{Step: "migrate", Index: i, Key: "tenant-" + strconv.Itoa(i), Status: "succeeded", Attempts: 1, DurationMS: 1.5}
		if i%1000 == 999 {
			rec.Status, rec.Error = "failed", "exit status 1"
		}
		if err := w.Item(&rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(name)
	b.Run("fast", func(b *testing.B) { loadReplay(b, name, n, fi.Size()) })
	b.Run("encoding-json", func(b *testing.B) {
		fastPath = false
		defer func() { fastPath = true }()
		loadReplay(b, name, n, fi.Size())
	})
}

// loadReplay loads the journal name of n items b.N times.
func loadReplay(b *testing.B, name string, n int, size int64) {
	b.SetBytes(size)
	var peak, retained uint64
	for b.Loop() {
		runtime.GC()
		base := heapObjects()
		stop, done := make(chan struct{}), make(chan uint64)
		go func() {
			top := uint64(0)
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				top = max(top, heapObjects())
				select {
				case <-stop:
					done <- top
					return
				case <-t.C:
				}
			}
		}()
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		rp, _, err := LoadReplay(f, name)
		f.Close()
		close(stop)
		top := <-done
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		keep := heapObjects()
		if c := rp.Counts(); c.OK+c.Failed != n {
			b.Fatalf("counts %+v", c)
		}
		runtime.KeepAlive(rp)
		peak = max(peak, top-min(top, base))
		retained = max(retained, keep-min(keep, base))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(retained)/(1<<20), "retained-MB")
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
var heapMu sync.Mutex

func heapObjects() uint64 {
	heapMu.Lock()
	defer heapMu.Unlock()
	metrics.Read(heapSample)
	return heapSample[0].Value.Uint64()
}
