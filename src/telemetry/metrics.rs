//! The gateway's metrics, in the Prometheus/OpenMetrics text format, through
//! `prometheus-client` (the official Rust client): typed label sets and one registry per
//! gateway instance, with no global state, so several gateways in one process (the tests)
//! keep their counts apart.
//!
//! No label carries personal data or an attempt id: labels are method and operation
//! names (a fixed set), status codes, configured caller names, vendor names and event
//! kinds.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use super::process::ProcessCollector;

/// Labels of a gRPC call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrpcCall {
    /// `/package.Service/Method`, or `unknown` for a path the gateway does not serve.
    pub method: String,
    /// The gRPC status code name, such as `OK` or `NOT_FOUND`.
    pub code: String,
    /// The caller's configured name, `anonymous` without authentication, or
    /// `unauthenticated` for a refused call.
    pub caller: String,
}

/// Labels naming a gRPC method.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrpcMethod {
    /// `/package.Service/Method`.
    pub method: String,
}

/// Labels of a vendor call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VendorCall {
    /// `ableid`, `baf`, `b2core`.
    pub vendor: &'static str,
    /// The operation, such as `GetApplicant`.
    pub operation: &'static str,
    /// The HTTP status, or `timeout`, `unreachable`, `circuit_open`.
    pub status: String,
}

/// Labels naming a vendor operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VendorOperation {
    /// The vendor.
    pub vendor: &'static str,
    /// The operation.
    pub operation: &'static str,
}

/// Labels naming a vendor.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VendorLabel {
    /// The vendor.
    pub vendor: &'static str,
}

/// Labels of a received hook.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HookLabels {
    /// The vendor that sends it.
    pub vendor: &'static str,
    /// `complete`, `passport`, `photo`, `registration`, `person`.
    pub kind: String,
    /// What the gateway did: `stored`, `duplicate`, `conflict`, `unknown_attempt`,
    /// `not_requested`, `unauthorized`, `bad_request`, `too_deep`, `store_failed`, ...
    pub outcome: &'static str,
}

/// Labels of an appended event.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    /// The vendor of the attempt.
    pub vendor: String,
    /// The event kind, such as `completed` or `baf_status_changed`.
    pub kind: &'static str,
}

/// Labels of something refused for a reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// Why.
    pub reason: &'static str,
}

/// Every metric the gateway keeps.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// `idv_grpc_requests_total{method,code,caller}`.
    pub grpc_requests: Family<GrpcCall, Counter>,
    /// `idv_grpc_request_duration_seconds{method}`.
    pub grpc_duration: Family<GrpcMethod, Histogram>,
    /// `idv_vendor_requests_total{vendor,operation,status}`.
    pub vendor_requests: Family<VendorCall, Counter>,
    /// `idv_vendor_request_duration_seconds{vendor,operation}`.
    pub vendor_duration: Family<VendorOperation, Histogram>,
    /// `idv_vendor_breaker_state{vendor}`: 0 closed, 1 open, 2 half-open.
    pub breaker_state: Family<VendorLabel, Gauge>,
    /// `idv_hooks_total{vendor,kind,outcome}`.
    pub hooks: Family<HookLabels, Counter>,
    /// `idv_http_refusals_total{reason}`: the public listener turning a request away
    /// (connection caps, rate limits, source allow-list, timeouts).
    pub http_refusals: Family<Reason, Counter>,
    /// `idv_watch_streams`: open `WatchAttempt` streams.
    pub watch_streams: Gauge,
    /// `idv_events_appended_total{vendor,kind}`.
    pub events_appended: Family<EventLabels, Counter>,
    /// `idv_event_append_duration_seconds`: from the append call to its commit.
    pub append_duration: Histogram,
    /// `idv_store_up`: 1 while the event log answers its health check, 0 otherwise.
    pub store_up: Gauge,
    /// `idv_memory_budget_bytes_in_use`: bytes of vendor and hook bodies held in memory.
    pub budget_in_use: Gauge,
    /// `idv_overload_refusals_total{reason}`: calls refused with `RESOURCE_EXHAUSTED`
    /// because a limit was reached (memory budget, concurrency, watch streams).
    pub overload_refusals: Family<Reason, Counter>,
}

/// Buckets of call durations: 500 µs to ~65 s.
fn duration_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.0005, 2.0, 18)
}

