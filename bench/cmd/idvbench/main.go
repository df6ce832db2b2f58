// Command idvbench measures the gateway against a minimal vendor stub, each figure beside
// a baseline measured in the same run, and prints one table. scripts/bench builds
// everything and runs it; see BENCHMARKS.md for what each figure means.
//
//	idvbench -gateway target/release/idv-gateway -stub ... -ghz ... -wrk ... [-quick] [-runs 3]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the command line, plus the sizes that --quick shrinks.
type options struct {
	gateway, stub, ghz, wrk, seeder, eatmydata, perf string
	protoDir, outDir, workDir, seedCache, seedKey    string
	revision, logLevel, store, summarize             string
	databaseURL, psql                                string
	gatewayEnv                                       []string
	runs                                             int
	quick                                            bool
	only                                             map[string]bool

	unaryDuration        time.Duration
	watchers             int
	fanoutBaselineRounds int
	floodHooks           int
	floodSenders         int
	fsyncDuration        time.Duration
	idleLevels           []int
	idleAttempts         int
	idleConns            int
	idleOpenConcurrency  int
	idleSettle           time.Duration
	scaleSizes           []int
	scaleStarts          int
	scaleDuration        time.Duration
	scaleOpens           int
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

var scenarios = []string{"unary", "fanout", "flood", "replicas", "idle", "scaling"}

func parseOptions() (options, error) {
	var o options
	var env stringList
	var only string
	flag.StringVar(&o.gateway, "gateway", "target/release/idv-gateway", "the gateway binary (a release build)")
	flag.StringVar(&o.stub, "stub", "target/bench/bin/stub", "the vendor stub binary")
	flag.StringVar(&o.ghz, "ghz", "ghz", "ghz")
	flag.StringVar(&o.wrk, "wrk", "wrk", "wrk")
	flag.StringVar(&o.seeder, "seeder", "target/release/examples/seed_events", "the seed_events example binary")
	flag.StringVar(&o.eatmydata, "eatmydata", "", "eatmydata, to seed without fsync (optional)")
	flag.StringVar(&o.perf, "perf", "", "perf: profile the gateway during the main load of each scenario")
	flag.StringVar(&o.summarize, "summarize", "", "print the component summary of a perf.data file and exit")
	flag.StringVar(&o.protoDir, "proto", "proto", "the gateway's proto directory")
	flag.StringVar(&o.outDir, "out", "target/bench", "where results go")
	flag.StringVar(&o.seedKey, "seed-key", "dev", "a hash of the seeder's source, to key seeded directories")
	flag.StringVar(&o.revision, "revision", "", "the source revision measured, for the record")
	flag.StringVar(&o.logLevel, "log", "warn", "the gateway's IDV_LOG")
	flag.StringVar(&o.store, "store", "sqlite", "the event store: sqlite, or postgres (a database per gateway)")
	flag.StringVar(&o.databaseURL, "database-url", os.Getenv("IDV_TEST_DATABASE_URL"),
		"-store postgres: a server and a role that may create databases, as postgres://user@host:port/db "+
			"(default $IDV_TEST_DATABASE_URL, which scripts/with-postgres sets)")
	flag.StringVar(&o.psql, "psql", "", "-store postgres: psql (default: beside the server scripts/with-postgres "+
		"found, then /usr/lib/postgresql/<newest>/bin, then PATH)")
	flag.Var(&env, "gateway-env", "KEY=VALUE added to the gateway's environment (repeatable)")
	flag.IntVar(&o.runs, "runs", 3, "runs of each scenario")
	flag.BoolVar(&o.quick, "quick", false, "one short run of everything, to prove it works (CI)")
	flag.StringVar(&only, "only", "", "comma-separated scenarios to run: "+strings.Join(scenarios, ","))
	flag.Parse()
	o.gatewayEnv = env
	o.workDir = filepath.Join(o.outDir, "tmp")
	o.seedCache = o.outDir
	o.only = map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(scenarios, s) {
			return o, fmt.Errorf("-only: unknown scenario %q (known: %s)", s, strings.Join(scenarios, ", "))
		}
		o.only[s] = true
	}
	if o.store != "sqlite" && o.store != "postgres" {
		return o, fmt.Errorf("-store: %q is neither sqlite nor postgres", o.store)
	}
	if o.store == "postgres" && o.databaseURL == "" {
		return o, errors.New("-store postgres: no server: give -database-url or IDV_TEST_DATABASE_URL " +
			"(scripts/bench --store postgres starts one with scripts/with-postgres)")
	}
	if o.runs < 1 {
		return o, errors.New("-runs: at least 1")
	}

	o.unaryDuration = 3 * time.Second
	o.watchers = 1000
	o.fanoutBaselineRounds = 15
	o.floodHooks = 3000
	o.floodSenders = 64
	o.fsyncDuration = time.Second
	o.idleLevels = []int{1000, 10000}
	o.idleAttempts = 100
	o.idleConns = 64
	o.idleOpenConcurrency = 256
	o.idleSettle = 500 * time.Millisecond
	o.scaleSizes = []int{1000, 100000, 1000000}
	o.scaleStarts = 1000
	o.scaleDuration = 4 * time.Second
	o.scaleOpens = 200
	if o.quick {
		o.runs = 1
		o.unaryDuration = time.Second
		o.fanoutBaselineRounds = 5
		o.floodHooks = 500
		o.fsyncDuration = 300 * time.Millisecond
		o.idleLevels = []int{1000, 3000}
		o.idleSettle = 300 * time.Millisecond
		o.scaleSizes = []int{1000, 10000}
		o.scaleStarts = 200
		o.scaleDuration = 2 * time.Second
		o.scaleOpens = 50
	}
	return o, nil
}

