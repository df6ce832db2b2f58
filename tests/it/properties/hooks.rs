//! AbleID's hooks: the signature check, the nesting limit, and the receivers themselves
//! (the gateway's real AbleID hook router over a real SQLite event log, called without a
//! socket) on arbitrary and on validly signed bodies.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::body::Body;
use http::{Request, StatusCode};
use idv_gateway::attempts::limits::{MAX_JSON_DEPTH, check_json_depth};
use idv_gateway::attempts::log::{EventLog, LogSettings};
use idv_gateway::attempts::{AttemptKey, Effect, NewEvent, event_id};
use idv_gateway::config::Config;
use idv_gateway::proto::attempts::{AttemptState, Started, Vendor, attempt_event::Kind};
use idv_gateway::providers::ableid::AbleIdConfig;
use idv_gateway::providers::ableid::client::{AbleId, hook_signature};
use idv_gateway::providers::{Context, ProviderConfig};
use idv_gateway::store::sqlite::SqliteStore;
use idv_gateway::telemetry::metrics::Metrics;
use idv_gateway::upstream::budget::Budget;
use idv_gateway::upstream::http::{Connector, Upstream};
use proptest::prelude::*;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::{chars, check, depth, json, scalar, text};
use crate::harness::{PROJECT_ID, SECRET};

pub const SIGNATURE_CASES: u32 = 12_000;
pub const DEPTH_CASES: u32 = 3_000;
pub const BYTES_CASES: u32 = 1_000;
pub const SIGNED_CASES: u32 = 800;
pub const COMPLETION_CASES: u32 = 200;

static HTTP: LazyLock<reqwest::Client> = LazyLock::new(reqwest::Client::new);

/// How vendors are called, as the server builds it; nothing here calls one.
fn connector(metrics: &Arc<Metrics>) -> Connector {
    Connector {
        client: HTTP.clone(),
        metrics: metrics.clone(),
        budget: Budget::new(64 * 1024 * 1024, metrics.budget_in_use.clone()),
        breaker_failures: 5,
        breaker_cooldown: Duration::from_secs(30),
        breaker_observer: Arc::new(|_, _| {}),
    }
}

static CONNECTOR: LazyLock<Connector> = LazyLock::new(|| connector(&Metrics::new()));

fn ableid(project: &str, secret: &str) -> AbleId {
    let base = "http://127.0.0.1:9/".parse().unwrap();
    let upstream = Upstream::new(&CONNECTOR, "ableid", base, Duration::from_secs(1));
    AbleId::new(upstream, project.to_owned(), SecretString::from(secret.to_owned()))
}

/// A signature is accepted exactly when it is the attempt's (in any letter case, with
/// surrounding whitespace): a wrong one never is, the right one always is.
#[test]
fn signatures() {
    let strategy = (
        text(12),
        text(12),
        text(24),
        text(24),
        prop_oneof![chars("0123456789ABCDEFabcdef", 40..=40), text(48)],
        any::<prop::sample::Index>(),
        any::<char>(),
    );
    check(SIGNATURE_CASES, strategy, |(project, secret, attempt, other, forged, at, replacement)| {
        let client = ableid(&project, &secret);
        let right = hook_signature(&project, &SecretString::from(secret.clone()), &attempt);
        prop_assert_eq!(right.len(), 40);
        prop_assert!(client.verify_hook(&attempt, &right));
        prop_assert!(client.verify_hook(&attempt, &right.to_ascii_lowercase()));
        let padded = format!(" {right}\n");
        prop_assert!(client.verify_hook(&attempt, &padded));
        if forged.trim().to_ascii_uppercase() != right {
            prop_assert!(!client.verify_hook(&attempt, &forged));
        }
        // One character changed anywhere is wrong.
        let i = at.index(right.len());
        let original = right.as_bytes()[i] as char;
        if replacement.to_ascii_uppercase() != original {
            let mut changed: Vec<char> = right.chars().collect();
            changed[i] = replacement;
            let changed: String = changed.into_iter().collect();
            prop_assert!(!client.verify_hook(&attempt, &changed), "{changed}");
        }
        // Another attempt's signature is wrong for this one; so is another project's.
        if other != attempt {
            prop_assert!(!client.verify_hook(&other, &right));
        }
        let elsewhere = ableid(&format!("{project}x"), &secret);
        prop_assert!(!elsewhere.verify_hook(&attempt, &right));
        Ok(())
    });
}

