//! Regression tests of the trust issue: each of its seven findings tried again the way it
//! was found, against the real gateway (in-process with recording fake vendors, or the
//! binary as a child process where the finding needs one).
//!
//! | finding | where |
//! | --- | --- |
//! | 1. anyone can call anything; reflection lists services | [`auth`] |
//! | 2. forged data hooks, edited re-sent completions, hooks for unknown attempts | [`hooks`] |
//! | 3. a hook nested 60 deep makes the attempt unreadable | [`hooks`] |
//! | 4. slow connections on the HTTP port starve gRPC | [`slow_connections`] |
//! | 5. concurrent identical starts make many vendor calls | `ableid::concurrent_starts_*` |
//! | 6. SSRF through caller hooks | `ableid::caller_hooks_*`, [`ssrf`] |
//! | 7. invalid UTF-8 is `INTERNAL`, an oversized message `OUT_OF_RANGE` | [`malformed`] |

mod auth;
mod hooks;
mod malformed;
mod slow_connections;
mod ssrf;
