//! The generated protobuf types and gRPC services, one module per proto package.
//!
//! Every generated type's `Debug` prints only its name (see `build.rs`): requests and
//! events carry personal data that must never reach a log line.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

macro_rules! package {
    ($file:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $file, ".rs"));
        include!(concat!(env!("OUT_DIR"), "/", $file, ".debug.rs"));
    };
}

pub mod idv {
    pub mod ableid {
        pub mod v1 {
            package!("idv.ableid.v1");
        }
    }
    pub mod baf {
        pub mod v1 {
            package!("idv.baf.v1");
        }
    }
    pub mod b2core {
        pub mod v1 {
            package!("idv.b2core.v1");
        }
    }
    pub mod attempts {
        pub mod v1 {
            package!("idv.attempts.v1");
        }
    }
}

pub mod google {
    pub mod api {
        include!(concat!(env!("OUT_DIR"), "/google.api.rs"));
    }
}

/// The descriptors of every file in `proto/`, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/idv_descriptor.bin"));

pub use idv::ableid::v1 as ableid;
pub use idv::attempts::v1 as attempts;
pub use idv::b2core::v1 as b2core;
pub use idv::baf::v1 as baf;
