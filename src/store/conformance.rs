//! The store conformance kit: what every [`EventStore`] backend must do, as one test
//! suite a backend runs against a fresh, empty store of its kind.
//!
//! ```ignore
//! crate::store::conformance::run(Arc::new(MyStore::open(...)?)).await;
//! ```
//!
//! It checks ordering, dedupe under concurrent appends of one id, gap-free sequences under
//! concurrent appends to one attempt, subscribe-then-read without loss, a lagging
//! subscriber, records and claims, the core's refusals, and the purge. Backends shared by
//! several processes also run [`run_shared`] with two handles on one database.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;

use super::{Appended, EventStore, Live, Record};
use crate::attempts::state::Refusal;
use crate::attempts::{AttemptKey, Effect, NewEvent, NewMedia, Outcome, RecordKey};
use crate::proto::attempts::{
    AttemptState, Completed, DataFailed, DataKind, Started, Vendor, attempt_event::Kind,
};

/// A `started` event (creates its attempt), owned by `billing`.
pub fn started(event_id: &str) -> NewEvent {
    let started = Started {
        transaction_id: "tx-1".into(),
        url: "https://page.example/1".into(),
        expire_time: Some(prost_types::Timestamp { seconds: 1_000, nanos: 0 }),
        lang: "en".into(),
    };
    NewEvent {
        owner: Some("billing".into()),
        ..NewEvent::new(event_id.into(), Kind::Started(started), Effect::Keep)
    }
}

/// An event that leaves the state as it is.
pub fn note(event_id: &str) -> NewEvent {
    NewEvent::new(event_id.into(), Kind::DataFailed(DataFailed::default()), Effect::Keep)
}

/// A result that settles the attempt as succeeded.
pub fn success(event_id: &str) -> NewEvent {
    let outcome = Outcome { code: 200, r#type: "SUCCESS".into(), message: "ok".into() };
    NewEvent::new(
        event_id.into(),
        Kind::Completed(Completed { status_code: 200, ..Completed::default() }),
        Effect::Settle(AttemptState::Succeeded, Some(outcome)),
    )
}

fn key(name: &str) -> AttemptKey {
    AttemptKey::new(Vendor::Ableid, format!("conformance-{name}"))
}

fn stored(appended: &Appended) -> i64 {
    match appended {
        Appended::Stored(event) => event.sequence,
        other => panic!("expected Stored, got {other:?}"),
    }
}

/// Runs every single-handle check against a fresh, empty store.
pub async fn run(store: Arc<dyn EventStore>) {
    appends_in_order_and_reads_after_a_sequence(&*store).await;
    only_a_start_creates_an_attempt(&*store).await;
    duplicates_are_stored_once(&*store).await;
    concurrent_appends_of_one_id_store_it_once(store.clone()).await;
    concurrent_appends_to_one_attempt_have_gap_free_sequences(store.clone()).await;
    subscribe_then_read_loses_nothing(store.clone()).await;
    a_lagging_subscriber_is_told_to_read_the_log(&*store).await;
    records_claims_and_expiry(&*store).await;
    concurrent_claims_have_one_winner(store.clone()).await;
    a_consumed_record_is_needed_and_used_up(&*store).await;
    expiring_attempts_are_found(&*store).await;
    leases_have_one_holder_until_they_expire(&*store).await;
    media_is_stored_with_its_event_once(&*store).await;
    store.check().await.expect("a fresh store is healthy");
    purge_removes_old_attempts_with_their_events_and_records(&*store).await;
}

/// Checks for a store several processes share: what one handle appends, the other reads
/// and is notified of; a lease one holds, the other cannot take.
pub async fn run_shared(a: Arc<dyn EventStore>, b: Arc<dyn EventStore>) {
    assert!(a.lease("shared.lease", "a", Duration::from_secs(30)).await.expect("lease"));
    assert!(!b.lease("shared.lease", "b", Duration::from_secs(30)).await.expect("lease"));
    a.release("shared.lease", "a").await.expect("release");
    let key = key("shared");
    let mut live = b.subscribe(&key);
    stored(&a.append(&key, started("shared-1")).await.expect("append"));
    stored(&a.append(&key, note("shared-2")).await.expect("append"));
    let seen = b.events(&key, 0, 10).await.expect("events");
    assert_eq!(seen.iter().map(|e| e.sequence).collect::<Vec<_>>(), [1, 2]);
    let notice = tokio::time::timeout(Duration::from_secs(10), live.next()).await;
    assert!(matches!(notice, Ok(Some(_))), "the other handle was not notified: {notice:?}");
    // Dedupe holds across handles.
    assert!(matches!(b.append(&key, note("shared-2")).await.expect("append"), Appended::Duplicate(_)));
    // Concurrent appends through both handles stay gap-free.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let key = key.clone();
        tasks.push(tokio::spawn(async move { store.append(&key, note(&format!("shared-c{i}"))).await }));
    }
    for task in tasks {
        stored(&task.await.expect("task").expect("append"));
    }
    let events = a.events(&key, 0, 100).await.expect("events");
    assert_eq!(events.iter().map(|e| e.sequence).collect::<Vec<_>>(), (1..=42).collect::<Vec<_>>());
}

