package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	attemptsv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/attempts/v1"
)

// seedInfo is the seed.json the seeder leaves in a seeded directory.
type seedInfo struct {
	Events   int    `json:"events"`
	Attempts int    `json:"attempts"`
	Prefix   string `json:"id_prefix"`
	Digits   int    `json:"id_digits"`
	Seconds  float64
}

func (s seedInfo) attemptID(i int) string { return fmt.Sprintf("%s%0*d", s.Prefix, s.Digits, i) }

// seedMaxAge is how old a cached seeded directory may be: its events carry the time they
// were seeded, and the gateway purges attempts past the 30-day retention at start-up.
const seedMaxAge = 20 * 24 * time.Hour

// seeded returns a cached directory holding `events` seeded events, seeding it first if
// needed. The cache key is the seeder's source hash (from scripts/bench) and the schema a
// new store gets, so a schema change reseeds.
func (b *bench) seeded(ctx context.Context, events int) (string, seedInfo, error) {
	if b.schemaID == "" {
		out, err := runTool(ctx, b.opts.seeder, "--schema-id")
		if err != nil {
			return "", seedInfo{}, err
		}
		b.schemaID = strings.TrimSpace(string(out))
	}
	dir := filepath.Join(b.opts.seedCache, fmt.Sprintf("seed-%d-%s-%s", events, b.opts.seedKey, b.schemaID))
	info, err := readSeedInfo(dir)
	if err == nil {
		if st, err := os.Stat(filepath.Join(dir, "seed.json")); err == nil && time.Since(st.ModTime()) < seedMaxAge {
			return dir, info, nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", seedInfo{}, err
	}
	tmp := dir + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return "", seedInfo{}, err
	}
	// Durability does not matter while seeding: eatmydata (when installed) turns the
	// store's fsyncs into no-ops, which makes 10⁶ events a matter of seconds, not minutes.
	args := []string{b.opts.seeder, "--data-dir", tmp, "--events", fmt.Sprint(events)}
	if b.opts.eatmydata != "" {
		args = append([]string{b.opts.eatmydata}, args...)
	}
	b.logf("seeding %d events into %s (cached for later runs)", events, dir)
	began := time.Now()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	if out, err := cmd.Output(); err != nil {
		return "", seedInfo{}, fmt.Errorf("seeding: %w: %s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", seedInfo{}, err
	}
	info, err = readSeedInfo(dir)
	b.logf("seeded %d events in %.1f s", info.Events, time.Since(began).Seconds())
	return dir, info, err
}

func readSeedInfo(dir string) (seedInfo, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "seed.json"))
	if err != nil {
		return seedInfo{}, err
	}
	var info seedInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return seedInfo{}, err
	}
	if info.Attempts == 0 || info.Prefix == "" {
		return seedInfo{}, errors.New("seed.json: no attempts")
	}
	return info, nil
}

// copyDir copies a seeded directory for one run: the gateway writes to its data
// directory, and the cache must stay as seeded.
func copyDir(ctx context.Context, src, dst string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	if _, err := runTool(ctx, "cp", "-a", "--reflink=auto", src+"/.", dst); err != nil {
		return err
	}
	// Write the copy out now: hundreds of MB of dirty pages written back while the
	// gateway starts would be measured as its start-up.
	_, err := runTool(ctx, "sync", "-f", dst)
	return err
}

// scaling measures, on a copy of a log seeded with `events` events: start-up to SERVING,
// StartResidentCheck latency and CPU (ghz, concurrency 1, a bounded count of calls or
// a bounded time, whichever ends first: a start may cost milliseconds on a big log), and WatchAttempt open latency
// on seeded attempts (to the first message, and to the end of the replay).
func (b *bench) scaling(ctx context.Context, r *results, events int) error {
	if events == b.opts.scaleSizes[0] {
		// The baseline of start-up: the same gateway on an empty data directory.
		dir, err := b.newDataDir(ctx, "empty")
		if err != nil {
			return err
		}
		g, err := b.startGateway(ctx, "empty", dir)
		if err != nil {
			return err
		}
		r.add("startup.empty", "ms", ms(g.startup))
		g.stop()
		b.removeDataDir(ctx, dir)
	}
	seed, info, err := b.seeded(ctx, events)
	if err != nil {
		return err
	}
	dir, err := b.newDataDir(ctx, fmt.Sprintf("scale-%d", events))
	if err != nil {
		return err
	}
	defer b.removeDataDir(ctx, dir)
	if err := copyDir(ctx, seed, dir); err != nil {
		return err
	}
	// Started twice: the first start follows the copy of up to 500 MB and carries the
	// machine's I/O from it; the second is a plain restart, the figure reported.
	cold, err := b.startGateway(ctx, fmt.Sprintf("scale-%d-first", events), dir)
	if err != nil {
		return err
	}
	cold.stop()
	g, err := b.startGateway(ctx, fmt.Sprintf("scale-%d", events), dir)
	if err != nil {
		return err
	}
	defer g.stop()
	p := fmt.Sprintf("scale.%d.", events)
	r.add(p+"startup_first", "ms", ms(cold.startup))
	r.add(p+"startup", "ms", ms(g.startup))

	var starts load
	err = b.profiled(g, fmt.Sprintf("start-%d", events), 499, func() (err error) {
		starts, err = b.ghz(ctx, g, startResident, 1, b.opts.scaleDuration, b.opts.scaleStarts)
		return err
	})
	if err != nil {
		return err
	}
	r.add(p+"start.p50", "µs", us(starts.p50))
	r.add(p+"start.p99", "µs", us(starts.p99))
	r.add(p+"start.cpu_per_call", "µs", us(starts.gwCPU)/starts.calls)

	client := attemptsv1.NewAttemptServiceClient(g.conn)
	var first, replayed []time.Duration
	for range b.opts.scaleOpens {
		id := info.attemptID(rand.IntN(info.Attempts))
		t := time.Now()
		stream, err := client.WatchAttempt(ctx, &attemptsv1.WatchAttemptRequest{
			Attempt: &attemptsv1.WatchAttemptRequest_AbleidAttemptId{AbleidAttemptId: id},
		})
		if err != nil {
			return err
		}
		events := 0
		for {
			_, err := stream.Recv()
			if err == io.EOF {
				break // a terminal attempt's watch ends after its replay
			}
			if err != nil {
				return fmt.Errorf("watch %s: %w", id, err)
			}
			if events == 0 {
				first = append(first, time.Since(t))
			}
			events++
		}
		replayed = append(replayed, time.Since(t))
		if events != 5 { // the attempt, then its four events
			return fmt.Errorf("watch %s: %d messages, want 5", id, events)
		}
	}
	r.add(p+"watch_first.p50", "µs", us(percentile(first, 50)))
	r.add(p+"watch_open.p50", "µs", us(percentile(replayed, 50)))
	r.add(p+"watch_open.p99", "µs", us(percentile(replayed, 99)))
	b.logf("%d stored events: start-up %v, StartResidentCheck p50 %v (%.0f µs CPU), WatchAttempt replayed p50 %v",
		events, g.startup.Round(10*time.Microsecond), starts.p50, us(starts.gwCPU)/starts.calls,
		percentile(replayed, 50))
	return nil
}
