//! The embedded event store: SQLite in WAL mode with `synchronous=FULL`, so a commit is on
//! disk before `append` returns, and a hook is acknowledged only after that.
//!
//! Events are stored as their protobuf encoding (`AttemptEvent`), so the stored form is
//! the wire form and new fields need no migration. One writer connection serializes
//! appends (sequences are assigned inside its transactions); a second connection serves
//! reads concurrently, as WAL allows.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::broadcast;

use super::store::{Appended, BafReturn, EventStore, StoreError};
use super::{AttemptKey, NewEvent, next_state, vendor_from_name, vendor_name};
use crate::proto::attempts::{Attempt, AttemptEvent, AttemptState, Vendor, attempt_event::Kind};

/// Events a live subscriber may fall behind by before it must read the store.
const CHANNEL_CAPACITY: usize = 256;

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &["
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
"];

/// The SQLite event store.
pub struct SqliteStore {
    writer: Arc<Mutex<Connection>>,
    reader: Arc<Mutex<Connection>>,
    channels: Mutex<HashMap<AttemptKey, broadcast::Sender<Arc<AttemptEvent>>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn fail(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
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
            && sender.send(event.clone()).is_err()
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
     last_sequence, result_code, result_type, result_message";

/// An attempts row: its id and the attempt.
fn attempt_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Attempt)> {
    let vendor: String = row.get(1)?;
    let expire_ms: Option<i64> = row.get(8)?;
    Ok((
        row.get(0)?,
        Attempt {
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
        },
    ))
    .map(|(id, mut attempt)| {
        attempt.terminal = super::is_terminal(attempt.state());
        (id, attempt)
    })
}

fn find_attempt(tx: &Connection, key: &AttemptKey) -> rusqlite::Result<Option<(i64, Attempt)>> {
    tx.query_row(
        &format!("SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE vendor = ?1 AND vendor_id = ?2"),
        params![key.vendor_name(), key.id],
        attempt_row,
    )
    .optional()
}

/// The append transaction: dedupe, create the attempt if new, apply the event.
fn append_in(
    tx: &Transaction<'_>,
    key: &AttemptKey,
    event: NewEvent,
    now: SystemTime,
) -> rusqlite::Result<Appended> {
    let seen: Option<i64> = tx
        .query_row("SELECT 1 FROM events WHERE event_id = ?1", [&event.event_id], |r| r.get(0))
        .optional()?;
    if seen.is_some() {
        return Ok(Appended::Duplicate);
    }
    let now_ms = millis(now);
    let (row_id, mut attempt) = match find_attempt(tx, key)? {
        Some(found) => found,
        None => {
            tx.execute(
                "INSERT INTO attempts (vendor, vendor_id, state, create_ms, update_ms, last_sequence)
                 VALUES (?1, ?2, ?3, ?4, ?4, 0)",
                params![key.vendor_name(), key.id, AttemptState::Unspecified as i32, now_ms],
            )?;
            find_attempt(tx, key)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?
        }
    };

    let state = next_state(attempt.state(), &event.kind);
    attempt.state = state as i32;
    attempt.last_sequence += 1;
    let mut expire_ms = attempt.expire_time.as_ref().map(timestamp_millis);
    match &event.kind {
        Kind::Started(started) => {
            if attempt.transaction_id.is_empty() {
                attempt.transaction_id.clone_from(&started.transaction_id);
            }
            if attempt.url.is_empty() {
                attempt.url.clone_from(&started.url);
            }
            if expire_ms.is_none() {
                expire_ms = started.expire_time.as_ref().map(timestamp_millis);
            }
        }
        // Results are recorded only when they decided the state, so a late duplicate
        // outcome cannot overwrite the one that counted.
        Kind::Completed(c) if state == AttemptState::Succeeded => {
            (attempt.result_code, attempt.result_type, attempt.result_message) =
                (c.status_code, c.r#type.clone(), c.message.clone());
        }
        Kind::Failed(f) if state == AttemptState::Failed => {
            (attempt.result_code, attempt.result_type, attempt.result_message) =
                (f.status_code, f.r#type.clone(), f.message.clone());
        }
        Kind::BafStatusChanged(change) => {
            (attempt.result_code, attempt.result_type) = (change.raw_status, change.status_name.clone());
        }
        _ => {}
    }

    let stored = AttemptEvent {
        event_id: event.event_id,
        sequence: attempt.last_sequence,
        receive_time: Some(timestamp(now_ms)),
        vendor: key.vendor as i32,
        attempt_id: key.id.clone(),
        attempt_state: state as i32,
        kind: Some(event.kind),
        raw: event.raw,
    };
    tx.execute(
        "INSERT INTO events (attempt, sequence, event_id, body) VALUES (?1, ?2, ?3, ?4)",
        params![row_id, stored.sequence, stored.event_id, stored.encode_to_vec()],
    )?;
    tx.execute(
        "UPDATE attempts SET state = ?2, transaction_id = ?3, url = ?4, update_ms = ?5, expire_ms = ?6,
             last_sequence = ?7, result_code = ?8, result_type = ?9, result_message = ?10
         WHERE id = ?1",
        params![
            row_id,
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
    Ok(Appended::Stored(Arc::new(stored)))
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
            tx.commit().map_err(fail)?;
            Ok(appended)
        })
        .await?;
        if let Appended::Stored(event) = &appended {
            self.publish(key, event);
        }
        Ok(appended)
    }

    async fn attempt(&self, key: &AttemptKey) -> Result<Option<Attempt>, StoreError> {
        let key = key.clone();
        Self::with(&self.reader, move |c| Ok(find_attempt(c, &key).map_err(fail)?.map(|(_, a)| a))).await
    }

    async fn find_by_transaction(
        &self,
        vendor: Vendor,
        transaction_id: &str,
    ) -> Result<Option<Attempt>, StoreError> {
        let transaction_id = transaction_id.to_owned();
        Self::with(&self.reader, move |c| {
            c.query_row(
                &format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE vendor = ?1 AND transaction_id = ?2 \
                     ORDER BY id DESC LIMIT 1"
                ),
                params![vendor_name(vendor), transaction_id],
                attempt_row,
            )
            .optional()
            .map(|row| row.map(|(_, a)| a))
            .map_err(fail)
        })
        .await
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
                    "SELECT e.body FROM events e JOIN attempts a ON a.id = e.attempt
                     WHERE a.vendor = ?1 AND a.vendor_id = ?2 AND e.sequence > ?3
                     ORDER BY e.sequence LIMIT ?4",
                )
                .map_err(fail)?;
            let rows = statement
                .query_map(params![key.vendor_name(), key.id, after, limit as i64], |row| {
                    row.get::<_, Vec<u8>>(0)
                })
                .map_err(fail)?;
            rows.map(|body| AttemptEvent::decode(body.map_err(fail)?.as_slice()).map_err(fail)).collect()
        })
        .await
    }

    fn subscribe(&self, key: &AttemptKey) -> broadcast::Receiver<Arc<AttemptEvent>> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if channels.len() > 1024 {
            channels.retain(|_, sender| sender.receiver_count() > 0);
        }
        channels.entry(key.clone()).or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0).subscribe()
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
            rows.map(|row| row.map(|(_, a)| a).map_err(fail)).collect()
        })
        .await
    }

    async fn put_baf_return(&self, token: &str, ret: &BafReturn) -> Result<(), StoreError> {
        let (token, ret) = (token.to_owned(), ret.clone());
        Self::with(&self.writer, move |c| {
            let (row_id, _) =
                find_attempt(c, &ret.key).map_err(fail)?.ok_or_else(|| fail("no such attempt"))?;
            c.execute(
                "INSERT OR REPLACE INTO baf_returns (token, attempt, redirect_url) VALUES (?1, ?2, ?3)",
                params![token, row_id, ret.redirect_url],
            )
            .map_err(fail)?;
            Ok(())
        })
        .await
    }

    async fn baf_return(&self, token: &str) -> Result<Option<BafReturn>, StoreError> {
        let token = token.to_owned();
        Self::with(&self.reader, move |c| {
            c.query_row(
                "SELECT a.vendor_id, r.redirect_url FROM baf_returns r JOIN attempts a ON a.id = r.attempt
                 WHERE r.token = ?1",
                [token],
                |row| {
                    Ok(BafReturn {
                        key: AttemptKey::baf(row.get::<_, String>(0)?),
                        redirect_url: row.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(fail)
        })
        .await
    }

    async fn baf_redirect(&self, key: &AttemptKey) -> Result<Option<String>, StoreError> {
        let key = key.clone();
        Self::with(&self.reader, move |c| {
            c.query_row(
                "SELECT r.redirect_url FROM baf_returns r JOIN attempts a ON a.id = r.attempt
                 WHERE a.vendor = ?1 AND a.vendor_id = ?2 LIMIT 1",
                params![key.vendor_name(), key.id],
                |row| row.get(0),
            )
            .optional()
            .map_err(fail)
        })
        .await
    }

    async fn set_baf_redirect(&self, key: &AttemptKey, redirect_url: &str) -> Result<bool, StoreError> {
        let (key, redirect_url) = (key.clone(), redirect_url.to_owned());
        Self::with(&self.writer, move |c| {
            let changed = c
                .execute(
                    "UPDATE baf_returns SET redirect_url = ?3
                     WHERE attempt = (SELECT id FROM attempts WHERE vendor = ?1 AND vendor_id = ?2)",
                    params![key.vendor_name(), key.id, redirect_url],
                )
                .map_err(fail)?;
            Ok(changed > 0)
        })
        .await
    }

    async fn purge(&self, before: SystemTime) -> Result<u64, StoreError> {
        let before = millis(before);
        Self::with(&self.writer, move |c| {
            let purged = c.execute("DELETE FROM attempts WHERE update_ms < ?1", [before]).map_err(fail)?;
            Ok(purged as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::attempts::{Completed, Failed, Started};
    use std::time::Duration;

    fn event(id: &str, kind: Kind) -> NewEvent {
        NewEvent { event_id: id.into(), kind, raw: None }
    }

    #[tokio::test]
    async fn appends_number_events_and_drop_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let key = AttemptKey::ableid("a1");
        let mut live = store.subscribe(&key);
        let started =
            Kind::Started(Started { transaction_id: "tx".into(), url: "u".into(), ..Default::default() });

        let Appended::Stored(first) = store.append(&key, event("e1", started)).await.unwrap() else {
            panic!()
        };
        assert_eq!((first.sequence, first.attempt_state()), (1, AttemptState::Pending));
        assert_eq!(live.recv().await.unwrap().event_id, "e1");
        let completed =
            Kind::Completed(Completed { status_code: 200, r#type: "SUCCESS".into(), ..Default::default() });
        store.append(&key, event("e2", completed.clone())).await.unwrap();
        assert_eq!(store.append(&key, event("e2", completed)).await.unwrap(), Appended::Duplicate);
        let failed = Kind::Failed(Failed {
            status_code: 10203,
            r#type: "FACE_NOT_VALID".into(),
            ..Default::default()
        });
        store.append(&key, event("e3", failed)).await.unwrap();

        let attempt = store.attempt(&key).await.unwrap().unwrap();
        assert_eq!(
            (attempt.state(), attempt.terminal, attempt.last_sequence),
            (AttemptState::Succeeded, true, 3)
        );
        assert_eq!((attempt.result_code, attempt.result_type.as_str()), (200, "SUCCESS"));
        assert_eq!(attempt.transaction_id, "tx");
        let events = store.events(&key, 1, 10).await.unwrap();
        assert_eq!(events.iter().map(|e| e.sequence).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(store.find_by_transaction(Vendor::Ableid, "tx").await.unwrap().unwrap().attempt_id, "a1");
    }

    #[tokio::test]
    async fn committed_events_survive_reopening_and_purge_removes_old_attempts() {
        let dir = tempfile::tempdir().unwrap();
        let key = AttemptKey::baf("b1");
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            store.append(&key, event("e1", Kind::Started(Started::default()))).await.unwrap();
            store
                .put_baf_return("tok", &BafReturn { key: key.clone(), redirect_url: "https://x".into() })
                .await
                .unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.events(&key, 0, 10).await.unwrap().len(), 1);
        assert_eq!(store.baf_return("tok").await.unwrap().unwrap().redirect_url, "https://x");
        assert!(store.set_baf_redirect(&key, "https://y").await.unwrap());
        assert_eq!(store.baf_redirect(&key).await.unwrap().as_deref(), Some("https://y"));

        assert_eq!(store.purge(SystemTime::now() - Duration::from_secs(60)).await.unwrap(), 0);
        assert_eq!(store.purge(SystemTime::now() + Duration::from_secs(1)).await.unwrap(), 1);
        assert!(store.attempt(&key).await.unwrap().is_none());
        assert!(store.baf_return("tok").await.unwrap().is_none());
    }
}
