package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// profiled runs fn and, with -perf, samples the gateway's stacks meanwhile with
// `perf record` (the cpu-clock software event works where hardware counters do not, as in
// most VMs), then writes two text reports beside the data: self time by symbol, and time
// including callees. Figures from a profiled run carry perf's overhead: profile in a
// separate run from the one whose numbers you report.
func (b *bench) profiled(g *gateway, name string, fn func() error) error {
	if b.opts.perf == "" {
		return fn()
	}
	dir := filepath.Join(b.opts.outDir, "profile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data := filepath.Join(dir, name+".data")
	record := exec.Command(b.opts.perf, "record", "-q", "-e", "cpu-clock", "-F", "499",
		"--call-graph", "dwarf,16384", "-p", strconv.Itoa(g.pid()), "-o", data)
	record.Stderr = os.Stderr
	if err := record.Start(); err != nil {
		return fmt.Errorf("perf record: %w", err)
	}
	time.Sleep(300 * time.Millisecond) // perf attaches to every thread before the load starts
	err := fn()
	_ = record.Process.Signal(syscall.SIGINT)
	if werr := record.Wait(); werr != nil && err == nil {
		b.logf("perf record %s: %v", name, werr)
	}
	for suffix, args := range map[string][]string{
		"self":     {"--no-children", "--sort", "dso,symbol", "--percent-limit", "0.7", "-g", "none"},
		"children": {"--children", "--sort", "symbol", "--percent-limit", "3", "-g", "none"},
	} {
		out, rerr := runToolQuiet(b.opts.perf, append([]string{"report", "--stdio", "-i", data}, args...)...)
		if rerr != nil {
			b.logf("perf report %s: %v", name, rerr)
			continue
		}
		if werr := os.WriteFile(filepath.Join(dir, name+"-"+suffix+".txt"), out, 0o644); werr != nil {
			return werr
		}
	}
	b.logf("profile of %s: %s-{self,children}.txt", name, filepath.Join(dir, name))
	return err
}

func runToolQuiet(path string, args ...string) ([]byte, error) {
	cmd := exec.Command(path, args...)
	return cmd.Output()
}
