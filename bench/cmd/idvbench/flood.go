package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	ableidv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/ableid/v1"
)

// parallel runs work(i) for i in [0, n) on `workers` goroutines and returns the first error.
func parallel(workers, n int, work func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := work(i); err != nil {
					once.Do(func() { first = err; stop.Store(true) })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// post sends one body and returns the answer; anything but 2xx is an error.
func post(ctx context.Context, client *http.Client, url string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return answer, fmt.Errorf("POST %s answered %d: %s", url, resp.StatusCode, answer)
	}
	return answer, nil
}

// flood starts K attempts through the gateway, then has 64 senders post one completion
// hook per attempt, as fast as the gateway acknowledges them. Baselines in the same run:
// the same senders against the stub's trivial POST handler (what HTTP and the load
// generator alone cost), and a serial write+fsync loop on the gateway's disk (what one
// durable commit costs: the ceiling of a store that commits each hook on its own).
func (b *bench) flood(ctx context.Context, g *gateway, r *results) error {
	n, senders := b.opts.floodHooks, b.opts.floodSenders
	attempts := make([]attempt, n)
	client := ableidv1.NewAbleIdServiceClient(g.conn)
	cpu0, _ := cpuTime(g.pid())
	began := time.Now()
	err := parallel(16, n, func(i int) error {
		a, err := b.startAttempt(ctx, client)
		attempts[i] = a
		return err
	})
	if err != nil {
		return fmt.Errorf("starting attempts for the hook flood: %w", err)
	}
	startWall := time.Since(began)
	cpu1, _ := cpuTime(g.pid())
	r.add("flood.starts_per_s", "/s", float64(n)/startWall.Seconds())
	r.add("flood.start_cpu", "µs", us(cpu1-cpu0)/float64(n))

	syncsBefore, syncP99Before, err := fsyncLoop(g.dataDir, b.opts.fsyncDuration)
	if err != nil {
		return err
	}

	hooks := hookClient(senders)
	defer hooks.CloseIdleConnections()
	url := "http://" + g.httpAddr + "/hooks/ableid/complete"
	lat := make([]time.Duration, n)
	var hookWall time.Duration
	var l load
	err = b.profiled(g, "flood", 499, func() (err error) {
		l, err = b.measured(g, func() error {
			began := time.Now()
			err := parallel(senders, n, func(i int) error {
				t := time.Now()
				answer, err := post(ctx, hooks, url, completionHook(attempts[i]))
				lat[i] = time.Since(t)
				if err == nil && !bytes.Contains(answer, []byte("stored")) {
					err = fmt.Errorf("hook %d answered %s, not stored", i, answer)
				}
				return err
			})
			hookWall = time.Since(began)
			return err
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("hook flood: %w", err)
	}
	r.add("flood.hooks_per_s", "/s", float64(n)/hookWall.Seconds())
	r.add("flood.p50", "ms", ms(percentile(lat, 50)))
	r.add("flood.p99", "ms", ms(percentile(lat, 99)))
	r.add("flood.cpu_per_hook", "µs", us(l.gwCPU)/float64(n))

	// Baseline: the stub's trivial handler under the same generator and bodies.
	trivial := "http://" + b.stubAddr + "/trivial"
	tlat := make([]time.Duration, n)
	began = time.Now()
	err = parallel(senders, n, func(i int) error {
		t := time.Now()
		_, err := post(ctx, hooks, trivial, completionHook(attempts[i]))
		tlat[i] = time.Since(t)
		return err
	})
	if err != nil {
		return fmt.Errorf("trivial POST flood: %w", err)
	}
	trivialWall := time.Since(began)
	syncsAfter, syncP99After, err := fsyncLoop(g.dataDir, b.opts.fsyncDuration)
	if err != nil {
		return err
	}
	r.add("flood.trivial_per_s", "/s", float64(n)/trivialWall.Seconds())
	r.add("flood.trivial_p99", "ms", ms(percentile(tlat, 99)))

	// The disk is shared and its fsync rate drifts: the baseline is measured just before and
	// just after the flood, and averaged.
	syncs := (syncsBefore + syncsAfter) / 2
	syncP99 := max(syncP99Before, syncP99After)
	r.add("flood.fsync_per_s", "/s", syncs)
	r.add("flood.fsync_p99", "ms", ms(syncP99))
	b.logf("hook flood: %d hooks at %.0f/s, p99 %v, %.0f µs CPU each; trivial POST %.0f/s; serial write+fsync %.0f/s",
		n, float64(n)/hookWall.Seconds(), percentile(lat, 99), us(l.gwCPU)/float64(n),
		float64(n)/trivialWall.Seconds(), syncs)
	return nil
}

// fsyncLoop overwrites 4 KiB pages of a 4 MiB file in dir and fsyncs each write, one at a
// time, for d: the rate of durable commits one writer gets from this disk. It mirrors a
// WAL commit (write the frames, fsync the log: the bundled SQLite calls fsync), minus the
// database's own work.
func fsyncLoop(dir string, d time.Duration) (perSecond float64, p99 time.Duration, err error) {
	path := filepath.Join(dir, "fsync-baseline")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(path)
	defer f.Close()
	const pages = 1024
	page := bytes.Repeat([]byte{0xa5}, 4096)
	for i := range pages {
		if _, err := f.WriteAt(page, int64(i)*4096); err != nil {
			return 0, 0, err
		}
	}
	if err := f.Sync(); err != nil {
		return 0, 0, err
	}
	var lat []time.Duration
	began := time.Now()
	for i := 0; time.Since(began) < d; i++ {
		t := time.Now()
		if _, err := f.WriteAt(page, int64(i%pages)*4096); err != nil {
			return 0, 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, 0, err
		}
		lat = append(lat, time.Since(t))
	}
	if len(lat) == 0 {
		return 0, 0, errors.New("fsync loop made no call")
	}
	return float64(len(lat)) / time.Since(began).Seconds(), percentile(lat, 99), nil
}
