//! The embedded event store: SQLite in WAL mode with `synchronous=FULL`, so a commit is on
//! disk before `append` returns, and a hook is acknowledged only after that.
//!
//! Events are stored as their protobuf encoding (`AttemptEvent`), so the stored form is
//! the wire form and new fields need no migration. One writer connection serializes
//! appends (sequences are assigned inside its transactions, so they are gap-free and
//! committed in order); a second connection serves reads concurrently, as WAL allows.
//! Live notices come from an in-process channel per attempt: one process owns the file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use prost::Message;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::{Appended, EventStore, Live, LiveEvent, LiveStream, Record, StoreError, StoredMedia};
use crate::attempts::state::{AttemptRecord, project};
use crate::attempts::{AttemptKey, NewEvent, RecordKey, is_terminal, vendor_from_name, vendor_name};
use crate::proto::attempts::{Attempt, AttemptEvent, AttemptState, Vendor};

/// Events a live subscriber may fall behind by before it is told to read the store.
const CHANNEL_CAPACITY: usize = 256;

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        vendor TEXT NOT NULL,
        vendor_id TEXT NOT NULL,
        state INTEGER NOT NULL,
        transaction_id TEXT NOT NULL DEFAULT '',
        url TEXT NOT NULL DEFAULT '',
        create_ms INTEGER NOT NULL,
        update_ms INTEGER NOT NULL,
        expire_ms INTEGER,
        last_sequence INTEGER NOT NULL,
        result_code INTEGER NOT NULL DEFAULT 0,
        result_type TEXT NOT NULL DEFAULT '',
        result_message TEXT NOT NULL DEFAULT '',
        UNIQUE (vendor, vendor_id)
    );
    CREATE INDEX attempts_transaction ON attempts (vendor, transaction_id) WHERE transaction_id <> '';
    CREATE INDEX attempts_state ON attempts (vendor, state, expire_ms);
    CREATE INDEX attempts_update ON attempts (update_ms);
    CREATE TABLE events (
        attempt INTEGER NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
        sequence INTEGER NOT NULL,
        event_id TEXT NOT NULL UNIQUE,
        body BLOB NOT NULL,
        PRIMARY KEY (attempt, sequence)
    ) WITHOUT ROWID;
    CREATE TABLE baf_returns (
        token TEXT PRIMARY KEY,
        attempt INTEGER NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
        redirect_url TEXT NOT NULL
    );
    CREATE INDEX baf_returns_attempt ON baf_returns (attempt);
    ",
    // Generic provider records replace the BAF-only table (its rows move to the
    // namespaces the BAF provider reads); attempts remember who started them.
    "
    CREATE TABLE records (
        namespace TEXT NOT NULL,
        key TEXT NOT NULL,
        attempt INTEGER REFERENCES attempts (id) ON DELETE CASCADE,
        value BLOB NOT NULL,
        expires_ms INTEGER,
        PRIMARY KEY (namespace, key)
    ) WITHOUT ROWID;
    CREATE INDEX records_attempt ON records (attempt);
    CREATE INDEX records_expiry ON records (expires_ms) WHERE attempt IS NULL;
    INSERT INTO records (namespace, key, attempt, value)
        SELECT 'baf.return', r.token, r.attempt, CAST(a.vendor_id AS BLOB)
        FROM baf_returns r JOIN attempts a ON a.id = r.attempt;
    INSERT OR REPLACE INTO records (namespace, key, attempt, value)
        SELECT 'baf.redirect', a.vendor_id, r.attempt, CAST(r.redirect_url AS BLOB)
        FROM baf_returns r JOIN attempts a ON a.id = r.attempt;
    DROP TABLE baf_returns;
    DROP INDEX attempts_transaction;
    ALTER TABLE attempts ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    ",
    // Leases (one process uses the file, but the store keeps the trait's contract).
    "
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    ",
    // Files events carry by reference, stored once per attempt.
    "
    CREATE TABLE media (
        attempt INTEGER NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
        media_id TEXT NOT NULL,
        content_type TEXT NOT NULL,
        bytes BLOB NOT NULL,
        UNIQUE (attempt, media_id)
    );
    ",
];

