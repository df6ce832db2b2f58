//! Seeds an event log for the benchmarks (`scripts/bench`): start-up time and the scaling
//! curves need 10³–10⁶ stored events, which would take far too long through the gateway's
//! own API.
//!
//! ```sh
//! cargo run --release --example seed_events -- --data-dir D --events N
//! cargo run --release --example seed_events -- --schema-id   # a hash of the store's schema
//! ```
//!
//! It appends through the store's public API (`SqliteStore::open`, `EventStore::append`),
//! so what it writes is exactly what the gateway writes. Each attempt is a finished AbleID
//! session with four events: `started`, `completed` (with the hook's JSON), `passport` and
//! `registration`, so nothing is left pending for the expiry sweep to act on at start-up.
//! Attempt ids are `seed` followed by the attempt's index in 17 digits (21 characters, as
//! AbleID's); `seed.json` in the data directory says how many there are.
//!
//! This file is the one place the benchmarks touch the gateway's internals: when the store
//! API changes, only this file needs to follow.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use futures_util::TryStreamExt;
use idv_gateway::attempts::{AttemptKey, Effect, NewEvent, Outcome, event_id};
use idv_gateway::proto::ableid::{Address, Passport, PassportType};
use idv_gateway::proto::attempts::{AttemptState, Completed, Started, Vendor, attempt_event::Kind};
use idv_gateway::store::sqlite::SqliteStore;
use idv_gateway::store::{Appended, EventStore};
use prost_types::{Struct, Value, value};
use sha2::{Digest, Sha256};

/// Events each seeded attempt holds.
const EVENTS_PER_ATTEMPT: u64 = 4;

/// Attempts appended at once: the store serializes its writes, so a few in flight only
/// keep its writer busy.
const IN_FLIGHT: usize = 8;

