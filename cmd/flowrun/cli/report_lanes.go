package cli

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/flowrun/flowrun/pkg/exec"
)

// lanes are the rows of a block's items on the HTML report's timeline.
type lanes struct {
	// row is the row of each result (aligned with the block's Results),
	// -1 for an item not drawn: one that did not run.
	row []int
	// n counts the rows.
	n int
	// labels name rows: a worker's first.
	labels []laneLabel
	// on says where an item ran, for its tooltip: "on worker 3".
	on func(r *exec.ItemResult) string
}

// laneLabel names a row; text is what fits in the margin, full the
// whole name when text had to be shortened.
type laneLabel struct {
	row        int
	text, full string
}

// thinLanes is the most lanes a block has at full height: past it, lanes
// are thinner and labelled where a label fits.
const thinLanes = 24

// maxLaneLabel is the most characters of a worker's name the margin
// left of the timeline holds.
const maxLaneLabel = 24

// blockLanes lays out a block's items: a local block has a row per lane
// of its pool (a lane runs one item at a time); a block whose items ran on
// cluster workers has rows per worker, labelled with its name, as many as
// the items that worker ran at once (its slots): the coordinator's lanes
// say nothing of where items ran.
func blockLanes(results []*exec.ItemResult) lanes {
	for _, r := range results {
		if r.Worker != "" && r.Lane != 0 {
			return clusterLanes(results)
		}
	}
	l := lanes{row: make([]int, len(results)), on: func(r *exec.ItemResult) string { return "on worker " + strconv.Itoa(r.Lane) }}
	for i, r := range results {
		l.row[i] = r.Lane - 1
		l.n = max(l.n, r.Lane)
	}
	// Past thinLanes, every fifth is labelled: lanes 1, 5, 10...
	for lane := 1; lane <= l.n; lane++ {
		if l.n <= thinLanes || lane == 1 || lane%5 == 0 {
			l.labels = append(l.labels, laneLabel{row: lane - 1, text: "worker " + strconv.Itoa(lane)})
		}
	}
	return l
}

// clusterLanes groups the items by worker, the workers in name order and
// an item no worker reported (one that no worker finished) last, and
// packs each worker's items on the fewest rows where none overlaps
// another, first come first placed.
func clusterLanes(results []*exec.ItemResult) lanes {
	l := lanes{row: make([]int, len(results)), on: func(r *exec.ItemResult) string {
		if r.Worker == "" {
			return "on no worker"
		}
		return "on worker " + r.Worker
	}}
	byWorker := map[string][]int{}
	for i, r := range results {
		l.row[i] = -1
		if r.Lane != 0 {
			byWorker[r.Worker] = append(byWorker[r.Worker], i)
		}
	}
	names := make([]string, 0, len(byWorker))
	for name := range byWorker {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if (a == "") != (b == "") {
			return cmp.Compare(b, a) // "" last
		}
		return cmp.Compare(a, b)
	})
	for _, name := range names {
		items := byWorker[name]
		slices.SortStableFunc(items, func(a, b int) int { return cmp.Compare(results[a].OffsetMS, results[b].OffsetMS) })
		var ends []float64 // per row of this worker: when its last item ended
		for _, i := range items {
			r := results[i]
			// Times are rounded to the microsecond: an item that
			// started as the last one ended may seem to start 1 µs early.
			row := slices.IndexFunc(ends, func(end float64) bool { return end <= r.OffsetMS+0.001 })
			if row < 0 {
				row = len(ends)
				ends = append(ends, 0)
			}
			ends[row] = r.OffsetMS + r.DurationMS
			l.row[i] = l.n + row
		}
		label := laneLabel{row: l.n, text: name}
		if name == "" {
			label.text = "no worker"
		} else if r := []rune(name); len(r) > maxLaneLabel {
			label.text, label.full = string(r[:maxLaneLabel-1])+"…", name
		}
		l.labels = append(l.labels, label)
		l.n += len(ends)
	}
	return l
}