/// A chain of `levels` nested objects and arrays around `leaf`, each level with a scalar
/// beside it: exactly `levels + depth(leaf)` deep.
fn chain() -> impl Strategy<Value = Value> {
    (prop::collection::vec((any::<bool>(), scalar()), 0..40), json(1)).prop_map(|(levels, leaf)| {
        levels.into_iter().fold(leaf, |inner, (array, beside)| {
            if array { json!([beside, inner]) } else { json!({"s": beside, "d": inner}) }
        })
    })
}

/// The nesting check agrees with the real depth of every JSON text, compact or pretty,
/// whatever its strings hold; on arbitrary bytes it never panics, and whenever they are
/// JSON it agrees with them too.
#[test]
fn json_depth() {
    let strategy = prop_oneof![
        2 => prop_oneof![chain(), json(6)].prop_map(Ok),
        1 => prop::collection::vec(
            prop_oneof![Just(b'{'), Just(b'['), Just(b'}'), Just(b']'), Just(b'"'), Just(b'\\'), any::<u8>()],
            0..96
        )
        .prop_map(Err),
    ];
    check(DEPTH_CASES, strategy, |input| {
        match input {
            Ok(value) => {
                let allowed = depth(&value) <= MAX_JSON_DEPTH;
                for text in [serde_json::to_vec(&value).unwrap(), serde_json::to_vec_pretty(&value).unwrap()]
                {
                    prop_assert_eq!(check_json_depth(&text).is_ok(), allowed, "depth {}", depth(&value));
                }
            }
            Err(bytes) => {
                let verdict = check_json_depth(&bytes);
                if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
                    prop_assert_eq!(verdict.is_ok(), depth(&value) <= MAX_JSON_DEPTH);
                }
            }
        }
        Ok(())
    });
}

// ---- The receivers ---------------------------------------------------------------------

/// The AbleID hook router of a real provider over a real event log, with one attempt the
/// gateway started and no data request outstanding.
struct Receivers {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    log: Arc<EventLog>,
    _dir: tempfile::TempDir,
}

const STARTED: &str = "att-started";
const GHOSTS: [&str; 2] = ["att-ghost", "3HQVkBm_zCZqKFbTWVrhf"];
const PATHS: [&str; 6] = ["complete", "passport", "photo", "registration", "person", "nope"];

impl Receivers {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (router, log) = runtime.block_on(async {
            let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
            let settings = LogSettings {
                retention: Duration::from_secs(30 * 86_400),
                heartbeat: Duration::from_secs(20),
                max_watch_streams: 16,
                max_watch_streams_per_caller: 16,
            };
            let metrics = Metrics::new();
            let log = Arc::new(EventLog::new(store, settings, metrics.clone(), CancellationToken::new()));
            let mut config = Config::default();
            let able = config.provider_mut::<AbleIdConfig>().unwrap();
            able.base_url = Some("http://127.0.0.1:9/".parse().unwrap());
            able.project_id = Some(PROJECT_ID.into());
            able.secret = Some(SECRET.into());
            let context = Context {
                upstream: connector(&metrics),
                metrics: metrics.clone(),
                log: log.clone(),
                public_url: Some("https://idv.example.com/".parse().unwrap()),
                max_message_bytes: 32 * 1024 * 1024,
                shutdown: CancellationToken::new(),
            };
            let provider = config.provider::<AbleIdConfig>().unwrap().build(&context).unwrap();
            (provider.hook_routes(), log)
        });
        let receivers = Self { runtime, router, log, _dir: dir };
        receivers.start(STARTED);
        receivers
    }

    fn start(&self, attempt_id: &str) {
        let key = AttemptKey::new(Vendor::Ableid, attempt_id);
        let started = Started { transaction_id: "tx".into(), ..Started::default() };
        let event = NewEvent {
            owner: Some("anonymous".into()),
            ..NewEvent::new(event_id(&key, "started", b""), Kind::Started(started), Effect::Keep)
        };
        self.runtime.block_on(self.log.append(&key, event)).unwrap();
    }

    fn post(&self, path: &str, body: Vec<u8>) -> (StatusCode, String) {
        let request = Request::post(format!("/hooks/ableid/{path}"))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        self.runtime.block_on(async {
            let response = self.router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        })
    }

    /// The events of an attempt, or `None` when the gateway has no such attempt.
    fn events(&self, attempt_id: &str) -> Option<Vec<Kind>> {
        let key = AttemptKey::new(Vendor::Ableid, attempt_id);
        self.runtime.block_on(async {
            self.log.attempt(&key).await.unwrap()?;
            let events = self.log.events(&key, 0, 100).await.unwrap();
            Some(events.into_iter().filter_map(|e| e.kind).collect())
        })
    }

    fn state(&self, attempt_id: &str) -> AttemptState {
        let key = AttemptKey::new(Vendor::Ableid, attempt_id);
        let record = self.runtime.block_on(self.log.attempt(&key)).unwrap().unwrap();
        record.attempt.state()
    }

    /// Nothing a hook did here ever shows: the ghosts do not exist, the started attempt has
    /// only its start.
    fn untouched(&self) -> Result<(), TestCaseError> {
        for ghost in GHOSTS {
            prop_assert!(self.events(ghost).is_none(), "{} was created", ghost);
        }
        let events = self.events(STARTED).unwrap();
        prop_assert_eq!(events.len(), 1, "{:?}", events.iter().map(Kind::field_name).collect::<Vec<_>>());
        prop_assert_eq!(self.state(STARTED), AttemptState::Pending);
        Ok(())
    }
}

