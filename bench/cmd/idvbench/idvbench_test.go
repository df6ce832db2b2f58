package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestHookSignatureFollowsAbleIDsFormula(t *testing.T) {
	// UPPER(SHA1(UPPER(SHA1("bench" + "bench-secret")) + "abc")), computed independently
	// (Python's hashlib) from the formula in the AbleID notes.
	got := hookSignature("abc")
	if len(got) != 40 || strings.ToUpper(got) != got {
		t.Fatalf("signature %q: want 40 upper-case hex characters", got)
	}
	if hookSignature("abc") != got || hookSignature("abd") == got {
		t.Fatal("the signature must depend on the attempt id, and only on it")
	}
	const want = "4EB302DBF3302D1636C84BE41A1872058D7BEE86"
	if got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

func TestCompletionHookCarriesTheAttempt(t *testing.T) {
	body := string(completionHook(attempt{id: "id-1", transactionID: "tx-1"}))
	for _, part := range []string{`"attemptId":"id-1"`, `"transactionId":"tx-1"`, `"statusCode":200`,
		`"hash":"` + hookSignature("id-1") + `"`} {
		if !strings.Contains(body, part) {
			t.Errorf("hook body %s lacks %s", body, part)
		}
	}
}

func TestMedianAndPercentile(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3 values: %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median of 4 values: %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing must be NaN")
	}
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{50: 50, 99: 99, 100: 100, 1: 1, 0: 1} {
		if got := percentile(ds, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
}

func TestRowsUseBaselinesMeasuredInTheSameResults(t *testing.T) {
	r := newResults()
	r.add("a", "µs", 10)
	r.add("a", "µs", 30)
	r.add("a", "µs", 20)
	r.add("base", "µs", 5)
	r.add("base", "µs", 10)
	r.add("base", "µs", 5)
	rows := r.rowResults([]row{{Figure: "a", Key: "a", BaseKey: "base"}, {Figure: "missing", Key: "nope"}})
	if len(rows) != 1 {
		t.Fatalf("rows: %d, want 1 (a row without measurements is left out)", len(rows))
	}
	got := rows[0]
	// Per-run ratios 2, 3, 4: their median, not 20/5.
	if got.Median != 20 || got.Min != 10 || got.Max != 30 || got.Runs != 3 || got.Ratio != 3 || got.BaseLine != 5 {
		t.Errorf("row %+v", got)
	}
}

func TestPow10(t *testing.T) {
	for n, want := range map[int]string{1000: "10³", 1000000: "10⁶", 3000: "3000", 1: "10⁰"} {
		if got := pow10(n); got != want {
			t.Errorf("pow10(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSummarizeGroupsPerfReportLines(t *testing.T) {
	report := `# comment
    40.00%  |[kernel.kallsyms]|[k] tcp_sendmsg_locked
    30.00%  |idv-gateway      |[.] <tokio::sync::mpsc::list::Tx<T>>::push
    20.00%  |idv-gateway      |[.] sqlite3VdbeExec
    10.00%  |libc.so.6        |[.] _int_malloc
`
	got := summarize(report)
	for _, want := range []string{"40.0%  kernel: network", "30.0%  crate tokio",
		"20.0%  C in the binary (bundled SQLite)", "10.0%  libc: malloc/free", "100% accounted"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}

func TestPostgresDatabasePerGatewayURL(t *testing.T) {
	// psql is `true`: every statement "succeeds" without a server.
	pg, err := newPgServer("postgres://idv:s3cret@127.0.0.1:5433/postgres?sslmode=disable", "true",
		"20261125T064420Z")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(pg.url.String(), "s3cret") || pg.password != "s3cret" {
		t.Fatalf("the password must leave psql's command line: url %s", pg.url)
	}
	got, err := pg.create(t.Context(), "/tmp/main-1")
	if err != nil {
		t.Fatal(err)
	}
	const want = "postgres://idv:s3cret@127.0.0.1:5433/bench_20261125t064420z_1?sslmode=disable"
	if got != want {
		t.Fatalf("gateway URL %s, want %s", got, want)
	}
	if u, ok := pg.urlFor("/tmp/main-1"); !ok || u != want {
		t.Fatalf("urlFor: %q %v", u, ok)
	}
	if err := pg.drop(t.Context(), "/tmp/main-1"); err != nil || len(pg.created) != 0 {
		t.Fatalf("drop: %v, left %v", err, pg.created)
	}
	if _, err := newPgServer("mysql://x@y/z", "true", "s"); err == nil {
		t.Fatal("a non-postgres URL must be refused")
	}
}
