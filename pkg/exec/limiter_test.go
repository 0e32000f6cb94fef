package exec

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/spec"
)

// TestLimiterLookAhead: items of a saturated key are held back up to
// lookAhead, and no further item is read: a long source stays flat.
func TestLimiterLookAhead(t *testing.T) {
	sl := &spec.Limit{Key: &spec.Template{Raw: "k"}, Max: 1}
	read := 0
	l := newLimiter([]*spec.Limit{sl}, []int{1}, func(_ int, keys []string) (Item, []string, bool, error) {
		read++
		return Item{Index: read - 1}, append(keys, "same"), true, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	it, ok, err := l.next(ctx, 0)
	if !ok || err != nil || it.Index != 0 {
		t.Fatalf("first next: %v %v %v", it, ok, err)
	}
	got := make(chan bool)
	go func() {
		_, ok, _ := l.next(ctx, 1)
		got <- ok
	}()
	// The second call reads until lookAhead items are held, then waits.
	for {
		l.mu.Lock()
		waiting := l.waiting
		l.mu.Unlock()
		if waiting == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if read != lookAhead+1 {
		t.Errorf("read %d items; want %d (one running, lookAhead held)", read, lookAhead+1)
	}
	cancel()
	if <-got {
		t.Error("next returned an item after cancel")
	}
	if n := len(l.drain()); n != lookAhead {
		t.Errorf("drained %d; want %d", n, lookAhead)
	}
	l.release(0)
	for v, c := range l.limits[0].live {
		if c.running != 0 || c.refs != 0 {
			t.Errorf("value %q still counts %d running, %d refs after every item ended", v, c.running, c.refs)
		}
	}
}

// TestLimiterPeaks: the listed peaks are each key value's highest, the
// busiest MaxKeysListed of them, however many values come and go.
func TestLimiterPeaks(t *testing.T) {
	var queue []string
	l := newLimiter([]*spec.Limit{{Key: &spec.Template{Raw: "k"}}}, []int{100}, func(_ int, keys []string) (Item, []string, bool, error) {
		if len(queue) == 0 {
			return Item{}, keys, false, nil
		}
		k := queue[0]
		queue = queue[1:]
		return Item{Index: len(queue)}, append(keys, k), true, nil
	})
	ctx := context.Background()
	// run starts the given values at once, then ends them all.
	run := func(values ...string) {
		queue = values
		var started []int
		for range values {
			it, ok, _ := l.next(ctx, 0)
			if !ok {
				t.Fatal("no item")
			}
			started = append(started, it.Index)
		}
		for _, i := range started {
			l.release(i)
		}
	}
	run("a", "a", "a") // a: 3
	// More values than a limit keeps idle: they are dropped, and only
	// the busiest are listed.
	for i := range maxIdle + 1000 {
		v := fmt.Sprintf("v%05d", i)
		run(v, v) // each at 2
	}
	if n := len(l.limits[0].live); n > maxIdle+1 {
		t.Errorf("%d values counted; want at most %d", n, maxIdle+1)
	}
	run("a")                          // a comes back lower: still 3
	run("b", "b", "b", "b")           // b: 4
	run("v00500", "v00500", "v00500") // dropped at 2, comes back at 3
	got := l.summary()[0]
	want := []spec.KeyPeak{{Key: "b", Peak: 4}, {Key: "a", Peak: 3}, {Key: "v00500", Peak: 3}}
	if diff := cmp.Diff(want, got.Keys[:3]); diff != "" {
		t.Errorf("busiest keys (-want +got):\n%s", diff)
	}
	if len(got.Keys) != spec.MaxKeysListed || got.Peak != 4 {
		t.Errorf("%d keys listed, peak %d; want %d, 4", len(got.Keys), got.Peak, spec.MaxKeysListed)
	}
	for _, k := range got.Keys[3:] {
		if k.Peak != 2 {
			t.Errorf("key %s peak %d; want 2", k.Key, k.Peak)
		}
	}
}

// TestLimiterLongKeys: long key values are not kept past a megabyte of
// idle ones, and the summary lists them cut short, each still told apart
// from the others by the whole value.
func TestLimiterLongKeys(t *testing.T) {
	var queue []string
	l := newLimiter([]*spec.Limit{{Key: &spec.Template{Raw: "k"}}}, []int{100}, func(_ int, keys []string) (Item, []string, bool, error) {
		if len(queue) == 0 {
			return Item{}, keys, false, nil
		}
		k := queue[0]
		queue = queue[1:]
		return Item{Index: len(queue)}, append(keys, k), true, nil
	})
	long := func(i int) string { return strings.Repeat("x", 100_000) + fmt.Sprint(i) }
	run := func(values ...string) {
		queue = values
		var started []int
		for range values {
			it, ok, _ := l.next(context.Background(), 0)
			if !ok {
				t.Fatal("no item")
			}
			started = append(started, it.Index)
		}
		for _, i := range started {
			l.release(i)
		}
	}
	for i := range 50 {
		run(long(i))
	}
	run(long(7), long(7)) // its peak becomes 2, under the same listed key
	if n := len(l.limits[0].live); n > maxIdleBytes/100_000+1 {
		t.Errorf("%d long values kept; want at most a megabyte of them", n)
	}
	got := l.summary()[0].Keys
	if len(got) != spec.MaxKeysListed || got[0].Peak != 2 || got[1].Peak != 1 {
		t.Fatalf("keys %d, peaks %d %d; want %d keys, the first at 2", len(got), got[0].Peak, got[1].Peak, spec.MaxKeysListed)
	}
	for _, k := range got {
		if len(k.Key) > maxKeyShown+len("…") || !strings.HasSuffix(k.Key, "…") {
			t.Errorf("listed key of %d bytes; want it cut at %d", len(k.Key), maxKeyShown)
		}
	}
}