/// The SQLite event store.
pub struct SqliteStore {
    writer: Arc<Mutex<Connection>>,
    reader: Arc<Mutex<Connection>>,
    channels: Mutex<HashMap<AttemptKey, broadcast::Sender<Arc<LiveEvent>>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn fail(e: impl std::fmt::Display) -> StoreError {
    StoreError::new(e)
}

impl SqliteStore {
    /// Opens (creating if needed) `events.sqlite3` in `dir` and applies migrations.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
        let path = dir.join("events.sqlite3");
        let writer = Connection::open(&path).map_err(fail)?;
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 5000;",
            )
            .map_err(fail)?;
        migrate(&writer)?;
        let reader = Connection::open(&path).map_err(fail)?;
        reader.execute_batch("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;").map_err(fail)?;
        Ok(Self {
            writer: Arc::new(Mutex::new(writer)),
            reader: Arc::new(Mutex::new(reader)),
            channels: Mutex::new(HashMap::new()),
        })
    }

    async fn with<T: Send + 'static>(
        connection: &Arc<Mutex<Connection>>,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let connection = connection.clone();
        tokio::task::spawn_blocking(move || {
            // A poisoned lock means a panic mid-statement; SQLite rolled the transaction
            // back, so the connection itself is still sound.
            let mut guard = connection.lock().unwrap_or_else(|p| p.into_inner());
            work(&mut guard)
        })
        .await
        .map_err(fail)?
    }

    fn publish(&self, key: &AttemptKey, event: &Arc<AttemptEvent>) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = channels.get(key)
            && sender.send(LiveEvent::new(event.clone())).is_err()
        {
            channels.remove(key);
        }
    }
}

fn migrate(connection: &Connection) -> Result<(), StoreError> {
    let applied: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(fail)?;
    for (version, migration) in MIGRATIONS.iter().enumerate().skip(applied.max(0) as usize) {
        connection
            .execute_batch(&format!("BEGIN; {migration}; PRAGMA user_version = {}; COMMIT;", version + 1))
            .map_err(fail)?;
    }
    Ok(())
}

fn millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: ms.div_euclid(1000), nanos: (ms.rem_euclid(1000) * 1_000_000) as i32 }
}

fn timestamp_millis(t: &prost_types::Timestamp) -> i64 {
    t.seconds * 1000 + i64::from(t.nanos) / 1_000_000
}

const ATTEMPT_COLUMNS: &str = "id, vendor, vendor_id, state, transaction_id, url, create_ms, update_ms, expire_ms, \
     last_sequence, result_code, result_type, result_message, owner";

/// An attempts row: its id and the attempt.
fn attempt_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, AttemptRecord)> {
    let vendor: String = row.get(1)?;
    let expire_ms: Option<i64> = row.get(8)?;
    let mut attempt = Attempt {
        vendor: vendor_from_name(&vendor) as i32,
        attempt_id: row.get(2)?,
        state: row.get(3)?,
        terminal: false,
        transaction_id: row.get(4)?,
        url: row.get(5)?,
        create_time: Some(timestamp(row.get(6)?)),
        update_time: Some(timestamp(row.get(7)?)),
        expire_time: expire_ms.map(timestamp),
        last_sequence: row.get(9)?,
        result_code: row.get(10)?,
        result_type: row.get(11)?,
        result_message: row.get(12)?,
    };
    attempt.terminal = is_terminal(attempt.state());
    Ok((row.get(0)?, AttemptRecord { attempt, owner: row.get(13)? }))
}

fn find_attempt(tx: &Connection, key: &AttemptKey) -> rusqlite::Result<Option<(i64, AttemptRecord)>> {
    tx.query_row(
        &format!("SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE vendor = ?1 AND vendor_id = ?2"),
        params![key.vendor_name(), key.id],
        attempt_row,
    )
    .optional()
}

fn stored_event(tx: &Connection, event_id: &str) -> rusqlite::Result<Option<AttemptEvent>> {
    let row = tx
        .query_row(
            "SELECT e.sequence, e.event_id, e.body, a.vendor, a.vendor_id FROM events e
             JOIN attempts a ON a.id = e.attempt WHERE e.event_id = ?1",
            [event_id],
            event_row,
        )
        .optional()?;
    Ok(row)
}

/// Decodes a stored event; one that no longer decodes (written by a future version, or
/// damaged) becomes a placeholder with its id and sequence, so one bad row cannot make a
/// whole attempt unreadable.
fn event_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AttemptEvent> {
    let sequence: i64 = row.get(0)?;
    let event_id: String = row.get(1)?;
    let body: Vec<u8> = row.get(2)?;
    let vendor: String = row.get(3)?;
    let attempt_id: String = row.get(4)?;
    Ok(AttemptEvent::decode(body.as_slice()).unwrap_or_else(|e| {
        tracing::error!(error = %e, sequence, %event_id, vendor, "a stored event cannot be decoded; sending a placeholder");
        AttemptEvent {
            event_id,
            sequence,
            vendor: vendor_from_name(&vendor) as i32,
            attempt_id,
            ..AttemptEvent::default()
        }
    }))
}

