package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	ableidv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/ableid/v1"
	attemptsv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/attempts/v1"
)

// streamsPerConn is how many watches share one HTTP/2 connection: below the server's
// concurrent-stream limit, and what a client multiplexing many watches would do.
const streamsPerConn = 100

func dialMany(addr string, n int) ([]*grpc.ClientConn, error) {
	conns := make([]*grpc.ClientConn, 0, n)
	for range n {
		conn, err := dial(addr)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns = append(conns, conn)
	}
	return conns, nil
}

func closeAll(conns []*grpc.ClientConn) {
	for _, c := range conns {
		c.Close()
	}
}

// hookClient posts hooks over kept-alive connections, as a busy vendor would.
func hookClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			DisableCompression:  true,
		},
	}
}

// fanoutResult is one hook's delivery to its watchers.
type fanoutResult struct {
	fromAck  []time.Duration // per watcher: from the hook's 2xx to the event's arrival
	fromSend []time.Duration // per watcher: from the hook's send to the event's arrival
	hookRTT  time.Duration   // the hook's own round trip
	early    int             // watchers that had the event before the 2xx arrived
	cpu      time.Duration   // gateway CPU from the hook's send to the last arrival
}

// fanoutRound starts one attempt through the gateway, opens `watchers` WatchAttempt
// streams on it (follow_after_terminal), waits until each has seen the `started` event,
// posts the signed completion hook and returns, for each watcher, the time from the
// hook's 2xx to the `completed` event's arrival, and the gateway CPU spent from the hook
// to the last arrival.
func (b *bench) fanoutRound(ctx context.Context, g *gateway, hooks *http.Client, watchers int,
) (round fanoutResult, err error) {
	a, err := b.startAttempt(ctx, ableidv1.NewAbleIdServiceClient(g.conn))
	if err != nil {
		return round, err
	}
	conns, err := dialMany(g.grpcAddr, (watchers+streamsPerConn-1)/streamsPerConn)
	if err != nil {
		return round, err
	}
	defer closeAll(conns)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()

	ready := make(chan struct{}, watchers)
	failed := make(chan error, watchers)
	arrived := make([]time.Time, watchers)
	var delivered sync.WaitGroup
	delivered.Add(watchers)
	for i := range watchers {
		client := attemptsv1.NewAttemptServiceClient(conns[i%len(conns)])
		go func() {
			stream, err := client.WatchAttempt(wctx, &attemptsv1.WatchAttemptRequest{
				Attempt:             &attemptsv1.WatchAttemptRequest_AbleidAttemptId{AbleidAttemptId: a.id},
				FollowAfterTerminal: true,
			})
			if err != nil {
				failed <- err
				return
			}
			for {
				msg, err := stream.Recv()
				if err != nil {
					if wctx.Err() == nil {
						failed <- fmt.Errorf("watch ended: %w", err)
					}
					return
				}
				switch msg.GetEvent().GetKind().(type) {
				case *attemptsv1.AttemptEvent_Started:
					ready <- struct{}{}
				case *attemptsv1.AttemptEvent_Completed:
					arrived[i] = time.Now()
					delivered.Done()
					return
				}
			}
		}()
	}
	timeout := time.After(60 * time.Second)
	for range watchers {
		select {
		case <-ready:
		case err := <-failed:
			return round, err
		case <-timeout:
			return round, errors.New("watchers did not all see the started event within 60 s")
		}
	}
	// Keep the client's own garbage collection out of the measured window.
	runtime.GC()
	var sent, acked time.Time
	var cpu0, cpu1 time.Duration
	deliver := func() error {
		if cpu0, err = schedTime(g.pid()); err != nil {
			return err
		}
		sent = time.Now()
		if _, err := post(ctx, hooks, "http://"+g.httpAddr+"/hooks/ableid/complete", completionHook(a)); err != nil {
			return err
		}
		acked = time.Now()
		done := make(chan struct{})
		go func() { delivered.Wait(); close(done) }()
		select {
		case <-done:
		case err := <-failed:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("the completed event did not reach every watcher within 30 s")
		}
		cpu1, err = schedTime(g.pid())
		return err
	}
	if watchers > 1 {
		// Only the delivery is profiled: it lasts tens of milliseconds, hence the rate.
		err = b.profiled(g, "fanout", 20000, deliver)
	} else {
		err = deliver()
	}
	if err != nil {
		return round, err
	}
	round.hookRTT, round.cpu = acked.Sub(sent), cpu1-cpu0
	for _, t := range arrived {
		// The gateway publishes after the commit and may deliver before its 2xx reaches
		// the sender: such a watcher waited nothing past the acknowledgement.
		if t.Before(acked) {
			round.early++
			if t.Before(sent) {
				return round, errors.New("an event arrived before its hook was sent")
			}
		}
		round.fromAck = append(round.fromAck, max(t.Sub(acked), 0))
		round.fromSend = append(round.fromSend, t.Sub(sent))
	}
	return round, nil
}

