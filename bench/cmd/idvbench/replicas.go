package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	ableidv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/ableid/v1"
	attemptsv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/attempts/v1"
)

// replicas measures, with --store postgres, a hook posted to replica A reaching a watcher
// on replica B (the event crosses the database: commit, NOTIFY, B's re-read), beside a
// watcher of the same attempt on A itself, in the same rounds.
func (b *bench) replicas(ctx context.Context, r *results) error {
	if b.pg == nil {
		b.logf("replicas: skipped, several replicas need --store postgres")
		return nil
	}
	dir, err := b.newDataDir(ctx, "replicas")
	if err != nil {
		return err
	}
	defer b.removeDataDir(ctx, dir)
	a, err := b.startGateway(ctx, "replica-a", dir)
	if err != nil {
		return err
	}
	defer a.stop()
	replicaB, err := b.startGateway(ctx, "replica-b", dir)
	if err != nil {
		return err
	}
	defer replicaB.stop()
	hooks := hookClient(1)
	defer hooks.CloseIdleConnections()
	onA := attemptsv1.NewAttemptServiceClient(a.conn)
	onB := attemptsv1.NewAttemptServiceClient(replicaB.conn)
	var cross, same []time.Duration
	for range b.opts.fanoutBaselineRounds * 2 {
		att, err := b.startAttempt(ctx, ableidv1.NewAbleIdServiceClient(a.conn))
		if err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		started := make(chan error, 2)
		arrivedOnA, arrivedOnB := make(chan time.Time, 1), make(chan time.Time, 1)
		for _, w := range []struct {
			client  attemptsv1.AttemptServiceClient
			arrived chan time.Time
		}{{onA, arrivedOnA}, {onB, arrivedOnB}} {
			go func() {
				stream, err := w.client.WatchAttempt(rctx, &attemptsv1.WatchAttemptRequest{
					Attempt:             &attemptsv1.WatchAttemptRequest_AbleidAttemptId{AbleidAttemptId: att.id},
					FollowAfterTerminal: true,
				})
				if err != nil {
					started <- err
					return
				}
				for {
					msg, err := stream.Recv()
					if err != nil {
						started <- err
						return
					}
					switch msg.GetEvent().GetKind().(type) {
					case *attemptsv1.AttemptEvent_Started:
						started <- nil
					case *attemptsv1.AttemptEvent_Completed:
						w.arrived <- time.Now()
						return
					}
				}
			}()
		}
		for range 2 {
			if err := <-started; err != nil {
				cancel()
				return fmt.Errorf("replicas: watch: %w", err)
			}
		}
		sent := time.Now()
		if _, err := post(rctx, hooks, "http://"+a.httpAddr+"/hooks/ableid/complete", completionHook(att)); err != nil {
			cancel()
			return err
		}
		for _, w := range []struct {
			arrived chan time.Time
			into    *[]time.Duration
		}{{arrivedOnA, &same}, {arrivedOnB, &cross}} {
			select {
			case t := <-w.arrived:
				*w.into = append(*w.into, t.Sub(sent))
			case err := <-started:
				cancel()
				return fmt.Errorf("replicas: watch ended: %w", err)
			case <-rctx.Done():
				cancel()
				return errors.New("replicas: the completed event did not reach both watchers within 30 s")
			}
		}
		cancel()
	}
	r.add("replicas.cross.p50", "ms", ms(percentile(cross, 50)))
	r.add("replicas.cross.p99", "ms", ms(percentile(cross, 99)))
	r.add("replicas.same.p50", "ms", ms(percentile(same, 50)))
	r.add("replicas.same.p99", "ms", ms(percentile(same, 99)))
	b.logf("replicas: hook on A → watcher on B p50 %v p99 %v from the send; watcher on A p50 %v p99 %v (%d rounds)",
		percentile(cross, 50), percentile(cross, 99), percentile(same, 50), percentile(same, 99), len(cross))
	return nil
}

// sqliteFlood runs the hook flood, with --store postgres, on a gateway with the embedded
// SQLite store too, in the same run, so the two stores' durable hook rates sit side by side.
func (b *bench) sqliteFlood(ctx context.Context, r *results) error {
	dir := filepath.Join(b.workDir, fmt.Sprintf("flood-sqlite-%d", b.seq.Add(1)))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// No database is made for dir, so the gateway gets no IDV_DATABASE_URL.
	g, err := b.startGateway(ctx, "flood-sqlite", dir)
	if err != nil {
		return err
	}
	defer g.stop()
	own := newResults()
	if err := b.flood(ctx, g, own); err != nil {
		return fmt.Errorf("SQLite flood: %w", err)
	}
	last := func(rs *results, key string) (string, float64) {
		m := rs.Metrics[key]
		return m.Unit, m.Samples[len(m.Samples)-1]
	}
	for _, key := range []string{"hooks_per_s", "p99", "cpu_per_hook"} {
		unit, v := last(own, "flood."+key)
		r.add("flood.sqlite."+key, unit, v)
	}
	// The PostgreSQL gateway's flood of this run, under a key only such runs have.
	unit, v := last(r, "flood.hooks_per_s")
	r.add("flood.pg.hooks_per_s", unit, v)
	return nil
}
