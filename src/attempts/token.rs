//! Resume tokens (of `WatchAttempt`) and page tokens (of `ListAttemptEvents`).
//!
//! A token is opaque to callers: URL-safe base64 of `kind.attempt-hash.sequence.issued`.
//! The attempt hash binds it to one attempt; the issue time lets the gateway refuse a
//! token older than its retention instead of silently skipping purged events. Tokens are
//! not secrets: a forged one only selects a different starting point in the caller's own
//! attempt.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::AttemptKey;

/// Which kind of position a token holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A `WatchAttempt` resume token.
    Resume,
    /// A `ListAttemptEvents` page token.
    Page,
}

impl TokenKind {
    fn tag(self) -> &'static str {
        match self {
            Self::Resume => "r1",
            Self::Page => "p1",
        }
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of this kind.
    Malformed,
    /// A token of another attempt.
    OtherAttempt,
    /// Issued longer ago than the retention.
    Expired,
}

/// Encodes the position after `sequence` in the attempt's log.
pub fn encode(kind: TokenKind, key: &AttemptKey, sequence: i64) -> String {
    let issued = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    URL_SAFE_NO_PAD.encode(format!("{}.{}.{sequence}.{issued}", kind.tag(), attempt_hash(key)))
}

/// Decodes a token of `kind` for `key`, refusing one issued more than `retention` ago.
pub fn decode(
    kind: TokenKind,
    key: &AttemptKey,
    token: &str,
    retention: Duration,
) -> Result<i64, TokenError> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| TokenError::Malformed)?;
    let text = String::from_utf8(bytes).map_err(|_| TokenError::Malformed)?;
    let mut parts = text.split('.');
    let (Some(tag), Some(hash), Some(sequence), Some(issued), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let sequence: i64 = sequence.parse().map_err(|_| TokenError::Malformed)?;
    let issued: u64 = issued.parse().map_err(|_| TokenError::Malformed)?;
    if tag != kind.tag() || sequence < 0 {
        return Err(TokenError::Malformed);
    }
    if hash != attempt_hash(key) {
        return Err(TokenError::OtherAttempt);
    }
    // `+` panics past what `SystemTime` can hold; no token the gateway issued is there.
    let issued = UNIX_EPOCH.checked_add(Duration::from_secs(issued)).ok_or(TokenError::Malformed)?;
    if SystemTime::now().duration_since(issued).is_ok_and(|age| age > retention) {
        return Err(TokenError::Expired);
    }
    Ok(sequence)
}

fn attempt_hash(key: &AttemptKey) -> String {
    let digest = Sha256::digest(format!("{key}").as_bytes());
    hex::encode(&digest[..6])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::attempts::Vendor;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn round_trip_and_refusals() {
        let key = AttemptKey::new(Vendor::Ableid, "a1");
        let token = encode(TokenKind::Resume, &key, 7);
        assert_eq!(decode(TokenKind::Resume, &key, &token, DAY), Ok(7));
        assert_eq!(decode(TokenKind::Page, &key, &token, DAY), Err(TokenError::Malformed));
        assert_eq!(
            decode(TokenKind::Resume, &AttemptKey::new(Vendor::Baf, "a1"), &token, DAY),
            Err(TokenError::OtherAttempt)
        );
        assert_eq!(decode(TokenKind::Resume, &key, "not a token", DAY), Err(TokenError::Malformed));
        let old = URL_SAFE_NO_PAD.encode(format!("r1.{}.7.1000", attempt_hash(&key)));
        assert_eq!(decode(TokenKind::Resume, &key, &old, DAY), Err(TokenError::Expired));
    }

    #[test]
    fn an_issue_time_past_the_clocks_range_is_malformed_not_a_panic() {
        let key = AttemptKey::new(Vendor::Ableid, "a1");
        let far = URL_SAFE_NO_PAD.encode(format!("r1.{}.7.{}", attempt_hash(&key), u64::MAX));
        assert_eq!(decode(TokenKind::Resume, &key, &far, DAY), Err(TokenError::Malformed));
    }
}
