package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// profiled runs fn and, with -perf, samples the gateway's stacks meanwhile with
// `perf record` (the cpu-clock software event works where hardware counters do not, as in
// most VMs), then writes two text reports beside the data: self time by symbol, and time
// including callees. Figures from a profiled run carry perf's overhead: profile in a
// separate run from the one whose numbers you report.
//
// hz is the sampling rate: 499 for loads of seconds; a short window (one hook's fan-out)
// needs a much higher one to collect enough samples.
func (b *bench) profiled(g *gateway, name string, hz int, fn func() error) error {
	if b.opts.perf == "" {
		return fn()
	}
	dir := filepath.Join(b.opts.outDir, "profile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data := filepath.Join(dir, name+".data")
	record := exec.Command(b.opts.perf, "record", "-q", "-e", "cpu-clock", "-F", strconv.Itoa(hz),
		"--call-graph", "dwarf,16384", "-p", strconv.Itoa(g.pid()), "-o", data)
	record.Stderr = os.Stderr
	if err := record.Start(); err != nil {
		return fmt.Errorf("perf record: %w", err)
	}
	time.Sleep(300 * time.Millisecond) // perf attaches to every thread before the load starts
	err := fn()
	_ = record.Process.Signal(syscall.SIGINT)
	// perf ends on the interrupt we send it; anything else is worth a line in the log.
	if werr := record.Wait(); werr != nil && !strings.Contains(werr.Error(), "interrupt") {
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
	if out, rerr := runToolQuiet(b.opts.perf, "report", "--stdio", "-i", data, "--no-children",
		"--sort", "dso,symbol", "-g", "none", "-t", "|"); rerr == nil {
		summary := summarize(string(out))
		if werr := os.WriteFile(filepath.Join(dir, name+"-summary.txt"), []byte(summary), 0o644); werr != nil {
			return werr
		}
	}
	b.logf("profile of %s: %s-{summary,self,children}.txt", name, filepath.Join(dir, name))
	return err
}

// summarize groups perf's self time by where it is spent: the kernel (split into its
// scheduler, network and other parts), the C library's allocator and copies, and each
// Rust crate (the first path segment of the demangled symbol).
func summarize(report string) string {
	groups := map[string]float64{}
	top := map[string][]string{}
	var total float64
	for _, line := range strings.Split(report, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "|")
		if len(fields) < 3 {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(fields[0]), "%"), 64)
		if err != nil {
			continue
		}
		dso := strings.TrimSpace(fields[1])
		sym := strings.TrimSpace(fields[2])
		sym = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(sym, "[k]"), "[.]"))
		group := component(dso, sym)
		groups[group] += pct
		total += pct
		if len(top[group]) < 4 && pct >= 0.5 {
			top[group] = append(top[group], fmt.Sprintf("%.1f%% %s", pct, shorten(sym, 90)))
		}
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Slice(names, func(i, j int) bool { return groups[names[i]] > groups[names[j]] })
	var out strings.Builder
	fmt.Fprintf(&out, "self time by component (%% of the gateway's samples; %.0f%% accounted)\n", total)
	for _, g := range names {
		if groups[g] < 0.5 {
			continue
		}
		fmt.Fprintf(&out, "%6.1f%%  %s\n", groups[g], g)
		for _, t := range top[g] {
			fmt.Fprintf(&out, "          %s\n", t)
		}
	}
	return out.String()
}

func component(dso, sym string) string {
	switch {
	case strings.Contains(dso, "kernel"):
		switch {
		case strings.Contains(sym, "tcp") || strings.Contains(sym, "skb") || strings.Contains(sym, "sock") ||
			strings.Contains(sym, "ip_") || strings.Contains(sym, "net_") || strings.Contains(sym, "loopback") ||
			strings.Contains(sym, "inet") || strings.Contains(sym, "dev_"):
			return "kernel: network"
		case strings.Contains(sym, "sched") || strings.Contains(sym, "task_switch") || strings.Contains(sym, "futex") ||
			strings.Contains(sym, "wake") || strings.Contains(sym, "spin_unlock_irq") || strings.Contains(sym, "switch_to") ||
			strings.Contains(sym, "epoll") || strings.Contains(sym, "idle"):
			return "kernel: scheduling, futex, epoll"
		case strings.Contains(sym, "ext4") || strings.Contains(sym, "jbd2") || strings.Contains(sym, "blk") ||
			strings.Contains(sym, "virtio") || strings.Contains(sym, "filemap") || strings.Contains(sym, "page"):
			return "kernel: files, disk, pages"
		default:
			return "kernel: other (syscall entry, copies, ...)"
		}
	case strings.HasPrefix(dso, "libc"):
		switch {
		case strings.Contains(sym, "malloc") || strings.Contains(sym, "free") || strings.Contains(sym, "alloc") ||
			strings.Contains(sym, "tcache") || strings.Contains(sym, "consolidate"):
			return "libc: malloc/free"
		case strings.Contains(sym, "mem") || strings.Contains(sym, "str"):
			return "libc: memcpy/memcmp"
		default:
			return "libc: other (syscall wrappers, locks)"
		}
	case dso == "idv-gateway":
		s := strings.TrimLeft(sym, "<&*")
		s = strings.TrimPrefix(s, "dyn ")
		if strings.HasPrefix(s, "__rustc::") || strings.HasPrefix(s, "__rdl") || strings.HasPrefix(s, "__rust_") {
			return "rust: allocator shims"
		}
		if i := strings.Index(s, "::"); i > 0 {
			name := s[:i]
			// <u8 as core::fmt::Display>::fmt: the trait's crate.
			if _, trait, ok := strings.Cut(name, " as "); ok {
				name = trait
			}
			return "crate " + name
		}
		// Symbols without a Rust path are the C code linked in: the bundled SQLite.
		return "C in the binary (bundled SQLite)"
	default:
		return dso
	}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func runToolQuiet(path string, args ...string) ([]byte, error) {
	cmd := exec.Command(path, args...)
	return cmd.Output()
}
