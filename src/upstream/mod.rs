//! How the gateway calls vendors, shared by every provider: one HTTP client path
//! ([`http`]), lenient reading of vendor JSON ([`json`]), and the turning of a vendor's
//! refusal into the caller's error ([`refusal`]). Nothing here knows a particular vendor.

pub mod http;
pub mod json;
pub mod refusal;

pub use refusal::{Classify, Refusal, api_error, refused};
