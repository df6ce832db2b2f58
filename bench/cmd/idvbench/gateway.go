package main

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	ableidv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/ableid/v1"
)

// The credentials the gateway is configured with and the stub checks. They protect
// nothing: both ends run on loopback for the length of a benchmark.
const (
	bafKey        = "sk_bench-0000"
	ableidProject = "bench"
	ableidSecret  = "bench-secret"
	applicantID   = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	// A resident whose PINFL agrees with the birth date (digits 2-7 are DDMMYY).
	pinfl     = "31205901234567"
	birthDate = "12.05.1990"
)

// bench holds what every scenario shares: options, the vendor stub, where files go.
type bench struct {
	opts     options
	stub     *child
	stubAddr string
	workDir  string // data directories (on the disk the gateway would use)
	logDir   string
	seq      atomic.Int64 // unique names for data dirs, transaction ids

	pg *pgServer // --store postgres: where each gateway gets a database

	healthSet string // grpc.health.v1 as a protoset file, for ghz
	schemaID  string // the store's schema hash, from the seeder
}

func (b *bench) startStub() error {
	logPath := filepath.Join(b.logDir, "stub.log")
	stub, err := startChild("stub", logPath, os.Environ(), b.opts.stub,
		"-addr", "127.0.0.1:0", "-baf-key", bafKey, "-ableid-project", ableidProject,
		"-ableid-secret", ableidSecret)
	if err != nil {
		return err
	}
	b.stub = stub
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if addr := firstLine(logPath, "listening "); addr != "" {
			b.stubAddr = addr
			return nil
		}
		if stub.exited() {
			return fmt.Errorf("the stub exited: see %s", logPath)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("the stub did not start: see %s", logPath)
}

func firstLine(path, prefix string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if rest, ok := strings.CutPrefix(scanner.Text(), prefix); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// gateway is one running gateway process.
type gateway struct {
	proc     *child
	grpcAddr string
	httpAddr string
	dataDir  string
	startup  time.Duration // from exec to the first SERVING health answer
	conn     *grpc.ClientConn
}

// newDataDir makes an empty data directory for a gateway and, with --store postgres, an
// empty database, which startGateway gives the gateway in IDV_DATABASE_URL.
func (b *bench) newDataDir(ctx context.Context, label string) (string, error) {
	dir := filepath.Join(b.workDir, fmt.Sprintf("%s-%d", label, b.seq.Add(1)))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if b.pg != nil {
		if _, err := b.pg.create(ctx, dir); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

// removeDataDir removes what newDataDir made, once the gateway on it has stopped.
func (b *bench) removeDataDir(ctx context.Context, dir string) {
	if b.pg != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := b.pg.drop(ctx, dir); err != nil {
			b.logf("dropping the database of %s: %v", dir, err)
		}
	}
	os.RemoveAll(dir)
}

// startGateway runs `idv-gateway serve` on dataDir, configured only through IDV_*
// variables, and waits until health answers SERVING.
func (b *bench) startGateway(ctx context.Context, label, dataDir string) (*gateway, error) {
	grpcPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	g := &gateway{
		grpcAddr: fmt.Sprintf("127.0.0.1:%d", grpcPort),
		httpAddr: fmt.Sprintf("127.0.0.1:%d", httpPort),
		dataDir:  dataDir,
	}
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IDV_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"IDV_GRPC_ADDR="+g.grpcAddr,
		"IDV_HTTP_ADDR="+g.httpAddr,
		// The admin listener (metrics) on a free port, so runs never collide on 9464.
		"IDV_ADMIN_ADDR=127.0.0.1:0",
		"IDV_PUBLIC_URL=http://"+g.httpAddr,
		"IDV_BAF_BASE_URL=http://"+b.stubAddr+"/baf/publicapi",
		"IDV_BAF_API_KEY="+bafKey,
		"IDV_ABLEID_BASE_URL=http://"+b.stubAddr+"/ableid",
		"IDV_ABLEID_PROJECT_ID="+ableidProject,
		"IDV_ABLEID_SECRET="+ableidSecret,
		// With --store postgres too: the fsync baseline of the hook flood runs there.
		"IDV_DATA_DIR="+dataDir,
		"IDV_LOG="+b.opts.logLevel,
		// The hook flood measures what the gateway can store, so the hook listener's
		// protective limits are lifted: every sender here is one loopback address, and the
		// per-source connection limit (32) and request rates (50/s per source, 500/s in
		// all, by default) would otherwise measure the limiter. Gateways without these
		// limits ignore the variables.
		fmt.Sprintf("IDV_HTTP_MAX_CONNECTIONS_PER_SOURCE=%d", b.opts.floodSenders+16),
		"IDV_HOOKS_RATE_PER_SECOND=1000000",
		"IDV_HOOKS_BURST=1000000",
		"IDV_HOOKS_GLOBAL_RATE_PER_SECOND=1000000",
		"IDV_HOOKS_GLOBAL_BURST=1000000",
	)
	if b.pg != nil {
		if u, ok := b.pg.urlFor(dataDir); ok {
			env = append(env, "IDV_DATABASE_URL="+u)
		}
	}
	env = append(env, b.opts.gatewayEnv...)
	logPath := filepath.Join(b.logDir, fmt.Sprintf("gateway-%s-%d.log", label, b.seq.Add(1)))
	began := time.Now()
	proc, err := startChild("gateway", logPath, env, b.opts.gateway, "serve")
	if err != nil {
		return nil, err
	}
	g.proc = proc
	if err := g.waitServing(ctx, began); err != nil {
		proc.stop(5 * time.Second)
		return nil, fmt.Errorf("gateway %s: %w (log: %s)", label, err, logPath)
	}
	if b.pg != nil {
		if err := b.pg.verify(ctx, dataDir); err != nil {
			g.stop()
			return nil, fmt.Errorf("gateway %s: %w (log: %s)", label, err, logPath)
		}
	}
	return g, nil
}

// waitServing polls until the gateway's health says SERVING. It first waits for the port
// to accept (the gateway binds its listeners before it opens the store), then asks health
// with WaitForReady, which the gateway answers as soon as it serves.
func (g *gateway) waitServing(ctx context.Context, began time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", g.grpcAddr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if g.proc.exited() {
			return fmt.Errorf("exited during start-up: %v", g.proc.err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("never listened: %w", err)
		}
		time.Sleep(200 * time.Microsecond)
	}
	conn, err := dial(g.grpcAddr)
	if err != nil {
		return err
	}
	health := healthpb.NewHealthClient(conn)
	for {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			g.startup = time.Since(began)
			g.conn = conn
			return nil
		}
		if g.proc.exited() || ctx.Err() != nil {
			conn.Close()
			return fmt.Errorf("not SERVING: %v", err)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func (g *gateway) stop() {
	if g.conn != nil {
		g.conn.Close()
	}
	g.proc.stop(15 * time.Second)
}

func (g *gateway) pid() int { return g.proc.pid() }

// dial opens one HTTP/2 connection (a ClientConn has one per address).
func dial(addr string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	conn.Connect()
	return conn, nil
}

// attempt is an AbleID session started through the gateway.
type attempt struct {
	id, transactionID string
}

// startAttempt starts an AbleID resident check through the gateway.
func (b *bench) startAttempt(ctx context.Context, client ableidv1.AbleIdServiceClient) (attempt, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tx := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), b.seq.Add(1))
	resp, err := client.StartResidentCheck(ctx, &ableidv1.StartResidentCheckRequest{
		TransactionId: tx,
		Pinfl:         pinfl,
		BirthDate:     birthDate,
		Lang:          "en",
	})
	if err != nil {
		return attempt{}, fmt.Errorf("StartResidentCheck: %w", err)
	}
	return attempt{id: resp.GetAttemptId(), transactionID: tx}, nil
}

// hookSignature is AbleID's hook hash: UPPER(SHA1(UPPER(SHA1(projectId + secret)) + attemptId)).
func hookSignature(attemptID string) string {
	inner := sha1.Sum([]byte(ableidProject + ableidSecret))
	outer := sha1.Sum([]byte(strings.ToUpper(hex.EncodeToString(inner[:])) + attemptID))
	return strings.ToUpper(hex.EncodeToString(outer[:]))
}

// completionHook is the body AbleID posts to the gateway's completion hook on success.
func completionHook(a attempt) []byte {
	return fmt.Appendf(nil,
		`{"statusCode":200,"type":"SUCCESS","message":"ok","data":{"redirect":"","attemptId":%q,"hash":%q,"transactionId":%q}}`,
		a.id, hookSignature(a.id), a.transactionID)
}