async fn appends_in_order_and_reads_after_a_sequence(store: &dyn EventStore) {
    let key = key("order");
    assert!(store.attempt(&key).await.expect("attempt").is_none());
    assert_eq!(stored(&store.append(&key, started("order-1")).await.expect("append")), 1);
    assert_eq!(stored(&store.append(&key, note("order-2")).await.expect("append")), 2);
    assert_eq!(stored(&store.append(&key, success("order-3")).await.expect("append")), 3);
    let record = store.attempt(&key).await.expect("attempt").expect("stored");
    let attempt = &record.attempt;
    assert_eq!(
        (attempt.state(), attempt.terminal, attempt.last_sequence),
        (AttemptState::Succeeded, true, 3)
    );
    assert_eq!((attempt.result_code, attempt.result_type.as_str()), (200, "SUCCESS"));
    assert_eq!(attempt.transaction_id, "tx-1");
    assert_eq!(attempt.expire_time.map(|t| t.seconds), Some(1_000));
    assert_eq!(record.owner, "billing");
    let all = store.events(&key, 0, 10).await.expect("events");
    assert_eq!(
        all.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(),
        ["order-1", "order-2", "order-3"]
    );
    assert_eq!(all[2].attempt_state(), AttemptState::Succeeded);
    assert!(matches!(all[0].kind, Some(Kind::Started(_))));
    let page = store.events(&key, 1, 1).await.expect("events");
    assert_eq!(page.iter().map(|e| e.sequence).collect::<Vec<_>>(), [2]);
    assert!(store.events(&key, 3, 10).await.expect("events").is_empty());
}

async fn only_a_start_creates_an_attempt(store: &dyn EventStore) {
    let key = key("unknown");
    let appended = store.append(&key, success("unknown-1")).await.expect("append");
    assert_eq!(appended, Appended::Refused(Refusal::UnknownAttempt));
    // The rule comes first, whatever else the event needs.
    let needy = NewEvent { consumes: Some(RecordKey::new("test.request", "x")), ..note("unknown-2") };
    assert_eq!(store.append(&key, needy).await.expect("append"), Appended::Refused(Refusal::UnknownAttempt));
    assert!(store.attempt(&key).await.expect("attempt").is_none());
    assert!(store.events(&key, 0, 10).await.expect("events").is_empty());
}

async fn duplicates_are_stored_once(store: &dyn EventStore) {
    let key = key("dupe");
    stored(&store.append(&key, started("dupe-1")).await.expect("append"));
    let first = store.append(&key, success("dupe-2")).await.expect("append");
    let Appended::Duplicate(existing) = store.append(&key, success("dupe-2")).await.expect("append") else {
        panic!("a redelivery must be a duplicate");
    };
    assert_eq!(Appended::Stored(existing), first, "the duplicate carries the stored event");
    assert_eq!(store.attempt(&key).await.expect("attempt").expect("stored").attempt.last_sequence, 2);
}