func (o options) enabled(name string) bool { return len(o.only) == 0 || o.only[name] }

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func main() {
	opts, err := parseOptions()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if opts.summarize != "" {
		perf := opts.perf
		if perf == "" {
			perf = "perf"
		}
		out, err := runToolQuiet(perf, "report", "--stdio", "-i", opts.summarize, "--no-children",
			"--sort", "dso,symbol", "-g", "none", "-t", "|")
		if err != nil {
			fmt.Fprintln(os.Stderr, "perf report:", err)
			os.Exit(1)
		}
		fmt.Print(summarize(string(out)))
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "bench failed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, opts options) error {
	began := time.Now()
	stamp := began.UTC().Format("20060102T150405Z")
	b := &bench{opts: opts, workDir: filepath.Join(opts.workDir, stamp), logDir: filepath.Join(opts.outDir, "logs", stamp)}
	for _, dir := range []string{b.workDir, b.logDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	defer os.RemoveAll(b.workDir)
	if opts.store == "postgres" {
		pg, err := b.openPostgres(ctx, stamp)
		if err != nil {
			return err
		}
		b.pg = pg
		defer func() {
			// Whatever happened, even an interrupt: the databases go.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if err := pg.dropAll(ctx); err != nil {
				b.logf("dropping the benchmark's databases: %v", err)
			}
		}()
	}
	healthSet, err := healthProtoset(b.workDir)
	if err != nil {
		return err
	}
	b.healthSet = healthSet
	machine := machineInfo(b.workDir)
	b.logf("%d cores, %s, kernel %s; load average %s", machine["nproc"], machine["cpu"], machine["kernel"],
		machine["loadavg"])
	store := opts.store
	if b.pg != nil {
		machine["postgres"] = b.pg.describe()
		store = fmt.Sprintf("postgres (%s, fsync %s)", b.pg.short(), b.pg.settings["fsync"])
	}
	if err := b.startStub(); err != nil {
		return err
	}
	defer b.stub.stop(5 * time.Second)

	r := newResults()
	for run := 1; run <= opts.runs; run++ {
		b.logf("run %d of %d", run, opts.runs)
		if err := b.oneRun(ctx, r); err != nil {
			return fmt.Errorf("run %d: %w", run, err)
		}
	}

	rows := r.rowResults(b.rows())
	fmt.Printf("\nidv-gateway benchmark: %d run(s)%s, %d cores (%s), IDV_LOG=%s, store %s\n\n",
		opts.runs, map[bool]string{true: " (--quick)", false: ""}[opts.quick], machine["nproc"], machine["cpu"],
		opts.logLevel, store)
	printTable(os.Stdout, rows)
	fmt.Println()
	b.printCurves(r)

	machine["loadavg_after"] = loadavg()
	report := map[string]any{
		"started":  began.UTC().Format(time.RFC3339),
		"seconds":  time.Since(began).Seconds(),
		"revision": opts.revision,
		"machine":  machine,
		"options": map[string]any{
			"runs": opts.runs, "quick": opts.quick, "log": opts.logLevel, "store": opts.store,
			"unary_seconds": opts.unaryDuration.Seconds(), "watchers": opts.watchers,
			"flood_hooks": opts.floodHooks, "flood_senders": opts.floodSenders,
			"idle_levels": opts.idleLevels, "idle_attempts": opts.idleAttempts, "idle_connections": opts.idleConns,
			"scale_sizes": opts.scaleSizes, "scale_starts": opts.scaleStarts, "scale_seconds": opts.scaleDuration.Seconds(), "scale_opens": opts.scaleOpens,
			"gateway_env": opts.gatewayEnv,
		},
		"order":   r.order,
		"metrics": r.Metrics,
		"table":   rows,
	}
	path := filepath.Join(opts.outDir, "results-"+stamp+".json")
	if err := writeJSON(path, report); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(opts.outDir, "latest.json"), report); err != nil {
		return err
	}
	fmt.Printf("raw results: %s (and latest.json); logs: %s; %.0f s in all\n", path, b.logDir,
		time.Since(began).Seconds())
	return nil
}

