//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/flowrun/flowrun/internal/proc"
)

// The tests below run real processes — flowrun apply with its embedded
// NATS server on a free loopback port, and flowrun worker — all of them
// this test binary, which doubles as flowrun (TestMain).

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// process is a flowrun process started by a test.
type process struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{} // closed when it has exited, err set
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start starts bin (flowrun from PATH when "") with args in dir; the
// test's end kills it if it still runs.
func start(t testing.TB, dir, bin string, stdout *bytes.Buffer, args ...string) *process {
	t.Helper()
	if bin == "" {
		bin = "flowrun"
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	// A worker outlives its coordinator by design: should this test
	// process die before its cleanup, its children must not stay.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &process{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *process) wait(t testing.TB, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		err := p.err
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatalf("%s: %v", p.cmd, err)
	case <-time.After(limit):
		t.Fatalf("%s still running after %s; stderr:\n%s", p.cmd, limit, p.stderr)
	}
	return -1
}

// waitLine waits until the process's stderr holds s.
func (p *process) waitLine(t testing.TB, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.stderr.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never wrote %q; stderr:\n%s", p.cmd, s, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clusterApply runs flowrun apply args with --nats embed on a free port
// and n workers, and returns the JSON report.
func clusterApply(t *testing.T, dir string, workers int, args ...string) (map[string]any, *process) {
	t.Helper()
	addr := freeAddr(t)
	var out bytes.Buffer
	apply := start(t, dir, "", &out, append(args, "--nats", "embed", "--nats-listen", addr, "-o", "json")...)
	apply.waitLine(t, "flowrun worker --nats nats://"+addr)
	for i := range workers {
		start(t, dir, "", nil, "worker", "--nats", "nats://"+addr, "--slots", "4", "--name", fmt.Sprint("w", i+1))
	}
	apply.wait(t, 2*time.Minute)
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), apply.stderr)
	}
	return rep, apply
}

// An example runs the same in-process and on two workers behind apply's
// embedded server: same status, outputs and item outputs; the cluster's
// results name the workers, and so does its HTML report.
func TestExampleOnCluster(t *testing.T) {
	t.Setenv("FLOWRUN_STATE_DIR", t.TempDir()) // runs in the checkout: record them elsewhere
	dir, _ := filepath.Abs("../../examples")
	args := []string{"apply", "batch.yaml", "--set", "count=40"}
	code, stdout, stderr := flowrun(t, dir, append(args, "-o", "json")...)
	if code != 0 {
		t.Fatalf("local: exit %d\n%s", code, stderr)
	}
	var local map[string]any
	if err := json.Unmarshal([]byte(stdout), &local); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "run.html")
	remote, apply := clusterApply(t, dir, 2, append(args, "--report", page)...)
	if remote["status"] != "succeeded" || fmt.Sprint(remote["outputs"]) != fmt.Sprint(local["outputs"]) {
		t.Fatalf("cluster: %v %v; local: %v %v\n%s", remote["status"], remote["outputs"], local["status"], local["outputs"], apply.stderr)
	}
	lres, rres := results(local, "square"), results(remote, "square")
	if len(lres) != 40 || len(rres) != 40 {
		t.Fatalf("results: %d local, %d cluster", len(lres), len(rres))
	}
	for i := range lres {
		if fmt.Sprint(lres[i]["output"]) != fmt.Sprint(rres[i]["output"]) || rres[i]["index"] != float64(i) {
			t.Errorf("item %d: local %v, cluster %v", i, lres[i], rres[i])
		}
		if w := rres[i]["worker"]; w != "w1" && w != "w2" {
			t.Errorf("item %d ran on worker %v", i, w)
		}
		if _, ok := lres[i]["worker"]; ok {
			t.Errorf("local item %d names a worker", i)
		}
	}
	// The HTML report draws the lanes of the workers that ran items, by
	// name (one worker may have run them all).
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rres {
		w := fmt.Sprint(r["worker"])
		if !bytes.Contains(b, []byte(">"+w+"</text>")) {
			t.Errorf("the HTML report has no lane labelled %s", w)
		}
		if !regexp.MustCompile(fmt.Sprintf(`<title>square#%v \(key %v\) succeeded in [^<]+ on worker %s</title>`, r["index"], r["key"], w)).Match(b) {
			t.Errorf("the HTML report does not say worker %s ran item %v", w, r["index"])
		}
	}
}

