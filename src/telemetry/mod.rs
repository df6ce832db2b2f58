//! What an operator sees of the gateway: metrics ([`metrics`], served on the admin
//! listener), the gRPC server's metrics layer ([`grpc`]), process metrics ([`process`]),
//! and logs and OpenTelemetry traces ([`traces`]).

pub mod grpc;
pub mod metrics;
pub mod process;
pub mod traces;