/// The append transaction: dedupe, consume a needed record, project, write.
fn append_in(
    tx: &Transaction<'_>,
    key: &AttemptKey,
    event: NewEvent,
    now: SystemTime,
) -> rusqlite::Result<Appended> {
    if let Some(existing) = stored_event(tx, &event.event_id)? {
        return Ok(Appended::Duplicate(Arc::new(existing)));
    }
    let now_ms = millis(now);
    let found = find_attempt(tx, key)?;
    let (row_id, current) = match found {
        Some((id, record)) => (Some(id), Some(record)),
        None => (None, None),
    };
    // The bytes stay here; the event keeps only their references.
    let files = event.media.clone();
    let needed = event.consumes.clone();
    let projected = match project(key, current.as_ref(), event, timestamp(now_ms)) {
        Ok(projected) => projected,
        Err(refusal) => return Ok(Appended::Refused(refusal)),
    };
    // After the core's rule, so an event for an unknown attempt is refused as such. Nothing
    // is written unless the transaction commits, so the order costs nothing.
    if let Some(needed) = &needed {
        let consumed = tx.execute(
            "DELETE FROM records WHERE namespace = ?1 AND key = ?2 AND (expires_ms IS NULL OR expires_ms > ?3)",
            params![needed.namespace, needed.key, now_ms],
        )?;
        if consumed == 0 {
            return Ok(Appended::MissingRecord);
        }
    }
    let attempt = &projected.record.attempt;
    let expire_ms = attempt.expire_time.as_ref().map(timestamp_millis);
    let row_id = match row_id {
        Some(id) => {
            tx.execute(
                "UPDATE attempts SET state = ?2, transaction_id = ?3, url = ?4, update_ms = ?5, expire_ms = ?6,
                     last_sequence = ?7, result_code = ?8, result_type = ?9, result_message = ?10
                 WHERE id = ?1",
                params![
                    id,
                    attempt.state,
                    attempt.transaction_id,
                    attempt.url,
                    now_ms,
                    expire_ms,
                    attempt.last_sequence,
                    attempt.result_code,
                    attempt.result_type,
                    attempt.result_message
                ],
            )?;
            id
        }
        None => {
            tx.execute(
                "INSERT INTO attempts (vendor, vendor_id, state, transaction_id, url, create_ms, update_ms,
                     expire_ms, last_sequence, result_code, result_type, result_message, owner)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    key.vendor_name(),
                    key.id,
                    attempt.state,
                    attempt.transaction_id,
                    attempt.url,
                    now_ms,
                    expire_ms,
                    attempt.last_sequence,
                    attempt.result_code,
                    attempt.result_type,
                    attempt.result_message,
                    projected.record.owner
                ],
            )?;
            tx.last_insert_rowid()
        }
    };
    let stored = projected.event;
    tx.execute(
        "INSERT INTO events (attempt, sequence, event_id, body) VALUES (?1, ?2, ?3, ?4)",
        params![row_id, stored.sequence, stored.event_id, stored.encode_to_vec()],
    )?;
    for file in &files {
        tx.execute(
            "INSERT OR IGNORE INTO media (attempt, media_id, content_type, bytes) VALUES (?1, ?2, ?3, ?4)",
            params![row_id, file.media.media_id, file.media.content_type, file.bytes.as_ref()],
        )?;
    }
    Ok(Appended::Stored(Arc::new(stored)))
}

fn attempt_row_id(c: &Connection, key: &Option<AttemptKey>) -> Result<Option<i64>, StoreError> {
    match key {
        None => Ok(None),
        Some(key) => {
            let (id, _) = find_attempt(c, key).map_err(fail)?.ok_or_else(|| fail("no such attempt"))?;
            Ok(Some(id))
        }
    }
}

#[async_trait::async_trait]
impl EventStore for SqliteStore {
    async fn append(&self, key: &AttemptKey, event: NewEvent) -> Result<Appended, StoreError> {
        let owned_key = key.clone();
        let appended = Self::with(&self.writer, move |connection| {
            let tx = connection
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(fail)?;
            let appended = append_in(&tx, &owned_key, event, SystemTime::now()).map_err(fail)?;
            if matches!(appended, Appended::Stored(_)) {
                tx.commit().map_err(fail)?;
            }
            Ok(appended)
        })
        .await?;
        if let Appended::Stored(event) = &appended {
            self.publish(key, event);
        }
        Ok(appended)
    }

