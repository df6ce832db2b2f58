//! Process metrics with the names Prometheus' own clients use (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, `process_open_fds`, `process_max_fds`,
//! `process_threads`, `process_start_time_seconds`), read from `/proc` at each scrape.
//! Off Linux the collector reports nothing.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Linux reports CPU times in clock ticks of `USER_HZ`, which is 100 on every
/// architecture the gateway runs on (it is fixed in the kernel ABI, unlike `HZ`).
const TICKS_PER_SECOND: f64 = 100.0;

/// Reads `/proc/self` on each scrape.
#[derive(Debug, Clone, Copy)]
pub struct ProcessCollector;

/// What one scrape read.
#[derive(Debug, Default, PartialEq)]
struct Sample {
    cpu_seconds: Option<f64>,
    resident_bytes: Option<i64>,
    threads: Option<i64>,
    open_fds: Option<i64>,
    max_fds: Option<i64>,
    start_time_seconds: Option<f64>,
}

impl Sample {
    fn read() -> Self {
        let stat = std::fs::read_to_string("/proc/self/stat").ok();
        let fields = stat.as_deref().and_then(stat_fields);
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let boot = std::fs::read_to_string("/proc/stat").ok().and_then(|s| status_value(&s, "btime"));
        Self {
            cpu_seconds: fields.as_ref().and_then(|f| {
                let utime: f64 = f.get(11)?.parse().ok()?;
                let stime: f64 = f.get(12)?.parse().ok()?;
                Some((utime + stime) / TICKS_PER_SECOND)
            }),
            resident_bytes: status_value(&status, "VmRSS:").map(|kib| kib * 1024),
            threads: status_value(&status, "Threads:"),
            open_fds: std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count() as i64),
            max_fds: rlimit::getrlimit(rlimit::Resource::NOFILE).ok().map(|(soft, _)| soft as i64),
            start_time_seconds: fields.as_ref().and_then(|f| {
                let ticks: f64 = f.get(19)?.parse().ok()?;
                Some(boot? as f64 + ticks / TICKS_PER_SECOND)
            }),
        }
    }
}

/// The fields of `/proc/self/stat` after the command name (which may hold spaces), so
/// index 0 is the state, 11 `utime`, 12 `stime`, 19 `starttime`.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    Some(after_name.split_whitespace().collect())
}

/// The number after `key` on its line of a `/proc` status-style file.
fn status_value(text: &str, key: &str) -> Option<i64> {
    text.lines().find_map(|line| line.strip_prefix(key)?.split_whitespace().next()?.parse().ok())
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let sample = Sample::read();
        if let Some(value) = sample.cpu_seconds {
            let metric = ConstCounter::new(value);
            let help = "Total user and system CPU time spent, in seconds";
            metric.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                help,
                None,
                metric.metric_type(),
            )?)?;
        }
        let gauges = [
            ("process_resident_memory_bytes", "Resident memory size, in bytes", sample.resident_bytes),
            ("process_threads", "Number of OS threads", sample.threads),
            ("process_open_fds", "Number of open file descriptors", sample.open_fds),
            ("process_max_fds", "Soft limit of open file descriptors", sample.max_fds),
        ];
        for (name, help, value) in gauges {
            if let Some(value) = value {
                let metric = ConstGauge::new(value);
                metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)?;
            }
        }
        if let Some(value) = sample.start_time_seconds {
            let metric = ConstGauge::new(value);
            let help = "Start time of the process since the Unix epoch, in seconds";
            metric.encode(encoder.encode_descriptor(
                "process_start_time_seconds",
                help,
                None,
                metric.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_survive_a_command_name_with_spaces_and_parentheses() {
        let stat = "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 12345 0 0";
        let fields = stat_fields(stat).unwrap();
        assert_eq!((fields[0], fields[11], fields[12], fields[19]), ("S", "250", "50", "12345"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_read() {
        let sample = Sample::read();
        assert!(sample.cpu_seconds.is_some() && sample.resident_bytes.unwrap_or(0) > 0);
        assert!(sample.threads.unwrap_or(0) >= 1 && sample.open_fds.unwrap_or(0) >= 3);
        assert!(sample.start_time_seconds.unwrap_or(0.0) > 1_000_000_000.0);
    }
}
