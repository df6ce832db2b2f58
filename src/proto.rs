//! The generated protobuf types and gRPC services, one module per proto package, with a
//! short alias per package (`proto::ableid` for `idv.ableid.v1`), all written by
//! `build.rs` from whatever is under `proto/idv/`.
//!
//! Every generated type's `Debug` prints only its name: requests and events carry
//! personal data that must never reach a log line.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

include!(concat!(env!("OUT_DIR"), "/idv_packages.rs"));

pub mod google {
    pub mod api {
        include!(concat!(env!("OUT_DIR"), "/google.api.rs"));
    }
}

/// The descriptors of every file in `proto/`, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/idv_descriptor.bin"));
