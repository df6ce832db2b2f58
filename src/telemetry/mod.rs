//! What an operator sees of the gateway: metrics ([`metrics`], served on the admin
//! listener), the gRPC server's metrics layer ([`grpc`]), process metrics ([`process`]).

pub mod grpc;
pub mod metrics;
pub mod process;
