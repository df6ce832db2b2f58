package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
)

// load is what one load-tool run measured.
type load struct {
	calls    float64
	rps      float64
	p50, p99 time.Duration
	errors   int
	gwCPU    time.Duration // the gateway's CPU time during the run
	stubCPU  time.Duration // the stub's
}

// ghzReport is the part of ghz's JSON report the benchmark reads.
type ghzReport struct {
	Count               float64          `json:"count"`
	Rps                 float64          `json:"rps"`
	ErrorDistribution   map[string]int   `json:"errorDistribution"`
	StatusCodeDist      map[string]int   `json:"statusCodeDistribution"`
	LatencyDistribution []ghzLatencyDist `json:"latencyDistribution"`
}

type ghzLatencyDist struct {
	Percentage int   `json:"percentage"`
	Latency    int64 `json:"latency"` // nanoseconds
}

// grpcCall names a method for ghz: either a .proto under the repository's proto/ or a
// protoset file.
type grpcCall struct {
	method   string
	proto    string // path relative to the proto root
	protoset string
	data     string
}

// healthProtoset writes grpc.health.v1's descriptor (from grpc-go) as a protoset, so ghz
// needs neither the gateway's reflection nor a copy of health.proto.
func healthProtoset(dir string) (string, error) {
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{
		protodesc.ToFileDescriptorProto(healthpb.File_grpc_health_v1_health_proto),
	}}
	raw, err := proto.Marshal(set)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "health.protoset")
	return path, os.WriteFile(path, raw, 0o644)
}

// ghz runs ghz against the gateway at a fixed concurrency for a duration d or, when n > 0,
// for n calls or d, whichever ends first; over one HTTP/2 connection, as one grpc-go
// ClientConn would use.
func (b *bench) ghz(ctx context.Context, g *gateway, call grpcCall, concurrency int, d time.Duration, n int,
) (load, error) {
	args := []string{"--insecure", "--call", call.method, "-d", call.data,
		"-c", strconv.Itoa(concurrency), "--connections", "1", "-O", "json", "--timeout", "20s"}
	if n > 0 {
		args = append(args, "-n", strconv.Itoa(n), "-x", d.String())
	} else {
		args = append(args, "-z", d.String())
	}
	// Calls in flight when the time is up finish and count, rather than fail.
	args = append(args, "--duration-stop", "wait")
	if call.protoset != "" {
		args = append(args, "--protoset", call.protoset)
	} else {
		args = append(args, "--proto", filepath.Join(b.opts.protoDir, call.proto), "--import-paths", b.opts.protoDir)
	}
	args = append(args, g.grpcAddr)
	var report ghzReport
	l, err := b.measured(g, func() error {
		out, err := runTool(ctx, b.opts.ghz, args...)
		if err != nil {
			return err
		}
		return json.Unmarshal(out, &report)
	})
	if err != nil {
		return l, err
	}
	l.calls = report.Count
	l.rps = report.Rps
	for status, count := range report.StatusCodeDist {
		if status != "OK" {
			l.errors += count
		}
	}
	for _, p := range report.LatencyDistribution {
		switch p.Percentage {
		case 50:
			l.p50 = time.Duration(p.Latency)
		case 99:
			l.p99 = time.Duration(p.Latency)
		}
	}
	if l.errors > 0 || l.calls == 0 {
		return l, fmt.Errorf("ghz %s: %d calls, %d not OK: %v", call.method, int(l.calls), l.errors,
			report.ErrorDistribution)
	}
	return l, nil
}

// wrkScript makes wrk print its figures as one JSON line (latencies in µs).
const wrkScript = `wrk.headers["Authorization"] = "Bearer ` + bafKey + `"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\n{"requests":%d,"duration_us":%d,"errors":%d,"status_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
`

type wrkReport struct {
	Requests     float64 `json:"requests"`
	DurationUS   float64 `json:"duration_us"`
	Errors       int     `json:"errors"`
	StatusErrors int     `json:"status_errors"`
	P50US        float64 `json:"p50_us"`
	P99US        float64 `json:"p99_us"`
}