impl Metrics {
    /// A fresh registry with every family registered, and process metrics.
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::default();
        let grpc_requests = Family::<GrpcCall, Counter>::default();
        registry.register(
            "idv_grpc_requests",
            "gRPC calls answered, by method, status code and caller",
            grpc_requests.clone(),
        );
        let grpc_duration =
            Family::<GrpcMethod, Histogram>::new_with_constructor(|| Histogram::new(duration_buckets()));
        registry.register_with_unit(
            "idv_grpc_request_duration",
            "Time from a gRPC call's arrival to its last message",
            Unit::Seconds,
            grpc_duration.clone(),
        );
        let vendor_requests = Family::<VendorCall, Counter>::default();
        registry.register(
            "idv_vendor_requests",
            "Vendor HTTP calls, by vendor, operation and status",
            vendor_requests.clone(),
        );
        let vendor_duration =
            Family::<VendorOperation, Histogram>::new_with_constructor(|| Histogram::new(duration_buckets()));
        registry.register_with_unit(
            "idv_vendor_request_duration",
            "Time a vendor took to answer (headers)",
            Unit::Seconds,
            vendor_duration.clone(),
        );
        let breaker_state = Family::<VendorLabel, Gauge>::default();
        registry.register(
            "idv_vendor_breaker_state",
            "Each vendor's circuit breaker: 0 closed, 1 open, 2 half-open",
            breaker_state.clone(),
        );
        let hooks = Family::<HookLabels, Counter>::default();
        registry.register("idv_hooks", "Vendor hooks received, by vendor, kind and outcome", hooks.clone());
        let http_refusals = Family::<Reason, Counter>::default();
        registry.register(
            "idv_http_refusals",
            "Requests and connections the public HTTP listener turned away, by reason",
            http_refusals.clone(),
        );
        let watch_streams = Gauge::default();
        registry.register("idv_watch_streams", "Open WatchAttempt streams", watch_streams.clone());
        let events_appended = Family::<EventLabels, Counter>::default();
        registry.register(
            "idv_events_appended",
            "Events committed to the log, by vendor and kind",
            events_appended.clone(),
        );
        let append_duration = Histogram::new(duration_buckets());
        registry.register_with_unit(
            "idv_event_append_duration",
            "Time from an append to its commit",
            Unit::Seconds,
            append_duration.clone(),
        );
        let store_up = Gauge::default();
        store_up.set(1);
        registry.register("idv_store_up", "1 while the event log answers its health check", store_up.clone());
        let budget_in_use = Gauge::default();
        registry.register(
            "idv_memory_budget_bytes_in_use",
            "Bytes of vendor and hook bodies held in memory under the global budget",
            budget_in_use.clone(),
        );
        let overload_refusals = Family::<Reason, Counter>::default();
        registry.register(
            "idv_overload_refusals",
            "Calls refused with RESOURCE_EXHAUSTED because a limit was reached, by limit",
            overload_refusals.clone(),
        );
        registry.register_collector(Box::new(ProcessCollector));
        Arc::new(Self {
            registry,
            grpc_requests,
            grpc_duration,
            vendor_requests,
            vendor_duration,
            breaker_state,
            hooks,
            http_refusals,
            watch_streams,
            events_appended,
            append_duration,
            store_up,
            budget_in_use,
            overload_refusals,
        })
    }

    /// Counts a vendor call and its duration.
    pub fn vendor_call(&self, vendor: &'static str, operation: &'static str, status: String, took: Duration) {
        self.vendor_requests.get_or_create(&VendorCall { vendor, operation, status }).inc();
        self.vendor_duration
            .get_or_create(&VendorOperation { vendor, operation })
            .observe(took.as_secs_f64());
    }

    /// Counts a hook.
    pub fn hook(&self, vendor: &'static str, kind: &str, outcome: &'static str) {
        self.hooks.get_or_create(&HookLabels { vendor, kind: kind.to_owned(), outcome }).inc();
    }

    /// Counts a call refused because a limit was reached.
    pub fn overload(&self, reason: &'static str) {
        self.overload_refusals.get_or_create(&Reason { reason }).inc();
    }

    /// The metrics as OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            let _ = writeln!(text, "# encoding failed: {e}");
        }
        text
    }
}
