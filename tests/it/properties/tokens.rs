//! Resume and page tokens: every position of every attempt round-trips; anything else is
//! `Malformed`, `OtherAttempt` or `Expired`, never a panic and never a position of another
//! attempt.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idv_gateway::attempts::AttemptKey;
use idv_gateway::attempts::token::{TokenError, TokenKind, decode, encode};
use idv_gateway::proto::attempts::Vendor;
use proptest::prelude::*;

use super::{chars, check, text};

pub const ROUND_TRIP_CASES: u32 = 25_000;
pub const OTHER_CASES: u32 = 15_000;

const DIGITS: &str = "0123456789";
const URL_SAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const RETENTION: Duration = Duration::from_secs(86_400);

fn key() -> impl Strategy<Value = AttemptKey> {
    (prop::sample::select(vec![Vendor::Ableid, Vendor::Baf, Vendor::Unspecified]), text(40))
        .prop_map(|(vendor, id)| AttemptKey::new(vendor, id))
}

fn kind() -> impl Strategy<Value = TokenKind> {
    prop_oneof![Just(TokenKind::Resume), Just(TokenKind::Page)]
}

fn other(kind: TokenKind) -> TokenKind {
    match kind {
        TokenKind::Resume => TokenKind::Page,
        TokenKind::Page => TokenKind::Resume,
    }
}

/// The text inside a token: `tag.attempt-hash.sequence.issued`.
fn inside(token: &str) -> Vec<String> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token.trim()).unwrap()).unwrap();
    text.split('.').map(str::to_owned).collect()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn round_trip() {
    check(ROUND_TRIP_CASES, (kind(), key(), key(), 0..=i64::MAX), |(kind, key, another, sequence)| {
        let token = encode(kind, &key, sequence);
        prop_assert_eq!(decode(kind, &key, &token, RETENTION), Ok(sequence));
        prop_assert_eq!(decode(kind, &key, &format!(" {token}\n"), RETENTION), Ok(sequence));
        prop_assert_eq!(decode(other(kind), &key, &token, RETENTION), Err(TokenError::Malformed));
        if another != key {
            prop_assert_eq!(decode(kind, &another, &token, RETENTION), Err(TokenError::OtherAttempt));
        }
        // Tokens are URL-safe and say nothing readable about the attempt's id.
        prop_assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        Ok(())
    });
}

/// Things that are not this attempt's tokens: any text; hand-made token texts with every
/// part varied; real tokens with a character changed, cut or added.
#[derive(Debug, Clone)]
enum Input {
    Text(String),
    Parts { tag: String, own_hash: bool, hash: String, sequence: String, issued: String },
    Mutated { sequence: i64, at: prop::sample::Index, replacement: char, cut: bool },
    Old { sequence: i64, age: u64 },
}

fn input() -> impl Strategy<Value = Input> {
    let number = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        chars(DIGITS, 0..=25),
        text(6),
    ];
    prop_oneof![
        text(80).prop_map(Input::Text),
        chars(URL_SAFE, 0..=80).prop_map(Input::Text),
        (
            prop_oneof![Just("r1".to_owned()), Just("p1".to_owned()), text(3)],
            any::<bool>(),
            chars("0123456789abcdef", 0..=14),
            number.clone(),
            number
        )
            .prop_map(|(tag, own_hash, hash, sequence, issued)| Input::Parts {
                tag,
                own_hash,
                hash,
                sequence,
                issued
            }),
        (0..=i64::MAX, any::<prop::sample::Index>(), any::<char>(), any::<bool>())
            .prop_map(|(sequence, at, replacement, cut)| Input::Mutated { sequence, at, replacement, cut }),
        (0..=i64::MAX, 1..10_000_000u64).prop_map(|(sequence, age)| Input::Old { sequence, age }),
    ]
}

#[test]
fn other_strings() {
    check(OTHER_CASES, (key(), input()), |(key, input)| {
        let own = encode(TokenKind::Resume, &key, 0);
        let own_hash = inside(&own)[1].clone();
        let token = match &input {
            Input::Text(text) => text.clone(),
            Input::Parts { tag, own_hash: true, sequence, issued, .. } => {
                URL_SAFE_NO_PAD.encode(format!("{tag}.{own_hash}.{sequence}.{issued}"))
            }
            Input::Parts { tag, hash, sequence, issued, .. } => {
                URL_SAFE_NO_PAD.encode(format!("{tag}.{hash}.{sequence}.{issued}"))
            }
            Input::Mutated { sequence, at, replacement, cut } => {
                let mut chars: Vec<char> = encode(TokenKind::Resume, &key, *sequence).chars().collect();
                let i = at.index(chars.len());
                if *cut {
                    chars.truncate(i);
                } else {
                    chars[i] = *replacement;
                }
                chars.into_iter().collect()
            }
            Input::Old { sequence, age } => {
                let issued = now() - RETENTION.as_secs() - age;
                URL_SAFE_NO_PAD.encode(format!("r1.{own_hash}.{sequence}.{issued}"))
            }
        };
        let decoded = decode(TokenKind::Resume, &key, &token, RETENTION);
        match decoded {
            // Accepted only when it really is this attempt's resume position.
            Ok(sequence) => {
                prop_assert!(sequence >= 0);
                let parts = inside(&token);
                prop_assert_eq!(parts.len(), 4);
                prop_assert_eq!(parts[0].as_str(), "r1");
                prop_assert_eq!(&parts[1], &own_hash, "a position of another attempt was accepted");
                prop_assert_eq!(parts[2].parse::<i64>().ok(), Some(sequence));
            }
            Err(TokenError::Malformed | TokenError::OtherAttempt | TokenError::Expired) => {}
        }
        match input {
            Input::Old { .. } => prop_assert_eq!(decoded, Err(TokenError::Expired)),
            Input::Parts { own_hash: false, ref hash, ref tag, ref sequence, ref issued }
                if hash != &own_hash
                    && tag == "r1"
                    && sequence.parse::<i64>().is_ok_and(|s| s >= 0)
                    && issued.parse::<u64>().is_ok() =>
            {
                prop_assert_eq!(decoded, Err(TokenError::OtherAttempt));
            }
            _ => {}
        }
        Ok(())
    });
}