#[derive(Debug, Parser)]
struct Args {
    /// The data directory to create (it must not hold a store yet).
    #[arg(long, required_unless_present = "schema_id")]
    data_dir: Option<PathBuf>,
    /// How many events to store (rounded down to whole attempts of four events).
    #[arg(long, default_value_t = 1000)]
    events: u64,
    /// Print a hash of the schema a new store gets, to key caches of seeded directories.
    #[arg(long)]
    schema_id: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if args.schema_id {
        println!("{}", schema_id()?);
        return Ok(());
    }
    let dir = args.data_dir.ok_or("--data-dir is required")?;
    if dir.join("events.sqlite3").exists() {
        return Err(format!("{} already holds a store", dir.display()).into());
    }
    let attempts = args.events / EVENTS_PER_ATTEMPT;
    if attempts == 0 {
        return Err("--events must be at least 4".into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let began = Instant::now();
    runtime.block_on(seed(&dir, attempts))?;
    let events = attempts * EVENTS_PER_ATTEMPT;
    let summary = format!(
        "{{\"events\":{events},\"attempts\":{attempts},\"id_prefix\":\"seed\",\"id_digits\":17,\
         \"seconds\":{:.1}}}",
        began.elapsed().as_secs_f64()
    );
    std::fs::write(dir.join("seed.json"), format!("{summary}\n"))?;
    println!("{summary}");
    Ok(())
}

async fn seed(dir: &std::path::Path, attempts: u64) -> Result<(), Box<dyn std::error::Error>> {
    let store = SqliteStore::open(dir)?;
    futures_util::stream::iter((0..attempts).map(Ok))
        .try_for_each_concurrent(IN_FLIGHT, |i| seed_attempt(&store, i))
        .await
}

fn text(s: impl Into<String>) -> Value {
    Value { kind: Some(value::Kind::StringValue(s.into())) }
}

fn number(n: f64) -> Value {
    Value { kind: Some(value::Kind::NumberValue(n)) }
}

fn object(fields: Vec<(&str, Value)>) -> Value {
    let fields = fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Value { kind: Some(value::Kind::StructValue(Struct { fields })) }
}

/// The hook envelope AbleID posts, as the gateway keeps it (`raw`, signature removed).
fn envelope(data: Value) -> Option<Struct> {
    match object(vec![
        ("statusCode", number(200.0)),
        ("type", text("SUCCESS")),
        ("message", text("ok")),
        ("data", data),
    ])
    .kind
    {
        Some(value::Kind::StructValue(s)) => Some(s),
        _ => None,
    }
}

async fn seed_attempt(store: &SqliteStore, i: u64) -> Result<(), Box<dyn std::error::Error>> {
    let id = format!("seed{i:017}");
    let key = AttemptKey::new(Vendor::Ableid, &id);
    let transaction_id = format!("seed-tx-{i}");
    let expire_time = Some(prost_types::Timestamp::from(SystemTime::now() + Duration::from_secs(600)));
    let started = Kind::Started(Started {
        transaction_id: transaction_id.clone(),
        url: format!("https://ableid.example/session/{id}"),
        expire_time,
        lang: "en".into(),
    });
    let completed = Kind::Completed(Completed {
        status_code: 200,
        r#type: "SUCCESS".into(),
        message: "ok".into(),
        redirect: String::new(),
        transaction_id: transaction_id.clone(),
    });
    let completed_raw = envelope(object(vec![
        ("attemptId", text(&id)),
        ("redirect", text("")),
        ("transactionId", text(&transaction_id)),
    ]));
    let passport = Kind::Passport(Passport {
        attempt_id: id.clone(),
        surname: "IVANOV".into(),
        name: "IVAN".into(),
        last_name: "IVANOVICH".into(),
        document: format!("AA{:07}", i % 10_000_000),
        sex: 1,
        passport_give_place: "TOSHKENT SHAHAR".into(),
        passport_give_place_id: 26_280,
        passport_date_begin: "2019-05-12".into(),
        passport_date_end: "2029-05-11".into(),
        passport_type: PassportType::IdmsRecvMvdIdcardCitizen as i32,
        raw_passport_type: "IDMS_RECV_MVD_IDCARD_CITIZEN".into(),
    });
    let passport_raw = envelope(object(vec![
        ("attemptId", text(&id)),
        (
            "data",
            object(vec![
                ("surname", text("IVANOV")),
                ("name", text("IVAN")),
                ("lastName", text("IVANOVICH")),
                ("document", text(format!("AA{:07}", i % 10_000_000))),
                ("sex", number(1.0)),
                ("passportGivePlace", text("TOSHKENT SHAHAR")),
                ("passportGivePlaceId", number(26_280.0)),
                ("passportDateBegin", text("2019-05-12")),
                ("passportDateEnd", text("2029-05-11")),
                ("passportType", text("IDMS_RECV_MVD_IDCARD_CITIZEN")),
            ]),
        ),
    ]));
    let registration = Kind::Registration(Address {
        address: Some("YUNUSOBOD TUMANI, 4-MAVZE, 12-UY".into()),
        country: Some("UZBEKISTAN".into()),
        country_id: Some(182),
        region: Some("TOSHKENT SHAHAR".into()),
        region_id: Some(26),
        district: Some("YUNUSOBOD".into()),
        district_id: Some(2_612),
        ..Default::default()
    });
    let succeeded = Effect::Settle(
        AttemptState::Succeeded,
        Some(Outcome { code: 200, r#type: "SUCCESS".into(), message: "ok".into() }),
    );
    let events = [
        ("started", started, None, Effect::Keep),
        ("completed", completed, completed_raw, succeeded),
        ("passport", passport, passport_raw, Effect::Keep),
        ("registration", registration, None, Effect::Keep),
    ];
    for (name, kind, raw, effect) in events {
        let mut event = NewEvent::new(event_id(&key, name, id.as_bytes()), kind, effect);
        event.raw = raw;
        match store.append(&key, event).await? {
            Appended::Stored(_) => {}
            other => return Err(format!("{id}: {name} was not stored: {other:?}").into()),
        }
    }
    Ok(())
}

/// A hash of the tables and indexes a new store creates, and of its schema version.
fn schema_id() -> Result<String, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    drop(SqliteStore::open(dir.path())?);
    let db = rusqlite::Connection::open(dir.path().join("events.sqlite3"))?;
    let version: i64 = db.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let mut statement = db.prepare("SELECT coalesce(sql, '') FROM sqlite_master ORDER BY type, name")?;
    let mut hash = Sha256::new();
    hash.update(version.to_be_bytes());
    for sql in statement.query_map([], |row| row.get::<_, String>(0))? {
        hash.update(sql?.as_bytes());
        hash.update([0]);
    }
    Ok(hex::encode(&hash.finalize()[..8]))
}