    async fn attempt(&self, key: &AttemptKey) -> Result<Option<AttemptRecord>, StoreError> {
        let key = key.clone();
        Self::with(&self.reader, move |c| Ok(find_attempt(c, &key).map_err(fail)?.map(|(_, a)| a))).await
    }

    async fn events(
        &self,
        key: &AttemptKey,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AttemptEvent>, StoreError> {
        let key = key.clone();
        Self::with(&self.reader, move |c| {
            let mut statement = c
                .prepare_cached(
                    "SELECT e.sequence, e.event_id, e.body, a.vendor, a.vendor_id
                     FROM events e JOIN attempts a ON a.id = e.attempt
                     WHERE a.vendor = ?1 AND a.vendor_id = ?2 AND e.sequence > ?3
                     ORDER BY e.sequence LIMIT ?4",
                )
                .map_err(fail)?;
            let rows = statement
                .query_map(params![key.vendor_name(), key.id, after, limit as i64], event_row)
                .map_err(fail)?;
            rows.map(|row| row.map_err(fail)).collect()
        })
        .await
    }

    fn subscribe(&self, key: &AttemptKey) -> LiveStream {
        let receiver = {
            let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
            if channels.len() > 1024 {
                channels.retain(|_, sender| sender.receiver_count() > 0);
            }
            channels.entry(key.clone()).or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0).subscribe()
        };
        BroadcastStream::new(receiver)
            .map(|received| match received {
                Ok(event) => Live::Event(event),
                // The channel dropped events for this subscriber: the log has them.
                Err(BroadcastStreamRecvError::Lagged(_)) => Live::Changed,
            })
            .boxed()
    }