func results(rep map[string]any, step string) []map[string]any {
	for _, s := range rep["steps"].([]any) {
		s := s.(map[string]any)
		if s["id"] == step {
			var out []map[string]any
			for _, r := range s["results"].([]any) {
				out = append(out, r.(map[string]any))
			}
			return out
		}
	}
	return nil
}

// The README's walk-through runs as shown: one coordinator and two
// workers, each command as the README writes it, only the port changed
// (a test must not take 4222).
func TestReadmeClusterWalkthrough(t *testing.T) {
	t.Setenv("FLOWRUN_STATE_DIR", t.TempDir()) // runs in the checkout: record them elsewhere
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds := []string{
		"flowrun apply examples/batch.yaml --set count=200 --nats embed",
		"flowrun worker --nats nats://127.0.0.1:4222 --name a",
		"flowrun worker --nats nats://127.0.0.1:4222 --name b",
	}
	for _, c := range cmds {
		if !bytes.Contains(readme, []byte(c)) {
			t.Fatalf("README does not show %q", c)
		}
	}
	root, _ := filepath.Abs("../..")
	addr := freeAddr(t)
	port := func(c string) []string {
		return strings.Fields(strings.ReplaceAll(c, "127.0.0.1:4222", addr))[1:]
	}
	var out bytes.Buffer
	apply := start(t, root, "", &out, append(port(cmds[0]), "--nats-listen", addr)...)
	apply.waitLine(t, "waiting for workers")
	a := start(t, root, "", nil, port(cmds[1])...)
	b := start(t, root, "", nil, port(cmds[2])...)
	if code := apply.wait(t, time.Minute); code != 0 || !strings.Contains(out.String(), "sum: 2686700") {
		t.Fatalf("apply: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), apply.stderr)
	}
	// Ctrl-C in each worker's terminal: they drain and exit 0.
	for _, w := range []*process{a, b} {
		_ = w.cmd.Process.Signal(os.Interrupt)
		if code := w.wait(t, 30*time.Second); code != 0 {
			t.Errorf("worker: exit %d\n%s", code, w.stderr)
		}
	}
}

// buildFlowrun builds the flowrun command without the race detector, for
// measures.
func buildFlowrun(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "flowrun")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestClusterThroughput measures the figure: 2,000 items of
// sleep: 20ms over 2 worker processes of 16 slots, against the ideal
// 32-slot schedule (1.25 s). It builds flowrun without -race and runs
// only with FLOWRUN_CLUSTER_MEASURE=1.
func TestClusterThroughput(t *testing.T) {
	if os.Getenv("FLOWRUN_CLUSTER_MEASURE") == "" {
		t.Skip("FLOWRUN_CLUSTER_MEASURE=1 measures the cluster's throughput")
	}
	bin := buildFlowrun(t)
	dir := t.TempDir()
	write(t, dir, "sleep.yaml", `
version: 1
steps:
  - id: warmup
    sleep: 2s
  - id: fan
    needs: [warmup]
    parallel: {items: "${{ 1..2000 }}", workers: 32}
    sleep: 20ms
`)
	addr := freeAddr(t)
	var out bytes.Buffer
	apply := start(t, dir, bin, &out, "apply", "sleep.yaml", "--nats", "embed", "--nats-listen", addr, "-o", "json")
	apply.waitLine(t, "flowrun worker --nats")
	for i := range 2 {
		start(t, dir, bin, nil, "worker", "--nats", "nats://"+addr, "--slots", "16", "--name", fmt.Sprint("w", i+1))
	}
	if code := apply.wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, apply.stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	var block float64
	for _, s := range rep["steps"].([]any) {
		if s := s.(map[string]any); s["id"] == "fan" {
			block = s["summary"].(map[string]any)["duration_ms"].(float64)
		}
	}
	// The span from the first item's start to the last one's end.
	first, last := 1e18, 0.0
	for _, r := range results(rep, "fan") {
		off, dur := r["offset_ms"].(float64), r["duration_ms"].(float64)
		first, last = min(first, off), max(last, off+dur)
	}
	const ideal = 2000.0 / 32 * 20
	t.Logf("2000 items of 20ms, 2 workers x 16 slots: block %.0f ms, items from first start to last end %.0f ms; ideal %.0f ms: %.2f of ideal (block), %.2f (items)",
		block, last-first, ideal, ideal/block, ideal/(last-first))
	if ideal/block < 0.75 {
		t.Errorf("the block took %.0f ms: %.2f of the ideal %.0f ms, want at least 0.75", block, ideal/block, ideal)
	}
}

// TestClusterChaos kills worker processes with SIGKILL at random points
// while a block runs, restarting each: every index is in the results
// exactly once (results_file gets one line per accepted result), none
// is missing, all succeeded; re-executions (items run again after their
// worker died) are counted from the items' own log. Short in CI;
// FLOWRUN_CLUSTER_LONG=1 runs 20,000 items and 10 kills.
func TestClusterChaos(t *testing.T) {
	n, kills := 600, 3
	if os.Getenv("FLOWRUN_CLUSTER_LONG") != "" {
		n, kills = 20_000, 10
	}
	dir := t.TempDir()
	write(t, dir, "chaos.yaml", fmt.Sprintf(`
version: 1
steps:
  - id: fan
    parallel:
      items: ${{ 0..%d }}
      workers: 12
      results: failures
      results_file: results.jsonl
    run: echo "$INDEX" >> executions.log
`, n-1))
	addr := freeAddr(t)
	var out bytes.Buffer
	apply := start(t, dir, "", &out, "apply", "chaos.yaml", "--nats", "embed", "--nats-listen", addr,
		"--nats-ack-wait", "1s", "--nats-max-deliver", "50", "-o", "json")
	apply.waitLine(t, "flowrun worker --nats")
	workers := make([]*process, 3)
	spawn := func(i, gen int) {
		workers[i] = start(t, dir, "", nil, "worker", "--nats", "nats://"+addr, "--slots", "4", "--name", fmt.Sprintf("w%d.%d", i, gen))
	}
	for i := range workers {
		spawn(i, 0)
	}
	points := make([]int, kills)
	for i := range points {
		points[i] = rand.IntN(n*8/10) + n/20
	}
	slices.Sort(points)
	killed := 0
	for k, at := range points {
		for lines(filepath.Join(dir, "executions.log")) < at {
			select {
			case <-apply.done:
				t.Fatalf("apply ended before kill %d:\n%s", k, apply.stderr)
			case <-time.After(5 * time.Millisecond):
			}
		}
		i := rand.IntN(len(workers))
		if err := workers[i].cmd.Process.Signal(syscall.SIGKILL); err == nil {
			killed++
		}
		<-workers[i].done
		spawn(i, k+1)
	}
	if code := apply.wait(t, 10*time.Minute); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, apply.stderr)
	}
	seen := make([]int, n)
	f, err := os.Open(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct {
			Index    int    `json:"index"`
			Status   string `json:"status"`
			Attempts int    `json:"attempts"`
			Worker   string `json:"worker"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Index < 0 || r.Index >= n || r.Status != "succeeded" || r.Worker == "" {
			t.Errorf("result %s", sc.Bytes())
			continue
		}
		seen[r.Index]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Errorf("index %d in the results %d times, want once", i, c)
		}
	}
	execs := lines(filepath.Join(dir, "executions.log"))
	t.Logf("%d items, %d workers killed with SIGKILL and restarted: %d executions, %d re-executions, every index accepted once",
		n, killed, execs, execs-n)
	if execs < n {
		t.Errorf("%d executions for %d items", execs, n)
	}
}

// lines counts the lines of a file (0 if it does not exist yet).
func lines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}

// A worker's first SIGINT drains: its running item may finish within the
// grace; a second SIGINT exits at once, with 130, and the item's process
// does not outlive it.
func TestWorkerSecondSignal(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "long.yaml", `
version: 1
steps:
  - id: fan
    parallel: {items: [1], workers: 1}
    run: |
      echo $$ > child.pid
      sleep 60
`)
	addr := freeAddr(t)
	apply := start(t, dir, "", nil, "apply", "long.yaml", "--nats", "embed", "--nats-listen", addr)
	apply.waitLine(t, "flowrun worker --nats")
	w := start(t, dir, "", nil, "worker", "--nats", "nats://"+addr, "--slots", "1", "--name", "w1", "--grace", "1m")
	waitFor(t, filepath.Join(dir, "child.pid"))
	_ = w.cmd.Process.Signal(os.Interrupt)
	w.waitLine(t, "draining")
	select {
	case <-w.done:
		t.Fatalf("the worker exited on the first signal with an item running within its grace:\n%s", w.stderr)
	case <-time.After(300 * time.Millisecond):
	}
	_ = w.cmd.Process.Signal(os.Interrupt)
	if code := w.wait(t, 10*time.Second); code != 130 {
		t.Fatalf("second signal: exit %d, want 130\n%s", code, w.stderr)
	}
	pid := readPID(t, filepath.Join(dir, "child.pid"))
	deadline := time.Now().Add(10 * time.Second)
	for proc.Alive(pid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if proc.Alive(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the item's process %d outlived its worker", pid)
	}
}

// A NATS server of one's own with a user and password: apply and workers
// reach it through nats://user:password@host, and a wrong password stops
// a worker at once (waiting would not cure it) with exit 2, the password
// not shown.
func TestClusterUserPassword(t *testing.T) {
	t.Setenv("FLOWRUN_STATE_DIR", t.TempDir()) // runs in the checkout: record them elsewhere
	addr := freeAddr(t)
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	ns, err := server.NewServer(&server.Options{
		Host: host, Port: port, JetStream: true, StoreDir: t.TempDir(),
		Username: "flow", Password: "s3cret-pass", NoSigs: true, NoLog: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	dir, _ := filepath.Abs("../../examples")
	url := "nats://flow:s3cret-pass@" + addr
	var out bytes.Buffer
	apply := start(t, dir, "", &out, "apply", "batch.yaml", "--nats", url)
	start(t, dir, "", nil, "worker", "--nats", url, "--name", "w1")
	if code := apply.wait(t, time.Minute); code != 0 || !strings.Contains(out.String(), "sum: 2870") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out.String(), apply.stderr)
	}
	code, _, stderr := flowrun(t, dir, "worker", "--nats", "nats://flow:wrong@"+addr)
	if code != 2 || !strings.Contains(stderr, "Authorization Violation") || strings.Contains(stderr, "wrong") {
		t.Errorf("worker with a wrong password: exit %d\n%s", code, stderr)
	}
}

// Connection flags that cannot work fail at once, with exit 2.
func TestClusterFlagErrors(t *testing.T) {
	t.Setenv("FLOWRUN_STATE_DIR", t.TempDir()) // runs in the checkout: record them elsewhere
	dir, _ := filepath.Abs("../../examples")
	addr := freeAddr(t) // nobody listens there
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"apply", "hello.yaml", "--nats", "nats://" + addr}, "no servers available"},
		{[]string{"apply", "hello.yaml", "--nats", "nats://" + addr, "--nats-creds", "nope.creds"}, "nope.creds: no such file"},
		{[]string{"apply", "hello.yaml", "--nats", "embed", "--nats-ack-wait", "1ms"}, "--nats-ack-wait must be at least 100ms"},
		{[]string{"apply", "hello.yaml", "--nats", "embed", "--nats-listen", "127.0.0.1:99999"}, "port must be 0..65535"},
		{[]string{"apply", "hello.yaml", "--nats", "embed", "--nats-tls-ca", "ca.pem"}, "--nats embed serves plain nats:// without accounts"},
		{[]string{"worker", "--nats", "nats://" + addr, "--nats-creds", "nope.creds"}, "nope.creds: no such file"},
		{[]string{"worker", "--nats", "nats://" + addr, "--slots=-1"}, "--slots must be at least 1"},
	}
	for _, tt := range tests {
		code, _, stderr := flowrun(t, dir, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("flowrun %s: exit %d, want 2 and %q\n%s", strings.Join(tt.args, " "), code, tt.want, stderr)
		}
	}
}