// oneRun is one repetition of every scenario, each on gateways started for it.
func (b *bench) oneRun(ctx context.Context, r *results) error {
	o := b.opts
	if o.enabled("unary") || o.enabled("fanout") || o.enabled("flood") {
		dir, err := b.newDataDir(ctx, "main")
		if err != nil {
			return err
		}
		g, err := b.startGateway(ctx, "main", dir)
		if err != nil {
			return err
		}
		r.add("startup.main", "ms", ms(g.startup))
		err = func() error {
			defer g.stop()
			if o.enabled("unary") {
				if err := b.unary(ctx, g, r); err != nil {
					return err
				}
			}
			if o.enabled("fanout") {
				if err := b.fanout(ctx, g, r); err != nil {
					return err
				}
			}
			if o.enabled("flood") {
				if err := b.flood(ctx, g, r); err != nil {
					return err
				}
			}
			return nil
		}()
		b.removeDataDir(ctx, dir)
		if err != nil {
			return err
		}
	}
	if o.enabled("flood") && b.pg != nil {
		if err := b.sqliteFlood(ctx, r); err != nil {
			return err
		}
	}
	if o.enabled("replicas") {
		if err := b.replicas(ctx, r); err != nil {
			return err
		}
	}
	if o.enabled("idle") {
		for _, kind := range []string{"health", "watch"} {
			if err := b.idle(ctx, r, kind, o.idleLevels); err != nil {
				return err
			}
		}
	}
	if o.enabled("scaling") {
		if o.store != "sqlite" {
			b.logf("scaling: skipped, the seeder writes the SQLite store only")
		} else {
			for _, size := range o.scaleSizes {
				if err := b.scaling(ctx, r, size); err != nil {
					return err
				}
			}
		}
	}
	return ctx.Err()
}

// pow10 writes 1000 as 10³, for labels.
func pow10(n int) string {
	sup := []string{"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"}
	e := 0
	for m := n; m >= 10 && m%10 == 0; m /= 10 {
		e++
	}
	if n != intPow10(e) {
		return fmt.Sprint(n)
	}
	if e < 10 {
		return "10" + sup[e]
	}
	return fmt.Sprint(n)
}

func intPow10(e int) int {
	n := 1
	for range e {
		n *= 10
	}
	return n
}