    async fn attempts_in_state(
        &self,
        vendor: Vendor,
        state: AttemptState,
        expiring_before: Option<SystemTime>,
    ) -> Result<Vec<Attempt>, StoreError> {
        let before = expiring_before.map(millis);
        Self::with(&self.reader, move |c| {
            let mut statement = c
                .prepare_cached(&format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE vendor = ?1 AND state = ?2
                     AND (?3 IS NULL OR (expire_ms IS NOT NULL AND expire_ms < ?3)) ORDER BY id"
                ))
                .map_err(fail)?;
            let rows = statement
                .query_map(params![vendor_name(vendor), state as i32, before], attempt_row)
                .map_err(fail)?;
            rows.map(|row| row.map(|(_, a)| a.attempt).map_err(fail)).collect()
        })
        .await
    }

    async fn put_record(&self, record: Record) -> Result<(), StoreError> {
        Self::with(&self.writer, move |c| {
            let attempt = attempt_row_id(c, &record.attempt)?;
            c.execute(
                "INSERT OR REPLACE INTO records (namespace, key, attempt, value, expires_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    record.key.namespace,
                    record.key.key,
                    attempt,
                    record.value,
                    record.expires.map(millis)
                ],
            )
            .map_err(fail)?;
            Ok(())
        })
        .await
    }

    async fn claim_record(&self, record: Record) -> Result<Option<Vec<u8>>, StoreError> {
        Self::with(&self.writer, move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(fail)?;
            let now = millis(SystemTime::now());
            let existing: Option<Vec<u8>> = tx
                .query_row(
                    "SELECT value FROM records WHERE namespace = ?1 AND key = ?2
                     AND (expires_ms IS NULL OR expires_ms > ?3)",
                    params![record.key.namespace, record.key.key, now],
                    |row| row.get(0),
                )
                .optional()
                .map_err(fail)?;
            if existing.is_some() {
                return Ok(existing);
            }
            let attempt = attempt_row_id(&tx, &record.attempt)?;
            tx.execute(
                "INSERT OR REPLACE INTO records (namespace, key, attempt, value, expires_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    record.key.namespace,
                    record.key.key,
                    attempt,
                    record.value,
                    record.expires.map(millis)
                ],
            )
            .map_err(fail)?;
            tx.commit().map_err(fail)?;
            Ok(None)
        })
        .await
    }

    async fn record(&self, key: &RecordKey) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.clone();
        Self::with(&self.reader, move |c| {
            c.query_row(
                "SELECT value FROM records WHERE namespace = ?1 AND key = ?2
                 AND (expires_ms IS NULL OR expires_ms > ?3)",
                params![key.namespace, key.key, millis(SystemTime::now())],
                |row| row.get(0),
            )
            .optional()
            .map_err(fail)
        })
        .await
    }

    async fn delete_record(&self, key: &RecordKey) -> Result<bool, StoreError> {
        let key = key.clone();
        Self::with(&self.writer, move |c| {
            let deleted = c
                .execute(
                    "DELETE FROM records WHERE namespace = ?1 AND key = ?2",
                    params![key.namespace, key.key],
                )
                .map_err(fail)?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        Self::with(&self.writer, move |c| {
            let now = millis(SystemTime::now());
            let until = now.saturating_add(ttl.as_millis() as i64);
            // Taken when free, expired, or already ours; otherwise left alone.
            let changed = c
                .execute(
                    "INSERT INTO leases (name, holder, expires_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
                     WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?4",
                    params![name, holder, until, now],
                )
                .map_err(fail)?;
            Ok(changed > 0)
        })
        .await
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        Self::with(&self.writer, move |c| {
            c.execute("DELETE FROM leases WHERE name = ?1 AND holder = ?2", params![name, holder])
                .map_err(fail)?;
            Ok(())
        })
        .await
    }

    async fn media(&self, key: &AttemptKey, media_id: &str) -> Result<Option<StoredMedia>, StoreError> {
        let (key, media_id) = (key.clone(), media_id.to_owned());
        Self::with(&self.reader, move |c| {
            c.query_row(
                "SELECT m.content_type, m.bytes FROM media m JOIN attempts a ON a.id = m.attempt
                 WHERE a.vendor = ?1 AND a.vendor_id = ?2 AND m.media_id = ?3",
                params![key.vendor_name(), key.id, media_id],
                |row| Ok(StoredMedia { content_type: row.get(0)?, bytes: row.get::<_, Vec<u8>>(1)?.into() }),
            )
            .optional()
            .map_err(fail)
        })
        .await
    }

    async fn check(&self) -> Result<(), StoreError> {
        Self::with(&self.reader, |c| {
            c.query_row("SELECT count(*) FROM leases", [], |row| row.get::<_, i64>(0)).map_err(fail)?;
            Ok(())
        })
        .await
    }

    async fn purge(&self, before: SystemTime) -> Result<u64, StoreError> {
        let before = millis(before);
        Self::with(&self.writer, move |c| {
            let purged = c.execute("DELETE FROM attempts WHERE update_ms < ?1", [before]).map_err(fail)?;
            c.execute("DELETE FROM records WHERE attempt IS NULL AND expires_ms < ?1", [before])
                .map_err(fail)?;
            Ok(purged as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passes_the_conformance_kit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        crate::store::conformance::run(store).await;
    }

    #[tokio::test]
    async fn committed_events_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let key = AttemptKey::new(Vendor::Baf, "b1");
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            store.append(&key, crate::store::conformance::started("e1")).await.unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.events(&key, 0, 10).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_undecodable_event_is_a_placeholder_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let key = AttemptKey::new(Vendor::Ableid, "a1");
        store.append(&key, crate::store::conformance::started("e1")).await.unwrap();
        store.append(&key, crate::store::conformance::note("e2")).await.unwrap();
        corrupt(&store, "e1").await;
        let events = store.events(&key, 0, 10).await.unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            (events[0].event_id.as_str(), events[0].sequence, events[0].kind.is_none()),
            ("e1", 1, true)
        );
        assert!(events[1].kind.is_some());
    }

    /// Overwrites an event's body with bytes that are not an `AttemptEvent`.
    async fn corrupt(store: &SqliteStore, event_id: &'static str) {
        SqliteStore::with(&store.writer, move |c| {
            c.execute("UPDATE events SET body = X'FFFFFFFF0F' WHERE event_id = ?1", [event_id])
                .map_err(fail)?;
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn the_baf_returns_of_version_1_become_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.sqlite3");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(&format!("BEGIN; {}; PRAGMA user_version = 1; COMMIT;", MIGRATIONS[0])).unwrap();
            c.execute_batch(
                "INSERT INTO attempts (id, vendor, vendor_id, state, create_ms, update_ms, last_sequence)
                     VALUES (7, 'baf', 'app-1', 1, 0, 0, 1);
                 INSERT INTO baf_returns VALUES ('tok', 7, 'https://shop.example/back');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        let value = store.record(&RecordKey::new("baf.return", "tok")).await.unwrap();
        assert_eq!(value.as_deref(), Some(&b"app-1"[..]));
        let value = store.record(&RecordKey::new("baf.redirect", "app-1")).await.unwrap();
        assert_eq!(value.as_deref(), Some(&b"https://shop.example/back"[..]));
        let key = AttemptKey::new(Vendor::Baf, "app-1");
        assert_eq!(store.attempt(&key).await.unwrap().unwrap().owner, "");
    }
}