fn sign(attempt_id: &str) -> String {
    hook_signature(PROJECT_ID, &SECRET.into(), attempt_id)
}

/// The statuses a hook receiver documents.
const DOCUMENTED: [u16; 8] = [200, 400, 401, 403, 404, 409, 413, 503];

/// Arbitrary bytes, arbitrary JSON and unsigned or wrongly signed envelopes: every answer
/// is a documented refusal, and nothing is stored.
#[test]
fn arbitrary_bytes_to_the_receivers() {
    let receivers = Receivers::new();
    let attempt = prop::sample::select(vec![STARTED, GHOSTS[0], GHOSTS[1]]);
    let unsigned = (attempt, json(4), prop_oneof![Just(None), text(48).prop_map(Some)]).prop_map(
        |(attempt, payload, hash)| {
            let mut data = json!({"attemptId": attempt, "data": payload});
            if let Some(hash) = hash {
                data["hash"] = json!(hash);
            }
            serde_json::to_vec(&json!({"statusCode": 200, "type": "SUCCESS", "data": data})).unwrap()
        },
    );
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        json(5).prop_map(|v| serde_json::to_vec(&v).unwrap()),
        unsigned,
    ];
    check(BYTES_CASES, (prop::sample::select(PATHS.to_vec()), body), |(path, body)| {
        let (status, answer) = receivers.post(path, body.clone());
        prop_assert!(
            [400, 401, 404, 413].contains(&status.as_u16()),
            "{} answered {} {}",
            path,
            status,
            answer
        );
        receivers.untouched()
    });
}

/// A validly signed envelope with any content, around payloads of any shape and depth.
fn signed_hook() -> impl Strategy<Value = (&'static str, Value)> {
    let attempt = prop::sample::select(vec![STARTED, GHOSTS[0], GHOSTS[1]]);
    let code = prop_oneof![Just(json!(200)), Just(json!(0)), Just(json!("200")), scalar()];
    let kind = prop_oneof![Just(json!("SUCCESS")), Just(json!("FACE_NOT_VALID")), scalar()];
    let payload = prop_oneof![3 => json(5), 1 => chain()];
    let signature = prop_oneof![Just(0u8), Just(1), Just(2)];
    (attempt, code, kind, payload, signature, super::object(2), prop::sample::select(PATHS[..5].to_vec()))
        .prop_map(|(attempt, code, kind, payload, variant, extra, path)| {
            let right = sign(attempt);
            let hash = match variant {
                0 => right,
                1 => right.to_ascii_lowercase(),
                _ => format!("  {right} "),
            };
            let mut data = extra;
            data.insert("attemptId".into(), json!(attempt));
            data.insert("hash".into(), json!(hash));
            data.insert("data".into(), payload);
            (path, json!({"statusCode": code, "type": kind, "message": "m", "data": data}))
        })
        // The completion of the started attempt would rightly settle it: the next property
        // covers completions.
        .prop_filter("not the started attempt's completion", |(path, hook)| {
            !(*path == "complete" && hook["data"]["attemptId"] == STARTED)
        })
}