func (b *bench) rows() []row {
	o := b.opts
	small, big := o.scaleSizes[0], o.scaleSizes[len(o.scaleSizes)-1]
	lowIdle, topIdle := o.idleLevels[0], o.idleLevels[len(o.idleLevels)-1]
	n := fmt.Sprint(o.watchers)
	scale := func(size int, what string) string { return fmt.Sprintf("scale.%d.%s", size, what) }
	idle := func(kind string, level int, what string) string {
		return fmt.Sprintf("idle.%s.%d.%s", kind, level, what)
	}
	return []row{
		{"GetApplicant p50, concurrency 1", "unary.c1.get.p50", "direct HTTP to the stub (wrk)", "unary.c1.direct.p50", ""},
		{"  added by the gateway (gateway − direct)", "unary.c1.get.added_p50", "bare gRPC Health/Check p50", "unary.c1.health.p50", "≤ +150 µs"},
		{"GetApplicant p99, concurrency 1", "unary.c1.get.p99", "direct HTTP p99", "unary.c1.direct.p99", ""},
		{"gateway CPU per GetApplicant, c=1", "unary.c1.get.cpu_per_call", "per Health/Check", "unary.c1.health.cpu_per_call", "≤ 100 µs"},
		{"gateway CPU per GetApplicant, c=64", "unary.c64.get.cpu_per_call", "per Health/Check", "unary.c64.health.cpu_per_call", "≤ 40 µs"},
		{"GetApplicant throughput, c=64", "unary.c64.get.rps", "direct HTTP (wrk)", "unary.c64.direct.rps", "(ratio only: shared cores)"},
		{"GetApplicant p50, c=64", "unary.c64.get.p50", "direct HTTP p50", "unary.c64.direct.p50", ""},
		{"hook → " + n + " watchers, p99 from the 2xx", "fanout.n.p99", "one watcher, same", "fanout.1.p99", "≤ 8 ms"},
		{"hook → " + n + " watchers, p99 from the send", "fanout.n.send_p99", "one watcher, same", "fanout.1.send_p99", ""},
		{"hook → " + n + " watchers, p50 from the send", "fanout.n.send_p50", "one watcher, same", "fanout.1.send_p50", ""},
		{"  gateway CPU per extra watcher", "fanout.n.cpu_per_watcher", "", "", ""},
		{"RSS per idle WatchAttempt, " + pow10(topIdle) + " streams", idle("watch", topIdle, "kib_per_stream"), "idle Health/Watch stream", idle("health", topIdle, "kib_per_stream"), "≤ 8 KiB"},
		{"RSS per idle WatchAttempt, " + pow10(lowIdle) + " streams", idle("watch", lowIdle, "kib_per_stream"), "idle Health/Watch stream", idle("health", lowIdle, "kib_per_stream"), "≤ 8 KiB"},
		{"peak OS threads opening " + pow10(topIdle) + " watches", idle("watch", topIdle, "peak_threads"), "same for Health/Watch", idle("health", topIdle, "peak_threads"), "bounded by config"},
		{"durable hooks/s, " + fmt.Sprint(o.floodSenders) + " senders", "flood.hooks_per_s", "serial write+fsync/s, same disk", "flood.fsync_per_s", "≥ 8000/s"},
		{"hook p99, " + fmt.Sprint(o.floodSenders) + " senders", "flood.p99", "trivial POST to the stub p99", "flood.trivial_p99", "≤ 15 ms"},
		{"  gateway CPU per hook", "flood.cpu_per_hook", "", "", ""},
		{"durable hooks/s, PostgreSQL", "flood.pg.hooks_per_s", "SQLite store, same run", "flood.sqlite.hooks_per_s", ""},
		{"hook on replica A → watcher on B, p50", "replicas.cross.p50", "watcher on A, same rounds", "replicas.same.p50", ""},
		{"hook on replica A → watcher on B, p99", "replicas.cross.p99", "watcher on A, same rounds", "replicas.same.p99", ""},
		{"start-up to SERVING, " + pow10(big) + " events", scale(big, "startup"), "at " + pow10(small) + " events", scale(small, "startup"), "≤ 20 ms"},
		{"start-up to SERVING, new data dir", "startup.empty", "", "", ""},
		{"StartResidentCheck p50, " + pow10(big) + " events", scale(big, "start.p50"), "at " + pow10(small) + " events", scale(small, "start.p50"), "flat (ratio 1)"},
		{"gateway CPU per start, " + pow10(big) + " events", scale(big, "start.cpu_per_call"), "at " + pow10(small) + " events", scale(small, "start.cpu_per_call"), "flat (ratio 1)"},
		{"WatchAttempt open+replay p50, " + pow10(big) + " events", scale(big, "watch_open.p50"), "at " + pow10(small) + " events", scale(small, "watch_open.p50"), ""},
	}
}

// printCurves prints the scaling curves: per stored-event count and per stream count.
func (b *bench) printCurves(r *results) {
	o := b.opts
	if o.enabled("scaling") && o.store == "sqlite" {
		fmt.Println("scaling with stored events (medians):")
		fmt.Println("  events   start-up   StartResidentCheck p50   CPU/start   WatchAttempt first msg   open+replay p50")
		if v, ok := r.median("startup.empty"); ok {
			fmt.Printf("  %-7s  %6.1f ms  (a new data directory: the schema is created)\n", "none", v)
		}
		for _, size := range o.scaleSizes {
			get := func(what string) float64 {
				v, ok := r.median(fmt.Sprintf("scale.%d.%s", size, what))
				if !ok {
					return -1
				}
				return v
			}
			fmt.Printf("  %-7s  %6.1f ms  %19.0f µs  %7.0f µs  %20.0f µs  %13.0f µs\n", pow10(size),
				get("startup"), get("start.p50"), get("start.cpu_per_call"), get("watch_first.p50"),
				get("watch_open.p50"))
		}
		fmt.Println()
	}
	if o.enabled("idle") {
		fmt.Println("idle streams (medians):")
		fmt.Println("  streams   WatchAttempt KiB/stream   Health/Watch KiB/stream   threads at rest   peak threads")
		for _, level := range o.idleLevels {
			get := func(kind, what string) float64 {
				v, _ := r.median(fmt.Sprintf("idle.%s.%d.%s", kind, level, what))
				return v
			}
			fmt.Printf("  %-7s   %22.1f   %23.1f   %15.0f   %12.0f\n", pow10(level),
				get("watch", "kib_per_stream"), get("health", "kib_per_stream"),
				get("watch", "threads_at_rest"), get("watch", "peak_threads"))
		}
		fmt.Println()
	}
}