// fanout measures one hook delivered to 1,000 watchers of one attempt against the same
// hook delivered to one watcher (several rounds, pooled).
func (b *bench) fanout(ctx context.Context, g *gateway, r *results) error {
	hooks := hookClient(4)
	defer hooks.CloseIdleConnections()
	var single fanoutResult
	var singleCPU []float64
	var singleRTT []time.Duration
	for range b.opts.fanoutBaselineRounds {
		round, err := b.fanoutRound(ctx, g, hooks, 1)
		if err != nil {
			return fmt.Errorf("fan-out to 1 watcher: %w", err)
		}
		single.fromAck = append(single.fromAck, round.fromAck...)
		single.fromSend = append(single.fromSend, round.fromSend...)
		singleCPU = append(singleCPU, us(round.cpu))
		singleRTT = append(singleRTT, round.hookRTT)
	}
	n := b.opts.watchers
	many, err := b.fanoutRound(ctx, g, hooks, n)
	if err != nil {
		return fmt.Errorf("fan-out to %d watchers: %w", n, err)
	}
	perWatcher := (us(many.cpu) - median(singleCPU)) / float64(n-1)
	r.add("fanout.1.p50", "ms", ms(percentile(single.fromAck, 50)))
	r.add("fanout.1.p99", "ms", ms(percentile(single.fromAck, 99)))
	r.add("fanout.1.send_p50", "ms", ms(percentile(single.fromSend, 50)))
	r.add("fanout.1.send_p99", "ms", ms(percentile(single.fromSend, 99)))
	r.add("fanout.1.hook_rtt", "ms", ms(percentile(singleRTT, 50)))
	r.add("fanout.1.gw_cpu", "µs", median(singleCPU))
	r.add("fanout.n.p50", "ms", ms(percentile(many.fromAck, 50)))
	r.add("fanout.n.p99", "ms", ms(percentile(many.fromAck, 99)))
	r.add("fanout.n.max", "ms", ms(percentile(many.fromAck, 100)))
	r.add("fanout.n.send_p50", "ms", ms(percentile(many.fromSend, 50)))
	r.add("fanout.n.send_p99", "ms", ms(percentile(many.fromSend, 99)))
	r.add("fanout.n.hook_rtt", "ms", ms(many.hookRTT))
	r.add("fanout.n.before_2xx", "watchers", float64(many.early))
	r.add("fanout.n.gw_cpu", "ms", ms(many.cpu))
	r.add("fanout.n.cpu_per_watcher", "µs", perWatcher)
	b.logf("fan-out: 1 watcher p50 %v from the send (hook 2xx after %v); %d watchers p50 %v p99 %v from the 2xx "+
		"(%d before it; hook 2xx after %v), %.1f µs gateway CPU per watcher",
		percentile(single.fromSend, 50), percentile(singleRTT, 50), n, percentile(many.fromAck, 50),
		percentile(many.fromAck, 99), many.early, many.hookRTT, perWatcher)
	return nil
}