// wrk calls the stub's BAF applicant URL directly: the same request the gateway makes.
func (b *bench) wrk(ctx context.Context, g *gateway, concurrency int, d time.Duration) (load, error) {
	script := filepath.Join(b.workDir, "wrk-json.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return load{}, err
	}
	threads := min(concurrency, 2)
	secs := max(int(d.Round(time.Second)/time.Second), 1)
	url := "http://" + b.stubAddr + "/baf/publicapi/api/v2/private/Applicants/" + applicantID
	var report wrkReport
	l, err := b.measured(g, func() error {
		out, err := runTool(ctx, b.opts.wrk, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(concurrency),
			"-d", fmt.Sprintf("%ds", secs), "-s", script, url)
		if err != nil {
			return err
		}
		i := bytes.LastIndex(out, []byte(`{"requests"`))
		if i < 0 {
			return fmt.Errorf("wrk printed no JSON: %s", out)
		}
		return json.Unmarshal(bytes.TrimSpace(out[i:]), &report)
	})
	if err != nil {
		return l, err
	}
	l.calls = report.Requests
	l.rps = report.Requests / (report.DurationUS / 1e6)
	l.p50 = time.Duration(report.P50US * float64(time.Microsecond))
	l.p99 = time.Duration(report.P99US * float64(time.Microsecond))
	l.errors = report.Errors + report.StatusErrors
	if l.errors > 0 || l.calls == 0 {
		return l, fmt.Errorf("wrk: %d requests, %d errors", int(l.calls), l.errors)
	}
	return l, nil
}

// measured runs fn and adds the CPU the gateway and the stub spent meanwhile.
func (b *bench) measured(g *gateway, fn func() error) (load, error) {
	gw0, err1 := cpuTime(g.pid())
	stub0, err2 := cpuTime(b.stub.pid())
	if err1 != nil || err2 != nil {
		return load{}, fmt.Errorf("reading CPU time: %v %v", err1, err2)
	}
	if err := fn(); err != nil {
		return load{}, err
	}
	gw1, _ := cpuTime(g.pid())
	stub1, _ := cpuTime(b.stub.pid())
	return load{gwCPU: gw1 - gw0, stubCPU: stub1 - stub0}, nil
}

var (
	getApplicant = grpcCall{
		method: "idv.baf.v1.ApplicantService/GetApplicant",
		proto:  "idv/baf/v1/applicants.proto",
		data:   `{"applicant_id":"` + applicantID + `"}`,
	}
	startResident = grpcCall{
		method: "idv.ableid.v1.AbleIdService/StartResidentCheck",
		proto:  "idv/ableid/v1/ableid.proto",
		// ghz fills {{.UUID}} per call: each start is a new session, as in production.
		data: `{"transaction_id":"{{.UUID}}","pinfl":"` + pinfl + `","birth_date":"` + birthDate + `","lang":"en"}`,
	}
)

// unary measures GetApplicant through the gateway against the same call made directly to
// the stub (wrk) and a bare gRPC call to the same gateway (Health/Check), at concurrency 1
// and 64.
func (b *bench) unary(ctx context.Context, g *gateway, r *results) error {
	health := grpcCall{method: "grpc.health.v1.Health/Check", protoset: b.healthSet, data: "{}"}
	d := b.opts.unaryDuration
	// Warm the gateway's connection pool to the stub and the allocator.
	if _, err := b.ghz(ctx, g, getApplicant, 4, d/2, 0); err != nil {
		return err
	}
	for _, c := range []int{1, 64} {
		direct, err := b.wrk(ctx, g, c, d)
		if err != nil {
			return err
		}
		bare, err := b.ghz(ctx, g, health, c, d, 0)
		if err != nil {
			return err
		}
		var get load
		err = b.profiled(g, fmt.Sprintf("unary-c%d", c), 499, func() (err error) {
			get, err = b.ghz(ctx, g, getApplicant, c, d, 0)
			return err
		})
		if err != nil {
			return err
		}
		p := fmt.Sprintf("unary.c%d.", c)
		r.add(p+"direct.p50", "µs", us(direct.p50))
		r.add(p+"direct.p99", "µs", us(direct.p99))
		r.add(p+"direct.rps", "/s", direct.rps)
		r.add(p+"direct.stub_cpu_per_call", "µs", us(direct.stubCPU)/direct.calls)
		r.add(p+"health.p50", "µs", us(bare.p50))
		r.add(p+"health.rps", "/s", bare.rps)
		r.add(p+"health.cpu_per_call", "µs", us(bare.gwCPU)/bare.calls)
		r.add(p+"get.p50", "µs", us(get.p50))
		r.add(p+"get.p99", "µs", us(get.p99))
		r.add(p+"get.rps", "/s", get.rps)
		r.add(p+"get.cpu_per_call", "µs", us(get.gwCPU)/get.calls)
		r.add(p+"get.stub_cpu_per_call", "µs", us(get.stubCPU)/get.calls)
		r.add(p+"get.added_p50", "µs", us(get.p50)-us(direct.p50))
		b.logf("unary c=%d: direct p50 %v (%.0f/s), health p50 %v, GetApplicant p50 %v (%.0f/s), %.0f µs CPU/call",
			c, direct.p50, direct.rps, bare.p50, get.p50, get.rps, us(get.gwCPU)/get.calls)
	}
	return nil
}