// openPostgres connects to the server of --store postgres and says what it is. Its
// durability settings are logged, and fsync off is flagged: hooks are acknowledged once
// durable, so the hook figures mean something only with fsync on (scripts/bench starts its
// server so). The fsync baseline runs in the gateways' data directories: it stands for
// the server's WAL when the cluster's data directory is on the same disk, which is checked
// when the cluster is scripts/with-postgres's (IDV_TEST_PG_DATA).
func (b *bench) openPostgres(ctx context.Context, stamp string) (*pgServer, error) {
	pg, err := newPgServer(b.opts.databaseURL, b.opts.psql, stamp)
	if err != nil {
		return nil, err
	}
	if err := pg.check(ctx); err != nil {
		return nil, err
	}
	b.logf("store postgres: %s on %s (psql %s); fsync=%s synchronous_commit=%s full_page_writes=%s "+
		"wal_sync_method=%s; a database per gateway, %s<n>", pg.version, pg.url.Redacted(), pg.psql,
		pg.settings["fsync"], pg.settings["synchronous_commit"], pg.settings["full_page_writes"],
		pg.settings["wal_sync_method"], pg.prefix)
	if pg.settings["fsync"] != "on" || pg.settings["synchronous_commit"] == "off" {
		b.logf("WARNING: this server does not make commits durable (fsync=%s, synchronous_commit=%s): "+
			"the hook figures are not comparable with SQLite's synchronous=FULL", pg.settings["fsync"],
			pg.settings["synchronous_commit"])
	}
	data := os.Getenv("IDV_TEST_PG_DATA")
	if data == "" {
		data = pg.settings["data_directory"] // readable by a superuser; the server's own path
	}
	if data != "" {
		if _, err := os.Stat(data); err == nil {
			pgFS, pgSrc := mountOf(data)
			fs, src := mountOf(b.workDir)
			pg.dataDisk = fmt.Sprintf("%s on %s", pgFS, pgSrc)
			same := pgSrc == src && pgFS == fs
			b.logf("PostgreSQL's data directory %s is on %s; the fsync baseline's (%s) on %s on %s: %s", data,
				pg.dataDisk, b.workDir, fs, src, map[bool]string{true: "the same disk",
					false: "NOT the same disk: the baseline does not describe the WAL's"}[same])
		} else {
			b.logf("PostgreSQL's data directory %s is not on this machine's file system: the fsync "+
				"baseline is this machine's disk, not necessarily the server's", data)
		}
	}
	return pg, nil
}

// machineInfo describes where the numbers come from.
func machineInfo(dir string) map[string]any {
	m := map[string]any{"nproc": runtime.NumCPU(), "loadavg": loadavg()}
	if raw, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m["kernel"] = strings.TrimSpace(string(raw))
	}
	m["cpu"] = firstField("/proc/cpuinfo", "model name")
	m["memory"] = firstField("/proc/meminfo", "MemTotal")
	if fs, source := mountOf(dir); fs != "" {
		m["disk"] = fmt.Sprintf("%s on %s", fs, source)
	}
	return m
}

func loadavg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func firstField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// mountOf finds the filesystem type and source of the mount holding dir.
func mountOf(dir string) (fstype, source string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", ""
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", ""
	}
	defer f.Close()
	best := -1
	s := bufio.NewScanner(f)
	for s.Scan() {
		// id parent major:minor root mountpoint options ... - fstype source superoptions
		pre, post, ok := strings.Cut(s.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 2 {
			continue
		}
		mp := pf[4]
		if (abs == mp || strings.HasPrefix(abs, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > best {
			best, fstype, source = len(mp), qf[0], qf[1]
		}
	}
	return fstype, source
}