/// The finding: whoever has an attempt's signature can sign anything. No signed hook
/// creates an attempt the gateway did not start (404), and no data hook lands without an
/// outstanding request (403); the answers are the documented ones.
#[test]
fn signed_hooks_never_create_or_change_attempts() {
    let receivers = Receivers::new();
    check(SIGNED_CASES, signed_hook(), |(path, hook)| {
        let body = serde_json::to_vec(&hook).unwrap();
        let too_deep = depth(&hook) > MAX_JSON_DEPTH;
        let (status, answer) = receivers.post(path, body);
        let status = status.as_u16();
        let started = hook["data"]["attemptId"] == STARTED;
        let expected: &[u16] = match (too_deep, path, started) {
            (true, _, _) => &[413],
            (false, "complete", _) => &[404],
            // A photo that is not base64 is refused before anything else is looked at.
            (false, "photo", true) => &[400, 403],
            (false, "photo", false) => &[400, 404],
            // Data for the started attempt that nobody asked for; data for no attempt.
            (false, _, true) => &[403],
            (false, _, false) => &[404],
        };
        prop_assert!(expected.contains(&status), "{} answered {} {}: {}", path, status, answer, hook);
        prop_assert!(DOCUMENTED.contains(&status));
        receivers.untouched()
    });
}

/// Ways to re-send a completion: unchanged but for the signature's spelling, or edited.
#[derive(Debug, Clone)]
enum Resend {
    Same(u8),
    Redirect(String),
    Message(String),
    Code(i64),
    Type(String),
    Extra(String),
}

fn resend() -> impl Strategy<Value = Resend> {
    prop_oneof![
        2 => (0u8..3).prop_map(Resend::Same),
        1 => text(16).prop_map(Resend::Redirect),
        1 => text(16).prop_map(Resend::Message),
        1 => prop::sample::select(vec![0i64, 200, 10203, 10101, -1]).prop_map(Resend::Code),
        1 => prop::sample::select(vec!["SUCCESS", "FACE_NOT_VALID", ""]).prop_map(|t| Resend::Type(t.into())),
        1 => text(8).prop_map(Resend::Extra),
    ]
}

/// The body a receiver keeps: the hook without its signature.
fn kept(hook: &Value) -> Value {
    let mut hook = hook.clone();
    if let Some(data) = hook.get_mut("data").and_then(Value::as_object_mut) {
        data.remove("hash");
        data.remove("signature");
    }
    hook
}

/// A completion settles its attempt once: the same one again is acknowledged as a
/// duplicate, any edited one is a conflict, and the attempt keeps its first result.
#[test]
fn completions_settle_once() {
    let receivers = Receivers::new();
    let counter = std::sync::atomic::AtomicU32::new(0);
    let first = (
        prop::sample::select(vec![0i64, 200, 10203, 10101]),
        prop::sample::select(vec!["SUCCESS", "FACE_NOT_VALID", "FACE_SESSION_EXPIRED"]),
        text(16),
        json(3),
    );
    check(COMPLETION_CASES, (first, resend()), |((code, kind, redirect, extra), resend)| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let attempt = format!("att-complete-{n}");
        receivers.start(&attempt);
        let original = json!({"statusCode": code, "type": kind, "message": "m",
            "data": {"attemptId": attempt, "hash": sign(&attempt), "redirect": redirect,
                "transactionId": "tx", "extra": extra}});
        let (status, answer) = receivers.post("complete", serde_json::to_vec(&original).unwrap());
        prop_assert_eq!((status.as_u16(), answer.as_str()), (200, "{\"message\":\"stored\"}"));
        let success = code == 200 || (code == 0 && kind == "SUCCESS");
        let settled = if success { AttemptState::Succeeded } else { AttemptState::Failed };
        prop_assert_eq!(receivers.state(&attempt), settled);

        let mut again = original.clone();
        match resend {
            Resend::Same(0) => {}
            Resend::Same(1) => again["data"]["hash"] = json!(sign(&attempt).to_ascii_lowercase()),
            Resend::Same(_) => again["data"]["hash"] = json!(format!(" {} ", sign(&attempt))),
            Resend::Redirect(r) => again["data"]["redirect"] = json!(r),
            Resend::Message(m) => again["message"] = json!(m),
            Resend::Code(c) => again["statusCode"] = json!(c),
            Resend::Type(t) => again["type"] = json!(t),
            Resend::Extra(x) => again["x"] = json!(x),
        }
        let (status, answer) = receivers.post("complete", serde_json::to_vec(&again).unwrap());
        if kept(&again) == kept(&original) {
            prop_assert_eq!((status.as_u16(), answer.as_str()), (200, "{\"message\":\"duplicate\"}"));
        } else {
            prop_assert_eq!(status.as_u16(), 409, "{}", answer);
        }
        prop_assert_eq!(receivers.state(&attempt), settled);
        prop_assert_eq!(receivers.events(&attempt).unwrap().len(), 2);
        Ok(())
    });
}