// idle opens `levels` idle streams (cumulatively) on a fresh gateway and records the
// gateway's RSS and threads per level. kind "watch" opens WatchAttempt streams spread over
// `attempts` attempts (follow_after_terminal, so they stay open); kind "health" opens
// grpc.health.v1.Health/Watch streams on the same gateway binary: the baseline, a bare
// held gRPC stream in the same server.
func (b *bench) idle(ctx context.Context, r *results, kind string, levels []int) error {
	dir, err := b.newDataDir(ctx, "idle-"+kind)
	if err != nil {
		return err
	}
	defer b.removeDataDir(ctx, dir)
	g, err := b.startGateway(ctx, "idle-"+kind, dir)
	if err != nil {
		return err
	}
	defer g.stop()
	var ids []string
	if kind == "watch" {
		client := ableidv1.NewAbleIdServiceClient(g.conn)
		for range b.opts.idleAttempts {
			a, err := b.startAttempt(ctx, client)
			if err != nil {
				return err
			}
			ids = append(ids, a.id)
		}
	}
	top := levels[len(levels)-1]
	conns, err := dialMany(g.grpcAddr, b.opts.idleConns)
	if err != nil {
		return err
	}
	defer closeAll(conns)
	// Connections first, so the figure is per stream, not per connection.
	for _, conn := range conns {
		if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			return err
		}
	}
	time.Sleep(300 * time.Millisecond)
	before, err := procStatus(g.pid())
	if err != nil {
		return err
	}

	sctx, stopSampling := context.WithCancel(ctx)
	var peakThreads atomic.Int64
	peakThreads.Store(before.Threads)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for sctx.Err() == nil {
			if s, err := procStatus(g.pid()); err == nil && s.Threads > peakThreads.Load() {
				peakThreads.Store(s.Threads)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	defer func() { stopSampling(); <-sampled }()

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	failed := make(chan error, top)
	var ended atomic.Int64
	// open holds stream i open; it calls settled once, when the stream is established
	// (its first message arrived) or has failed.
	open := func(i int, settled func()) {
		var once sync.Once
		settle := func() { once.Do(settled) }
		defer settle()
		conn := conns[i%len(conns)]
		var recv func() (bool, error) // (established, err)
		switch kind {
		case "watch":
			stream, err := attemptsv1.NewAttemptServiceClient(conn).WatchAttempt(wctx,
				&attemptsv1.WatchAttemptRequest{
					Attempt:             &attemptsv1.WatchAttemptRequest_AbleidAttemptId{AbleidAttemptId: ids[i%len(ids)]},
					FollowAfterTerminal: true,
				})
			if err != nil {
				failed <- err
				return
			}
			recv = func() (bool, error) {
				msg, err := stream.Recv()
				_, started := msg.GetEvent().GetKind().(*attemptsv1.AttemptEvent_Started)
				return started, err
			}
		default:
			stream, err := healthpb.NewHealthClient(conn).Watch(wctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				failed <- err
				return
			}
			recv = func() (bool, error) {
				msg, err := stream.Recv()
				return msg.GetStatus() == healthpb.HealthCheckResponse_SERVING, err
			}
		}
		for {
			established, err := recv()
			if err != nil {
				if wctx.Err() == nil {
					ended.Add(1)
					failed <- err
				}
				return
			}
			if established {
				settle()
			}
		}
	}

	opened := 0
	for _, level := range levels {
		began := time.Now()
		// Opens go out a few hundred at a time, like many clients reconnecting at once.
		inflight := make(chan struct{}, b.opts.idleOpenConcurrency)
		var settled sync.WaitGroup
		deadline := time.After(3 * time.Minute)
		for i := opened; i < level; i++ {
			select {
			case inflight <- struct{}{}:
			case <-deadline:
				return fmt.Errorf("idle %s streams: opening %d took over 3 minutes", kind, level)
			}
			settled.Add(1)
			go open(i, func() { <-inflight; settled.Done() })
		}
		settled.Wait()
		select {
		case err := <-failed:
			return fmt.Errorf("idle %s streams: %w", kind, err)
		default:
		}
		openTime := time.Since(began)
		time.Sleep(b.opts.idleSettle)
		after, err := procStatus(g.pid())
		if err != nil {
			return err
		}
		if n := ended.Load(); n > 0 {
			return fmt.Errorf("idle %s streams: %d of %d ended while idle", kind, n, level)
		}
		p := fmt.Sprintf("idle.%s.%d.", kind, level)
		r.add(p+"kib_per_stream", "KiB", float64(after.RSSKiB-before.RSSKiB)/float64(level))
		r.add(p+"rss", "MiB", float64(after.RSSKiB)/1024)
		r.add(p+"peak_threads", "threads", float64(peakThreads.Load()))
		r.add(p+"threads_at_rest", "threads", float64(after.Threads))
		r.add(p+"open_per_s", "/s", float64(level-opened)/openTime.Seconds())
		b.logf("idle %s: %d streams held, %.1f KiB each, RSS %d→%d KiB, threads %d at rest (peak %d)",
			kind, level, float64(after.RSSKiB-before.RSSKiB)/float64(level), before.RSSKiB, after.RSSKiB,
			after.Threads, peakThreads.Load())
		opened = level
	}
	r.add("idle."+kind+".threads_before", "threads", float64(before.Threads))
	return nil
}