async fn concurrent_appends_of_one_id_store_it_once(store: Arc<dyn EventStore>) {
    let key = key("race");
    stored(&store.append(&key, started("race-1")).await.expect("append"));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (store, key) = (store.clone(), key.clone());
        tasks.push(tokio::spawn(async move { store.append(&key, success("race-2")).await }));
    }
    let mut stored_count = 0;
    for task in tasks {
        match task.await.expect("task").expect("append") {
            Appended::Stored(_) => stored_count += 1,
            Appended::Duplicate(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(stored_count, 1);
    assert_eq!(store.events(&key, 0, 10).await.expect("events").len(), 2);
}

async fn concurrent_appends_to_one_attempt_have_gap_free_sequences(store: Arc<dyn EventStore>) {
    let key = key("gaps");
    stored(&store.append(&key, started("gaps-0")).await.expect("append"));
    let mut tasks = Vec::new();
    for i in 1..=50 {
        let (store, key) = (store.clone(), key.clone());
        tasks.push(tokio::spawn(async move { store.append(&key, note(&format!("gaps-{i}"))).await }));
    }
    // Meanwhile a reader never sees a sequence committed while a lower one is in flight
    // (the trap of sequences drawn before their commits): every read is 1..=n.
    let reader = {
        let (store, key) = (store.clone(), key.clone());
        tokio::spawn(async move {
            let mut reads = 0;
            loop {
                let seen: Vec<i64> =
                    store.events(&key, 0, 100).await.expect("events").iter().map(|e| e.sequence).collect();
                assert_eq!(seen, (1..=seen.len() as i64).collect::<Vec<_>>(), "a read saw a gap");
                reads += 1;
                if seen.len() == 51 {
                    return reads;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut sequences = BTreeSet::new();
    for task in tasks {
        sequences.insert(stored(&task.await.expect("task").expect("append")));
    }
    assert!(reader.await.expect("reader") >= 1);
    assert_eq!(sequences.into_iter().collect::<Vec<_>>(), (2..=51).collect::<Vec<_>>());
    let events = store.events(&key, 0, 100).await.expect("events");
    assert_eq!(events.iter().map(|e| e.sequence).collect::<Vec<_>>(), (1..=51).collect::<Vec<_>>());
}

/// The watch algorithm in miniature: subscribe, read the log, then follow live notices,
/// re-reading the log after a gap or a `Changed`. It must see every event exactly once,
/// in order, while a writer appends concurrently.
async fn subscribe_then_read_loses_nothing(store: Arc<dyn EventStore>) {
    let key = key("follow");
    stored(&store.append(&key, started("follow-0")).await.expect("append"));
    let writer = {
        let (store, key) = (store.clone(), key.clone());
        tokio::spawn(async move {
            for i in 1..=100 {
                store.append(&key, note(&format!("follow-{i}"))).await.expect("append");
                if i % 10 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let mut live = store.subscribe(&key);
    let mut seen = Vec::new();
    let mut last = 0;
    let read = |after: i64| {
        let (store, key) = (store.clone(), key.clone());
        async move { store.events(&key, after, 1000).await.expect("events") }
    };
    for event in read(last).await {
        last = event.sequence;
        seen.push(event.sequence);
    }
    while last < 101 {
        let notice = tokio::time::timeout(Duration::from_secs(10), live.next())
            .await
            .expect("a notice within 10 s")
            .expect("the stream stays open");
        match notice {
            Live::Event(event) if event.sequence <= last => {}
            Live::Event(event) if event.sequence == last + 1 => {
                last = event.sequence;
                seen.push(last);
            }
            Live::Event(_) | Live::Changed => {
                for event in read(last).await {
                    last = event.sequence;
                    seen.push(event.sequence);
                }
            }
        }
    }
    writer.await.expect("writer");
    assert_eq!(seen, (1..=101).collect::<Vec<_>>());
}

async fn a_lagging_subscriber_is_told_to_read_the_log(store: &dyn EventStore) {
    let key = key("lag");
    stored(&store.append(&key, started("lag-0")).await.expect("append"));
    let mut live = store.subscribe(&key);
    for i in 1..=1000 {
        store.append(&key, note(&format!("lag-{i}"))).await.expect("append");
    }
    // Whatever the backend buffers, a subscriber that did not keep up either gets every
    // event in order or is told to read the log before any gap.
    let mut last = 1;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), live.next())
            .await
            .expect("a notice")
            .expect("open")
        {
            Live::Changed => break,
            Live::Event(event) => {
                assert_eq!(event.sequence, last + 1, "an event was skipped without a Changed notice");
                last = event.sequence;
                if last == 1001 {
                    break;
                }
            }
        }
    }
}

async fn records_claims_and_expiry(store: &dyn EventStore) {
    let key = key("records");
    stored(&store.append(&key, started("records-1")).await.expect("append"));
    let token = RecordKey::new("test.token", "t1");
    let record = |value: &[u8], expires| Record {
        key: token.clone(),
        attempt: Some(key.clone()),
        value: value.to_vec(),
        expires,
    };
    store.put_record(record(b"one", None)).await.expect("put");
    assert_eq!(store.record(&token).await.expect("read").as_deref(), Some(&b"one"[..]));
    store.put_record(record(b"two", None)).await.expect("put");
    assert_eq!(store.record(&token).await.expect("read").as_deref(), Some(&b"two"[..]));
    assert_eq!(
        store.claim_record(record(b"three", None)).await.expect("claim").as_deref(),
        Some(&b"two"[..])
    );
    assert!(store.delete_record(&token).await.expect("delete"));
    assert!(!store.delete_record(&token).await.expect("delete"));
    assert_eq!(store.record(&token).await.expect("read"), None);

    // An expired record is not read, and a claim replaces it.
    let past = SystemTime::now() - Duration::from_secs(1);
    let claim = RecordKey::new("test.claim", "c1");
    let claim_record =
        |value: &[u8], expires| Record { key: claim.clone(), attempt: None, value: value.to_vec(), expires };
    assert_eq!(store.claim_record(claim_record(b"old", Some(past))).await.expect("claim"), None);
    assert_eq!(store.record(&claim).await.expect("read"), None);
    let later = SystemTime::now() + Duration::from_secs(60);
    assert_eq!(store.claim_record(claim_record(b"new", Some(later))).await.expect("claim"), None);
    assert_eq!(
        store.claim_record(claim_record(b"other", None)).await.expect("claim").as_deref(),
        Some(&b"new"[..])
    );
}

async fn concurrent_claims_have_one_winner(store: Arc<dyn EventStore>) {
    let claim = RecordKey::new("test.claim", "race");
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (store, claim) = (store.clone(), claim.clone());
        tasks.push(tokio::spawn(async move {
            let record =
                Record { key: claim, attempt: None, value: format!("{i}").into_bytes(), expires: None };
            store.claim_record(record).await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        if task.await.expect("task").expect("claim").is_none() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

async fn a_consumed_record_is_needed_and_used_up(store: &dyn EventStore) {
    let key = key("consume");
    stored(&store.append(&key, started("consume-1")).await.expect("append"));
    let request = RecordKey::new("test.request", "consume/passport");
    let data = |id: &str| NewEvent {
        consumes: Some(request.clone()),
        ..NewEvent::new(
            id.into(),
            Kind::DataFailed(DataFailed { data_kind: DataKind::Passport as i32, ..DataFailed::default() }),
            Effect::Keep,
        )
    };
    assert_eq!(store.append(&key, data("consume-2")).await.expect("append"), Appended::MissingRecord);
    let expired = Record {
        key: request.clone(),
        attempt: Some(key.clone()),
        value: Vec::new(),
        expires: Some(SystemTime::now() - Duration::from_secs(1)),
    };
    store.put_record(expired.clone()).await.expect("put");
    assert_eq!(store.append(&key, data("consume-2")).await.expect("append"), Appended::MissingRecord);
    store
        .put_record(Record { expires: Some(SystemTime::now() + Duration::from_secs(60)), ..expired })
        .await
        .expect("put");
    stored(&store.append(&key, data("consume-2")).await.expect("append"));
    assert_eq!(store.record(&request).await.expect("read"), None, "the record is used up");
    // A redelivery of the same event is a duplicate, not a missing record.
    assert!(matches!(store.append(&key, data("consume-2")).await.expect("append"), Appended::Duplicate(_)));
    assert_eq!(store.append(&key, data("consume-3")).await.expect("append"), Appended::MissingRecord);
}

async fn expiring_attempts_are_found(store: &dyn EventStore) {
    let key = AttemptKey::new(Vendor::Baf, "conformance-expiry");
    stored(&store.append(&key, started("expiry-1")).await.expect("append"));
    let pending = store.attempts_in_state(Vendor::Baf, AttemptState::Pending, None).await.expect("query");
    assert!(pending.iter().any(|a| a.attempt_id == key.id));
    // The started event says it expires at 1,000 s after the epoch.
    let soon = SystemTime::UNIX_EPOCH + Duration::from_secs(1_001);
    let due = store.attempts_in_state(Vendor::Baf, AttemptState::Pending, Some(soon)).await.expect("query");
    assert!(due.iter().any(|a| a.attempt_id == key.id));
    let early = SystemTime::UNIX_EPOCH + Duration::from_secs(999);
    let due = store.attempts_in_state(Vendor::Baf, AttemptState::Pending, Some(early)).await.expect("query");
    assert!(!due.iter().any(|a| a.attempt_id == key.id));
}

async fn leases_have_one_holder_until_they_expire(store: &dyn EventStore) {
    let short = Duration::from_millis(300);
    assert!(store.lease("test.lease", "a", short).await.expect("lease"));
    assert!(store.lease("test.lease", "a", short).await.expect("lease"), "the holder renews");
    assert!(!store.lease("test.lease", "b", short).await.expect("lease"), "held by a");
    tokio::time::sleep(short + Duration::from_millis(100)).await;
    assert!(store.lease("test.lease", "b", short).await.expect("lease"), "expired: b takes over");
    assert!(!store.lease("test.lease", "a", short).await.expect("lease"));
    store.release("test.lease", "a").await.expect("release");
    assert!(!store.lease("test.lease", "a", short).await.expect("lease"), "only the holder releases");
    store.release("test.lease", "b").await.expect("release");
    assert!(store.lease("test.lease", "a", short).await.expect("lease"), "released: free again");
}

async fn media_is_stored_with_its_event_once(store: &dyn EventStore) {
    let key = key("media");
    stored(&store.append(&key, started("media-1")).await.expect("append"));
    let photo = bytes::Bytes::from(vec![7u8; 300_000]);
    let file = NewMedia::new("photo.photo", "image/jpeg", photo.clone());
    let id = file.media.media_id.clone();
    let mut event = note("media-2");
    event.media = vec![file.clone()];
    let Appended::Stored(appended) = store.append(&key, event.clone()).await.expect("append") else {
        panic!("stored");
    };
    assert_eq!(appended.media.len(), 1);
    assert_eq!((appended.media[0].media_id.as_str(), appended.media[0].size_bytes), (id.as_str(), 300_000));
    // The same bytes on another event are one file.
    let mut again = note("media-3");
    again.media = vec![file];
    stored(&store.append(&key, again).await.expect("append"));
    assert!(matches!(store.append(&key, event).await.expect("append"), Appended::Duplicate(_)));
    let read = store.media(&key, &id).await.expect("read").expect("stored");
    assert_eq!((read.content_type.as_str(), read.bytes), ("image/jpeg", photo));
    let listed = store.events(&key, 1, 10).await.expect("events");
    assert!(listed[0].media.iter().any(|m| m.media_id == id), "the event keeps the reference");
    assert!(store.media(&key, "no-such-media").await.expect("read").is_none());
    assert!(
        store.media(&self::key("other"), &id).await.expect("read").is_none(),
        "media belongs to its attempt"
    );
}

async fn purge_removes_old_attempts_with_their_events_and_records(store: &dyn EventStore) {
    let key = key("purge");
    stored(&store.append(&key, started("purge-1")).await.expect("append"));
    let token = RecordKey::new("test.purge", "p1");
    store
        .put_record(Record {
            key: token.clone(),
            attempt: Some(key.clone()),
            value: b"x".to_vec(),
            expires: None,
        })
        .await
        .expect("put");
    let orphan = RecordKey::new("test.purge", "orphan");
    let past = SystemTime::now() - Duration::from_secs(3600);
    store
        .put_record(Record { key: orphan.clone(), attempt: None, value: b"y".to_vec(), expires: Some(past) })
        .await
        .expect("put");
    assert_eq!(store.purge(SystemTime::now() - Duration::from_secs(60)).await.expect("purge"), 0);
    assert!(store.attempt(&key).await.expect("attempt").is_some());
    let purged = store.purge(SystemTime::now() + Duration::from_secs(1)).await.expect("purge");
    assert!(purged >= 1, "purged {purged}");
    assert!(store.attempt(&key).await.expect("attempt").is_none());
    assert!(store.events(&key, 0, 10).await.expect("events").is_empty());
    assert_eq!(store.record(&token).await.expect("read"), None);
    assert!(!store.delete_record(&orphan).await.expect("delete"), "an expired orphan record is purged");
}
