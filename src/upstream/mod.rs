//! How the gateway calls vendors, shared by every provider: one HTTP client path
//! ([`http`]) with a circuit breaker per vendor ([`breaker`]) and one memory budget for
//! the bodies it reads ([`budget`]), lenient reading of vendor JSON ([`json`]), and the
//! turning of a vendor's refusal into the caller's error ([`refusal`]). Nothing here knows
//! a particular vendor.

pub mod breaker;
pub mod budget;
pub mod http;
pub mod json;
pub mod refusal;

pub use refusal::{Classify, Refusal, api_error, refused};
