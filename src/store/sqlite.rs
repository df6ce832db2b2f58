//! The embedded event store: SQLite in WAL mode with `synchronous=FULL`, so a commit is on
//! disk before `append` returns, and a hook is acknowledged only after that.
//!
//! Events are stored as their protobuf encoding (`AttemptEvent`), so the stored form is
//! the wire form and new fields need no migration.
//!
//! One thread owns the only connection that writes, fed by a queue. Appends are committed
//! in groups: the thread takes every append that queued while its previous commit ran (up
//! to [`MAX_BATCH`] appends or [`MAX_BATCH_BYTES`]), runs each in its own savepoint of one
//! `BEGIN IMMEDIATE` transaction, and commits once: one `fsync` for the group instead of
//! one per hook, with no added wait (a lone append is a group of one). An append refused,
//! already stored or failing alone rolls back only its savepoint; the appends of a group
//! see each other in queue order, so sequences stay gap-free and ordered. Nothing is
//! answered before the commit holding it: if the commit (or the file check after it)
//! fails, every append of the group gets the error. Live events are published after the
//! commit, in commit order. Other writes queue on the same thread and run alone.
//!
//! Reads go to a fixed pool of `store.read_threads` threads, each with its own connection
//! (WAL lets them read beside the writer), through a bounded queue: 10⁴ watches opening at
//! once wait in the queue, not on 10⁴ blocking threads. Live notices come from an
//! in-process channel per attempt: one process owns the file.
//!
//! The store fails loudly rather than acknowledge what it cannot keep ([`guard`]): a
//! database file (or WAL) removed, replaced or overwritten while running, or damage found
//! by SQLite or by `PRAGMA quick_check` (at open and every 10 minutes), fails it until a
//! restart; a write refused by the disk or by `store.max_size_mb` makes it unwritable
//! until a write succeeds. Either way [`EventStore::check`] errs, so health turns
//! `NOT_SERVING`. A [`marker`] file keeps a start from silently creating an empty
//! database where one existed.

#[cfg(test)]
mod fault_tests;
mod guard;
mod marker;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use prost::Message;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use self::guard::{DbError, Fault, Guard, classify};
use self::marker::Marker;
use super::rows::{AttemptColumns, decode_event, millis, timestamp, timestamp_millis};
use super::{Appended, EventStore, Live, LiveEvent, LiveStream, Record, StoreError, StoredMedia};
use crate::attempts::state::{AttemptRecord, project};
use crate::attempts::{AttemptKey, NewEvent, RecordKey, vendor_name};
use crate::config::StoreConfig;
use crate::proto::attempts::{Attempt, AttemptEvent, AttemptState, Vendor};

/// Events a live subscriber may fall behind by before it is told to read the store.
const CHANNEL_CAPACITY: usize = 256;

/// The most appends one commit holds: bounds how long the first of them waits for the
/// rest to be written.
const MAX_BATCH: usize = 256;

/// The most event bytes one commit holds (a group stops growing once past it), for the
/// same reason with large hooks (photos).
const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Writes waiting for the writer thread; callers beyond it wait (asynchronously) to queue.
const WRITE_QUEUE: usize = 1024;

/// Reads waiting for a reader thread; callers beyond it wait (asynchronously) to queue.
const READ_QUEUE: usize = 1024;

/// Statements each connection keeps prepared: the append path alone uses eight.
const STATEMENT_CACHE: usize = 32;

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
    // The database's identity, matched against the marker file beside it; the rows the
    // health check writes while the store cannot write; the application id in the
    // header, which the guard checks before every write.
    "
    CREATE TABLE identity (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        database_id TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE health (
        id INTEGER PRIMARY KEY,
        checked_ms INTEGER NOT NULL,
        pad BLOB
    );
    PRAGMA application_id = 1229215303; -- guard::APPLICATION_ID: IDVG in ASCII
    ",
];

/// The database's file name in the data directory.
const DATABASE: &str = "events.sqlite3";

/// How [`SqliteStore::open_with`] opens the store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// A cap on the database file in MiB (`store.max_size_mb`): a write that needs more
    /// room fails as on a full disk. `None`: only the disk limits it.
    pub max_size_mb: Option<u64>,
    /// Allows beginning an empty event log where the marker says one existed, or adopting
    /// a database the marker does not describe (`serve --init`). Never deletes a file.
    pub init: bool,
    /// Threads (each with its own connection) that serve reads (`store.read_threads`); at
    /// least one.
    pub read_threads: usize,
    /// A database up to this size is checked (`PRAGMA quick_check`) before `open_with`
    /// returns, so a damaged one refuses the start; a larger one on the writer thread
    /// before its first write: see [`SqliteStore::open_with`].
    pub check_inline_max_bytes: u64,
}

/// [`OpenOptions::check_inline_max_bytes`] by default: about 6 ms of `quick_check` here.
const CHECK_INLINE_MAX_BYTES: u64 = 4 << 20;

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            max_size_mb: None,
            init: false,
            read_threads: 2,
            check_inline_max_bytes: CHECK_INLINE_MAX_BYTES,
        }
    }
}

impl OpenOptions {
    /// The options a configuration asks for.
    pub fn from_config(config: &StoreConfig) -> Self {
        Self {
            max_size_mb: config.max_size_mb,
            init: config.init,
            read_threads: config.read_threads,
            ..Self::default()
        }
    }
}

/// Live channels by attempt, shared with the writer thread, which publishes.
type Channels = Arc<Mutex<HashMap<AttemptKey, broadcast::Sender<Arc<LiveEvent>>>>>;

/// Work for a connection: it answers its caller itself.
type Work = Box<dyn FnOnce(&mut Connection) + Send>;

/// What the writer thread is asked to do.
enum WriteJob {
    /// An append, committed together with the others queued beside it (boxed: an event is
    /// about a kilobyte, and every slot of the queue is as big as its largest job).
    Append(Box<AppendJob>),
    /// Any other write (or an examination of the files), run alone.
    Run(Work),
}

struct AppendJob {
    key: AttemptKey,
    event: NewEvent,
    /// Its size, for the guard's accounting of a full disk.
    bytes: usize,
    reply: oneshot::Sender<Result<Appended, StoreError>>,
}

/// Threads serving a queue; dropping the queue's sender ends them.
struct Workers<J> {
    queue: mpsc::Sender<J>,
    threads: Vec<JoinHandle<()>>,
}

impl<J> Workers<J> {
    /// Closes the queue and waits for the threads to finish what was queued, so their
    /// connections are closed when the store is gone: a later open of the same files (or
    /// a test removing them) must not race the last connection's checkpoint.
    fn stop(&mut self) {
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.queue, closed));
        for thread in self.threads.drain(..) {
            // A panic was already reported by the thread; its connection is closed.
            let _ = thread.join();
        }
    }
}

fn stopped() -> StoreError {
    StoreError("the event log's connections have stopped".into())
}

/// A call whose reply was dropped unanswered: its work panicked (and was rolled back).
fn unanswered() -> StoreError {
    StoreError("the event log's call ended without an answer (it panicked); nothing was written".into())
}

/// The SQLite event store.
pub struct SqliteStore {
    // The threads own their connections; they are stopped in `drop`, before `guard` (whose
    // descriptors must outlive SQLite's) can go.
    writer: Workers<WriteJob>,
    readers: Workers<Work>,
    /// Runs the periodic `quick_check`, which reads the whole file, beside the others.
    checker: Arc<Mutex<Connection>>,
    checker_interrupt: rusqlite::InterruptHandle,
    channels: Channels,
    guard: Arc<Guard>,
    /// Commits of groups of appends, so tests can see groups form.
    #[cfg_attr(not(test), allow(dead_code))]
    commits: Arc<AtomicU64>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // A `quick_check` of a large file must not hold up shutdown.
        self.checker_interrupt.interrupt();
        self.writer.stop();
        self.readers.stop();
    }
}

fn fail(e: impl std::fmt::Display) -> StoreError {
    StoreError::new(e)
}

/// Which connection a call uses.
#[derive(Debug, Clone, Copy)]
enum Access {
    /// The reader.
    Read,
    /// The writer, for a write of about this many bytes: the files are examined first.
    Write(usize),
    /// The writer, only to examine the files.
    Examine,
}

/// The size a failed append needed, for the health check's write probe.
fn event_bytes(event: &NewEvent) -> usize {
    event.raw.as_ref().map_or(0, Message::encoded_len)
        + event.kind.encoded_len()
        + event.event_id.len()
        + event.media.iter().map(|file| file.bytes.len()).sum::<usize>()
}

impl SqliteStore {
    /// Opens `events.sqlite3` in `dir` (creating both if needed) with default options.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(dir, &OpenOptions::default())
    }

    /// Opens (creating if needed) `events.sqlite3` in `dir`, checks it for damage
    /// (`PRAGMA quick_check`) and applies migrations.
    ///
    /// `quick_check` reads every page (~0.7 s for 10⁶ events here). A database larger than
    /// [`OpenOptions::check_inline_max_bytes`] is therefore checked on the writer thread
    /// before it takes its first write: the gateway serves reads at once, writes wait for
    /// the verdict, so nothing is acknowledged into a database before it was checked, and
    /// damage found fails the store as damage found later does.
    ///
    /// A marker file beside it (`idv-gateway.json`) records which database was created
    /// there: a start that finds the database missing, or a different one, refuses
    /// unless [`OpenOptions::init`] says to begin anew. An empty directory gets a new
    /// database and marker without asking.
    pub fn open_with(dir: &Path, options: &OpenOptions) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
        let path = dir.join(DATABASE);
        let wal = dir.join(format!("{DATABASE}-wal"));
        let found = marker::read(dir).map_err(StoreError)?;
        let exists = path.try_exists().map_err(|e| fail(format!("{}: {e}", path.display())))?;
        if !exists {
            refuse_to_create(dir, &path, &wal, found.as_ref(), options.init)?;
        }
        let check_inline =
            std::fs::metadata(&path).map_or(true, |m| m.len() <= options.check_inline_max_bytes);
        let writer = Connection::open(&path).map_err(|e| opening(&path, e))?;
        let prepared = (|| -> Result<_, DbError> {
            writer.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 5000;",
            )?;
            if check_inline {
                let problems = quick_check(&writer)?;
                if !problems.is_empty() {
                    return Err(StoreError(damaged(&path, &problems.join("; "))).into());
                }
            }
            migrate(&writer)?;
            Ok(database_identity(&writer)?)
        })();
        let (database_id, created_ms) = prepared.map_err(|e| match e {
            DbError::Sql(e) => opening(&path, e),
            DbError::Store(e) => e,
        })?;
        record(dir, &path, found.as_ref(), &database_id, created_ms, exists, options.init)?;
        if let Some(mb) = options.max_size_mb {
            cap(&writer, mb).map_err(|e| opening(&path, e))?;
        }
        // The file's header now carries the application id the guard looks for.
        writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(|e| opening(&path, e))?;
        writer.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let readers = (0..options.read_threads.max(1))
            .map(|_| {
                let reader = Connection::open(&path).map_err(|e| opening(&path, e))?;
                reader
                    .execute_batch("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                    .map_err(fail)?;
                reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                Ok(reader)
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let checker = Connection::open(&path).map_err(|e| opening(&path, e))?;
        checker.execute_batch("PRAGMA busy_timeout = 5000;").map_err(fail)?;
        let guard = Arc::new(Guard::watch(&path, &wal).map_err(StoreError)?);
        let channels = Channels::default();
        let commits = Arc::new(AtomicU64::new(0));
        let writer = {
            let (queue, jobs) = mpsc::channel(WRITE_QUEUE);
            let (guard, channels, commits) = (guard.clone(), channels.clone(), commits.clone());
            let thread = std::thread::Builder::new()
                .name("idv-store-writer".into())
                .spawn(move || {
                    if !check_inline {
                        check_before_writing(&writer, &guard);
                    }
                    write_loop(writer, jobs, &guard, &channels, &commits)
                })
                .map_err(fail)?;
            Workers { queue, threads: vec![thread] }
        };
        let readers = {
            let (queue, jobs) = mpsc::channel(READ_QUEUE);
            let jobs = Arc::new(Mutex::new(jobs));
            let threads = readers
                .into_iter()
                .enumerate()
                .map(|(n, reader)| {
                    let jobs = jobs.clone();
                    std::thread::Builder::new()
                        .name(format!("idv-store-reader-{n}"))
                        .spawn(move || read_loop(reader, &jobs))
                })
                .collect::<std::io::Result<Vec<_>>>()
                .map_err(fail)?;
            Workers { queue, threads }
        };
        Ok(Self {
            writer,
            readers,
            checker_interrupt: checker.get_interrupt_handle(),
            checker: Arc::new(Mutex::new(checker)),
            channels,
            guard,
            commits,
        })
    }

    /// Runs `work` on a connection: a reader's, or the writer's after examining the files;
    /// refuses if the store has failed; its outcome updates the store's condition.
    async fn run<T: Send + 'static>(
        &self,
        access: Access,
        work: impl FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.guard.refuse_if_failed()?;
        let guard = self.guard.clone();
        let (reply, answer) = oneshot::channel();
        match access {
            Access::Read => {
                let work: Work = Box::new(move |connection| {
                    let _ = reply.send(guard.settle(None, work(connection)));
                });
                self.readers.queue.send(work).await.map_err(|_| stopped())?;
            }
            Access::Write(_) | Access::Examine => {
                let written = match access {
                    Access::Write(bytes) => Some(bytes),
                    Access::Read | Access::Examine => None,
                };
                let work: Work = Box::new(move |connection| {
                    let outcome = guard.before_write().map_err(DbError::Store).and_then(|()| {
                        match work(connection) {
                            // A file removed while the transaction ran took what it committed
                            // along: the write is not acknowledged (a vendor retries it, and
                            // finds it stored if the operator copies the file back).
                            Ok(value) if written.is_some() => {
                                guard.before_write().map(|()| value).map_err(DbError::Store)
                            }
                            outcome => outcome,
                        }
                    });
                    let _ = reply.send(guard.settle(written, outcome));
                });
                self.writer.queue.send(WriteJob::Run(work)).await.map_err(|_| stopped())?;
            }
        }
        // A panic in `work` drops `reply`: the caller gets an error, as from a failed task.
        answer.await.map_err(|_| unanswered())?
    }

    /// Commits of groups of appends so far.
    #[cfg(test)]
    fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Starts the periodic `quick_check` in the background when it is due.
    fn schedule_quick_check(&self) {
        if !self.guard.quick_check_due() {
            return;
        }
        let (checker, guard) = (self.checker.clone(), self.guard.clone());
        tokio::task::spawn_blocking(move || {
            let connection = checker.lock().unwrap_or_else(PoisonError::into_inner);
            let started = Instant::now();
            let found = damage_found(&connection);
            guard.quick_check_done(started.elapsed(), found);
        });
    }
}

fn publish(channels: &Channels, stored: &[(&AttemptKey, &Arc<AttemptEvent>)]) {
    if stored.is_empty() {
        return;
    }
    let mut channels = channels.lock().unwrap_or_else(PoisonError::into_inner);
    for (key, event) in stored {
        if let Some(sender) = channels.get(*key)
            && sender.send(LiveEvent::new((*event).clone())).is_err()
        {
            channels.remove(*key);
        }
    }
}

/// A reader thread: takes reads from the shared queue until it closes.
fn read_loop(mut connection: Connection, jobs: &Mutex<mpsc::Receiver<Work>>) {
    loop {
        // One thread waits on the queue at a time; the others wait for the lock, then take
        // the next read.
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).blocking_recv();
        let Some(work) = job else { break };
        // A panicking read answers its caller with an error (its reply is dropped); the
        // connection is sound (SQLite ended the statement) and keeps serving.
        let _ = catch_unwind(AssertUnwindSafe(|| work(&mut connection)));
    }
}

/// The open-time `quick_check` of a large database, on the writer's connection before its
/// first write: damage fails the store (writes and health then say so), as the periodic
/// check's does.
fn check_before_writing(connection: &Connection, guard: &Guard) {
    let started = Instant::now();
    guard.quick_check_done(started.elapsed(), damage_found(connection));
}

/// What a `quick_check` found wrong, if anything. A check that did not finish (interrupted
/// at shutdown, or busy) learned nothing.
fn damage_found(connection: &Connection) -> Option<String> {
    match quick_check(connection) {
        Ok(problems) if problems.is_empty() => None,
        Ok(problems) => Some(problems.join("; ")),
        Err(e) if classify(&e) == Some(Fault::Damaged) => Some(e.to_string()),
        Err(e) => {
            tracing::debug!(error = %e, "event log quick_check did not finish");
            None
        }
    }
}

/// The writer thread: runs writes in queue order, appends in groups, until the queue
/// closes.
fn write_loop(
    mut connection: Connection,
    mut jobs: mpsc::Receiver<WriteJob>,
    guard: &Guard,
    channels: &Channels,
    commits: &AtomicU64,
) {
    // A job taken while gathering a group but not part of it: it runs next.
    let mut next = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match jobs.blocking_recv() {
                Some(job) => job,
                None => break,
            },
        };
        let outcome = match job {
            WriteJob::Run(work) => catch_unwind(AssertUnwindSafe(|| work(&mut connection))),
            WriteJob::Append(first) => {
                // Whatever queued while the last commit ran: no waiting for more.
                let mut bytes = first.bytes;
                let mut batch = vec![*first];
                while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
                    match jobs.try_recv() {
                        Ok(WriteJob::Append(append)) => {
                            bytes += append.bytes;
                            batch.push(*append);
                        }
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                catch_unwind(AssertUnwindSafe(|| {
                    commit_group(&mut connection, batch, guard, channels, commits)
                }))
            }
        };
        // A panic mid-transaction rolled it back (the transaction's drop) and dropped the
        // replies, so its callers got errors and nothing was acknowledged.
        if outcome.is_err() {
            tracing::error!("a write to the event log panicked; its callers got an error");
        }
    }
    // Closed before the guard's descriptors (the caller holds them past this).
    drop(connection);
}

/// Commits a group of appends in one transaction and answers each (see the module's
/// documentation).
fn commit_group(
    connection: &mut Connection,
    batch: Vec<AppendJob>,
    guard: &Guard,
    channels: &Channels,
    commits: &AtomicU64,
) {
    let bytes = batch.iter().map(|append| append.bytes).sum();
    let mut keys = Vec::with_capacity(batch.len());
    let mut events = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    for AppendJob { key, event, reply, .. } in batch {
        keys.push(key);
        events.push(event);
        replies.push(reply);
    }
    let outcome = (|| -> Result<Vec<Result<Appended, StoreError>>, DbError> {
        guard.before_write()?;
        let mut tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(keys.len());
        for (key, event) in keys.iter().zip(events) {
            let savepoint = tx.savepoint()?;
            match append_in(&savepoint, key, event, SystemTime::now()) {
                Ok(stored @ Appended::Stored(_)) => {
                    savepoint.commit()?;
                    outcomes.push(Ok(stored));
                }
                // Nothing to keep (a duplicate, a refusal, a missing record).
                Ok(unchanged) => {
                    savepoint.finish()?;
                    outcomes.push(Ok(unchanged));
                }
                // The disk, the cap or damage: the group cannot commit. Also when SQLite
                // ended the whole transaction itself (it may, on a full disk or I/O error).
                Err(e) if classify(&e).is_some() || savepoint.is_autocommit() => return Err(e.into()),
                // This append's own failure (a constraint, say): only it is undone.
                Err(e) => {
                    savepoint.finish()?;
                    outcomes.push(Err(StoreError::new(e)));
                }
            }
        }
        tx.commit()?;
        commits.fetch_add(1, Ordering::Relaxed);
        // A file removed while the transaction ran took what it committed along: nothing
        // in the group is acknowledged (a vendor retries it, and finds it stored if the
        // operator copies the file back).
        guard.before_write()?;
        Ok(outcomes)
    })();
    match guard.settle(Some(bytes), outcome) {
        Ok(outcomes) => {
            let stored = keys
                .iter()
                .zip(&outcomes)
                .filter_map(|(key, outcome)| match outcome {
                    Ok(Appended::Stored(event)) => Some((key, event)),
                    _ => None,
                })
                .collect::<Vec<_>>();
            publish(channels, &stored);
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(outcome);
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(StoreError(e.0.clone())));
            }
        }
    }
}

/// Refuses to create a database where one is missing but recorded, or where its WAL was
/// left behind (it holds the latest events of the missing database).
fn refuse_to_create(
    dir: &Path,
    path: &Path,
    wal: &Path,
    found: Option<&Marker>,
    init: bool,
) -> Result<(), StoreError> {
    let marker_path = marker::path(dir);
    let (path_shown, marker_shown) = (path.display(), marker_path.display());
    if wal.try_exists().map_err(|e| fail(format!("{}: {e}", wal.display())))? {
        return Err(StoreError(format!(
            "{path_shown} is missing but {wal} is there: it holds the latest events of the missing \
             database. Restore {path_shown} beside it from a backup; or, to begin an empty event log, \
             move {wal} (and {path_shown}-shm) away and start once with `idv-gateway serve --init`.",
            wal = wal.display()
        )));
    }
    match found {
        Some(found) if !init => Err(StoreError(format!(
            "{path_shown} is missing, but {marker_shown} records that an event log was created there on \
             {created}: starting would silently begin an empty one and lose its events. Restore \
             {path_shown} (with {path_shown}-wal, if it was backed up) from a backup; or, to begin an \
             empty event log, start once with `idv-gateway serve --init`.",
            created = found.created
        ))),
        Some(found) => {
            tracing::warn!(
                "--init: beginning a new, empty event log at {path_shown}; the one created there on {} is gone",
                found.created
            );
            Ok(())
        }
        None => Ok(()),
    }
}

/// Writes or checks the marker for the database just opened.
fn record(
    dir: &Path,
    path: &Path,
    found: Option<&Marker>,
    database_id: &str,
    created_ms: i64,
    existed: bool,
    init: bool,
) -> Result<(), StoreError> {
    let marker_path = marker::path(dir);
    let (path_shown, marker_shown) = (path.display(), marker_path.display());
    let write = || {
        let created = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(created_ms)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        marker::write(dir, &Marker::new(DATABASE, database_id, created)).map_err(StoreError)
    };
    match found {
        Some(found) if found.database_id == database_id => {
            if init {
                tracing::warn!(
                    "--init has no effect: {path_shown} is the event log {marker_shown} records; start \
                     without --init, so a missing database is refused"
                );
            }
            Ok(())
        }
        // A new database where a recorded one was missing: `refuse_to_create` said so.
        Some(_) if init && !existed => write(),
        Some(found) if init => {
            tracing::warn!(
                "--init: {path_shown} (database id {database_id}) is now the event log, in place of the \
                 one {marker_shown} recorded (database id {})",
                found.database_id
            );
            write()
        }
        Some(found) => Err(StoreError(format!(
            "{path_shown} is not the event log {marker_shown} records (its database id is {database_id}, \
             the recorded one {}): the file was replaced. Put the right file back; or, to keep using this \
             one, start once with `idv-gateway serve --init`.",
            found.database_id
        ))),
        None => {
            if existed {
                tracing::info!("{marker_shown} written for the existing event log {path_shown}");
            } else {
                tracing::info!("created a new event log at {path_shown}");
            }
            write()
        }
    }
}

/// The database's random id and creation time, stored in it the first time.
fn database_identity(connection: &Connection) -> rusqlite::Result<(String, i64)> {
    connection.execute(
        "INSERT INTO identity (id, database_id, created_ms) VALUES (1, ?1, ?2) ON CONFLICT (id) DO NOTHING",
        params![hex::encode(rand::random::<[u8; 16]>()), millis(SystemTime::now())],
    )?;
    connection.query_row("SELECT database_id, created_ms FROM identity WHERE id = 1", [], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
}

/// Caps the database at `mb` MiB.
fn cap(writer: &Connection, mb: u64) -> rusqlite::Result<()> {
    let page_size = writer.query_row("PRAGMA page_size", [], |row| row.get::<_, i64>(0))?.max(512) as u64;
    let pages = (mb.saturating_mul(1024 * 1024) / page_size).clamp(1, u64::from(u32::MAX - 1));
    // SQLite keeps the cap at the current size when the file is already bigger.
    let set =
        writer.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |row| row.get::<_, i64>(0))?;
    let set = set.max(0) as u64;
    if set > pages {
        tracing::warn!(
            "the event log is already {} MiB, over store.max_size_mb ({mb}): writes that need more room \
             fail until the retention purge frees some or the cap is raised",
            set.saturating_mul(page_size) / (1024 * 1024)
        );
    }
    Ok(())
}

/// What `PRAGMA quick_check` found wrong (empty: nothing). It reads every page, so it
/// costs about as much as reading the file.
fn quick_check(connection: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut statement = connection.prepare("PRAGMA quick_check(5)")?;
    let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
    let found = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(if found.iter().all(|row| row == "ok") { Vec::new() } else { found })
}

/// An error opening the database, with what to do when it is damaged.
fn opening(path: &Path, e: rusqlite::Error) -> StoreError {
    match classify(&e) {
        Some(Fault::Damaged) => StoreError(damaged(path, &e.to_string())),
        _ => StoreError(format!("{}: {e}", path.display())),
    }
}

fn damaged(path: &Path, found: &str) -> String {
    let path = path.display();
    format!(
        "{path} is damaged or not an SQLite database ({found}). Restore it from a backup (or salvage it \
         with `sqlite3 {path} .recover`); or, to begin an empty event log, move {path}, {path}-wal and \
         {path}-shm away and start once with `idv-gateway serve --init`."
    )
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

/// The columns [`attempt_row`] reads (a macro, so statements can be `concat!`ed constants).
macro_rules! attempt_columns {
    () => {
        "id, vendor, vendor_id, state, transaction_id, url, create_ms, update_ms, expire_ms, \
         last_sequence, result_code, result_type, result_message, owner"
    };
}

/// An attempts row: its id and the attempt.
fn attempt_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, AttemptRecord)> {
    let columns = AttemptColumns {
        vendor: row.get(1)?,
        attempt_id: row.get(2)?,
        state: row.get(3)?,
        transaction_id: row.get(4)?,
        url: row.get(5)?,
        create_ms: row.get(6)?,
        update_ms: row.get(7)?,
        expire_ms: row.get(8)?,
        last_sequence: row.get(9)?,
        result_code: row.get(10)?,
        result_type: row.get(11)?,
        result_message: row.get(12)?,
        owner: row.get(13)?,
    };
    Ok((row.get(0)?, columns.into_record()))
}

fn find_attempt(tx: &Connection, key: &AttemptKey) -> rusqlite::Result<Option<(i64, AttemptRecord)>> {
    tx.prepare_cached(concat!(
        "SELECT ",
        attempt_columns!(),
        " FROM attempts WHERE vendor = ?1 AND vendor_id = ?2"
    ))?
    .query_row(params![key.vendor_name(), key.id], attempt_row)
    .optional()
}

fn stored_event(tx: &Connection, event_id: &str) -> rusqlite::Result<Option<AttemptEvent>> {
    tx.prepare_cached(
        "SELECT e.sequence, e.event_id, e.body, a.vendor, a.vendor_id FROM events e
         JOIN attempts a ON a.id = e.attempt WHERE e.event_id = ?1",
    )?
    .query_row([event_id], event_row)
    .optional()
}

/// Decodes a stored event; one that no longer decodes (written by a future version, or
/// damaged) becomes a placeholder with its id and sequence, so one bad row cannot make a
/// whole attempt unreadable.
fn event_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AttemptEvent> {
    let body: Vec<u8> = row.get(2)?;
    Ok(decode_event(&body, row.get(0)?, row.get(1)?, row.get(3)?, row.get(4)?))
}

/// The append transaction: dedupe, consume a needed record, project, write.
fn append_in(
    tx: &Connection,
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
        let consumed = tx
            .prepare_cached(
                "DELETE FROM records WHERE namespace = ?1 AND key = ?2
                 AND (expires_ms IS NULL OR expires_ms > ?3)",
            )?
            .execute(params![needed.namespace, needed.key, now_ms])?;
        if consumed == 0 {
            return Ok(Appended::MissingRecord);
        }
    }
    let attempt = &projected.record.attempt;
    let expire_ms = attempt.expire_time.as_ref().map(timestamp_millis);
    let row_id = match row_id {
        Some(id) => {
            tx.prepare_cached(
                "UPDATE attempts SET state = ?2, transaction_id = ?3, url = ?4, update_ms = ?5, expire_ms = ?6,
                     last_sequence = ?7, result_code = ?8, result_type = ?9, result_message = ?10
                 WHERE id = ?1",
            )?
            .execute(params![
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
            ])?;
            id
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO attempts (vendor, vendor_id, state, transaction_id, url, create_ms, update_ms,
                     expire_ms, last_sequence, result_code, result_type, result_message, owner)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
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
            ])?;
            tx.last_insert_rowid()
        }
    };
    let stored = projected.event;
    tx.prepare_cached("INSERT INTO events (attempt, sequence, event_id, body) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![row_id, stored.sequence, stored.event_id, stored.encode_to_vec()])?;
    for file in &files {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO media (attempt, media_id, content_type, bytes) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            row_id,
            file.media.media_id,
            file.media.content_type,
            file.bytes.as_ref()
        ])?;
    }
    Ok(Appended::Stored(Arc::new(stored)))
}

fn attempt_row_id(c: &Connection, key: &Option<AttemptKey>) -> Result<Option<i64>, DbError> {
    match key {
        None => Ok(None),
        Some(key) => {
            let (id, _) = find_attempt(c, key)?.ok_or_else(|| fail("no such attempt"))?;
            Ok(Some(id))
        }
    }
}

/// The write the health check tries while the store is unwritable: `bytes` of new
/// content (which needs as much free space, in the file or under the cap, as the write
/// that failed), removed again in the same transaction, and committed.
fn probe(connection: &mut Connection, bytes: usize) -> Result<(), DbError> {
    let tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let now = millis(SystemTime::now());
    tx.execute(
        "INSERT OR REPLACE INTO health (id, checked_ms, pad) VALUES (2, ?1, zeroblob(?2))",
        params![now, bytes as i64],
    )?;
    tx.execute("DELETE FROM health WHERE id = 2", [])?;
    tx.execute(
        "INSERT INTO health (id, checked_ms) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET checked_ms = excluded.checked_ms",
        [now],
    )?;
    tx.commit()?;
    Ok(())
}

#[async_trait::async_trait]
impl EventStore for SqliteStore {
    async fn append(&self, key: &AttemptKey, event: NewEvent) -> Result<Appended, StoreError> {
        self.guard.refuse_if_failed()?;
        let (reply, answer) = oneshot::channel();
        let append = AppendJob { key: key.clone(), bytes: event_bytes(&event), event, reply };
        self.writer.queue.send(WriteJob::Append(Box::new(append))).await.map_err(|_| stopped())?;
        // Answered (and its event published) after the commit that holds it.
        answer.await.map_err(|_| unanswered())?
    }

    async fn attempt(&self, key: &AttemptKey) -> Result<Option<AttemptRecord>, StoreError> {
        let key = key.clone();
        self.run(Access::Read, move |c| Ok(find_attempt(c, &key)?.map(|(_, a)| a))).await
    }

    async fn events(
        &self,
        key: &AttemptKey,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AttemptEvent>, StoreError> {
        let key = key.clone();
        self.run(Access::Read, move |c| {
            let mut statement = c.prepare_cached(
                "SELECT e.sequence, e.event_id, e.body, a.vendor, a.vendor_id
                 FROM events e JOIN attempts a ON a.id = e.attempt
                 WHERE a.vendor = ?1 AND a.vendor_id = ?2 AND e.sequence > ?3
                 ORDER BY e.sequence LIMIT ?4",
            )?;
            let rows =
                statement.query_map(params![key.vendor_name(), key.id, after, limit as i64], event_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    fn subscribe(&self, key: &AttemptKey) -> LiveStream {
        let receiver = {
            let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
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
        self.run(Access::Read, move |c| {
            let mut statement = c.prepare_cached(concat!(
                "SELECT ",
                attempt_columns!(),
                " FROM attempts WHERE vendor = ?1 AND state = ?2
                 AND (?3 IS NULL OR (expire_ms IS NOT NULL AND expire_ms < ?3)) ORDER BY id"
            ))?;
            let rows =
                statement.query_map(params![vendor_name(vendor), state as i32, before], attempt_row)?;
            Ok(rows.map(|row| row.map(|(_, a)| a.attempt)).collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn put_record(&self, record: Record) -> Result<(), StoreError> {
        self.run(Access::Write(record.value.len()), move |c| {
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
            )?;
            Ok(())
        })
        .await
    }

    async fn claim_record(&self, record: Record) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(Access::Write(record.value.len()), move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now = millis(SystemTime::now());
            let existing: Option<Vec<u8>> = tx
                .query_row(
                    "SELECT value FROM records WHERE namespace = ?1 AND key = ?2
                     AND (expires_ms IS NULL OR expires_ms > ?3)",
                    params![record.key.namespace, record.key.key, now],
                    |row| row.get(0),
                )
                .optional()?;
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
            )?;
            tx.commit()?;
            Ok(None)
        })
        .await
    }

    async fn record(&self, key: &RecordKey) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.clone();
        self.run(Access::Read, move |c| {
            Ok(c.query_row(
                "SELECT value FROM records WHERE namespace = ?1 AND key = ?2
                 AND (expires_ms IS NULL OR expires_ms > ?3)",
                params![key.namespace, key.key, millis(SystemTime::now())],
                |row| row.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn delete_record(&self, key: &RecordKey) -> Result<bool, StoreError> {
        let key = key.clone();
        self.run(Access::Write(0), move |c| {
            let deleted = c.execute(
                "DELETE FROM records WHERE namespace = ?1 AND key = ?2",
                params![key.namespace, key.key],
            )?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.run(Access::Write(0), move |c| {
            let now = millis(SystemTime::now());
            let until = now.saturating_add(ttl.as_millis() as i64);
            // Taken when free, expired, or already ours; otherwise left alone.
            let changed = c.execute(
                "INSERT INTO leases (name, holder, expires_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
                 WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?4",
                params![name, holder, until, now],
            )?;
            Ok(changed > 0)
        })
        .await
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.run(Access::Write(0), move |c| {
            c.execute("DELETE FROM leases WHERE name = ?1 AND holder = ?2", params![name, holder])?;
            Ok(())
        })
        .await
    }

    async fn media(&self, key: &AttemptKey, media_id: &str) -> Result<Option<StoredMedia>, StoreError> {
        let (key, media_id) = (key.clone(), media_id.to_owned());
        self.run(Access::Read, move |c| {
            Ok(c.query_row(
                "SELECT m.content_type, m.bytes FROM media m JOIN attempts a ON a.id = m.attempt
                 WHERE a.vendor = ?1 AND a.vendor_id = ?2 AND m.media_id = ?3",
                params![key.vendor_name(), key.id, media_id],
                |row| Ok(StoredMedia { content_type: row.get(0)?, bytes: row.get::<_, Vec<u8>>(1)?.into() }),
            )
            .optional()?)
        })
        .await
    }

    /// Examines the files (a few `stat`s and two small reads), tries a write while the
    /// store is unwritable, reads a row, and every 10 minutes starts a `quick_check` in
    /// the background; errs while the store is failed or unwritable.
    async fn check(&self) -> Result<(), StoreError> {
        // Errors are recorded in the store's condition, which decides the answer below.
        let _ = match self.guard.probe_bytes() {
            Some(bytes) => self.run(Access::Write(bytes), move |c| probe(c, bytes)).await,
            None => self.run(Access::Examine, |_| Ok(())).await,
        };
        let read = self
            .run(Access::Read, |c| {
                Ok(c.query_row("SELECT count(*) FROM leases", [], |row| row.get::<_, i64>(0))?)
            })
            .await;
        self.schedule_quick_check();
        self.guard.status()?;
        read.map(drop)
    }

    async fn purge(&self, before: SystemTime) -> Result<u64, StoreError> {
        let before = millis(before);
        self.run(Access::Write(0), move |c| {
            let purged = c.execute("DELETE FROM attempts WHERE update_ms < ?1", [before])?;
            c.execute("DELETE FROM records WHERE attempt IS NULL AND expires_ms < ?1", [before])?;
            Ok(purged as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attempts::state::Refusal;
    use crate::store::conformance::{note, started, success};

    /// Holds the writer thread until the returned sender is used (or dropped), so the
    /// appends queued meanwhile form one group. Returns once the writer is held.
    async fn hold_writer(store: &Arc<SqliteStore>) -> std::sync::mpsc::Sender<()> {
        let (entered, held) = oneshot::channel();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let store = store.clone();
        tokio::spawn(async move {
            store
                .run(Access::Examine, move |_| {
                    let _ = entered.send(());
                    let _ = wait.recv();
                    Ok(())
                })
                .await
        });
        held.await.unwrap();
        release
    }

    /// Waits until `count` writes wait in the writer's queue.
    async fn queued(store: &SqliteStore, count: usize) {
        while WRITE_QUEUE - store.writer.queue.capacity() < count {
            tokio::task::yield_now().await;
        }
    }

    /// Queues the appends one after the other (so in this order) while the writer is
    /// held, then lets the writer take them all; their outcomes, in order.
    async fn one_group(
        store: &Arc<SqliteStore>,
        appends: Vec<(AttemptKey, NewEvent)>,
    ) -> Vec<Result<Appended, StoreError>> {
        let release = hold_writer(store).await;
        let mut waiting = Vec::new();
        for (n, (key, event)) in appends.into_iter().enumerate() {
            let appending = store.clone();
            waiting.push(tokio::spawn(async move { appending.append(&key, event).await }));
            queued(store, n + 1).await;
        }
        release.send(()).unwrap();
        let mut outcomes = Vec::new();
        for waiter in waiting {
            outcomes.push(waiter.await.unwrap());
        }
        outcomes
    }

    #[tokio::test]
    async fn concurrent_appends_are_committed_in_groups_with_gap_free_sequences() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let keys: Vec<_> = (0..20).map(|n| AttemptKey::new(Vendor::Ableid, format!("g{n}"))).collect();
        // Ten rounds over the twenty attempts: each attempt's start, then nine notes, all
        // waiting at once.
        let appends = (0..10)
            .flat_map(|round| {
                keys.iter().map(move |key| {
                    let id = format!("{}-{round}", key.id);
                    (key.clone(), if round == 0 { started(&id) } else { note(&id) })
                })
            })
            .collect::<Vec<_>>();
        let before = store.commits();
        let outcomes = one_group(&store, appends).await;
        assert_eq!(outcomes.len(), 200);
        assert!(outcomes.iter().all(|o| matches!(o, Ok(Appended::Stored(_)))), "{outcomes:?}");
        let commits = store.commits() - before;
        assert!(commits < 200, "{commits} commits for 200 appends");
        assert_eq!(commits, 1, "everything queued while the writer was busy is one group");
        for key in &keys {
            let events = store.events(key, 0, 100).await.unwrap();
            let seen = events.iter().map(|e| (e.sequence, e.event_id.clone())).collect::<Vec<_>>();
            let expected =
                (0..10).map(|round| (round + 1, format!("{}-{round}", key.id))).collect::<Vec<_>>();
            assert_eq!(seen, expected);
            assert_eq!(store.attempt(key).await.unwrap().unwrap().attempt.last_sequence, 10);
        }
    }

    #[tokio::test]
    async fn appends_racing_freely_keep_gap_free_sequences() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let keys: Vec<_> = (0..20).map(|n| AttemptKey::new(Vendor::Ableid, format!("r{n}"))).collect();
        for key in &keys {
            store.append(key, started(&format!("{}-0", key.id))).await.unwrap();
        }
        let tasks = (1..=10)
            .flat_map(|round| keys.iter().map(move |key| (key.clone(), format!("{}-{round}", key.id))))
            .map(|(key, id)| {
                let store = store.clone();
                tokio::spawn(async move { store.append(&key, note(&id)).await })
            })
            .collect::<Vec<_>>();
        for task in tasks {
            assert!(matches!(task.await.unwrap(), Ok(Appended::Stored(_))));
        }
        // Nothing holds the writer here: how the appends group is up to the scheduler.
        for key in &keys {
            let sequences =
                store.events(key, 0, 100).await.unwrap().iter().map(|e| e.sequence).collect::<Vec<_>>();
            assert_eq!(sequences, (1..=11).collect::<Vec<_>>());
        }
    }

    #[tokio::test]
    async fn a_refused_or_duplicate_append_leaves_the_rest_of_its_group_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let (a, b) = (AttemptKey::new(Vendor::Ableid, "a"), AttemptKey::new(Vendor::Ableid, "b"));
        let unknown = AttemptKey::new(Vendor::Ableid, "unknown");
        let mut live = store.subscribe(&a);
        let before = store.commits();
        let outcomes = one_group(
            &store,
            vec![
                (a.clone(), started("a-1")),
                (unknown.clone(), success("u-1")),
                (a.clone(), started("a-1")),
                (a.clone(), note("a-2")),
                (b.clone(), started("b-1")),
            ],
        )
        .await;
        assert_eq!(store.commits() - before, 1);
        let outcomes = outcomes.into_iter().map(Result::unwrap).collect::<Vec<_>>();
        assert!(matches!(&outcomes[0], Appended::Stored(e) if e.sequence == 1));
        assert_eq!(outcomes[1], Appended::Refused(Refusal::UnknownAttempt));
        // The duplicate of an append earlier in the same group: it saw it.
        assert!(matches!(&outcomes[2], Appended::Duplicate(e) if e.event_id == "a-1" && e.sequence == 1));
        assert!(matches!(&outcomes[3], Appended::Stored(e) if e.sequence == 2));
        assert!(matches!(&outcomes[4], Appended::Stored(e) if e.sequence == 1));
        let stored = store.events(&a, 0, 10).await.unwrap();
        assert_eq!(stored.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(), ["a-1", "a-2"]);
        assert_eq!(store.events(&b, 0, 10).await.unwrap().len(), 1);
        assert!(store.attempt(&unknown).await.unwrap().is_none());
        // Published after the commit, in order.
        for sequence in [1, 2] {
            match live.next().await.unwrap() {
                Live::Event(event) => assert_eq!(event.sequence, sequence),
                Live::Changed => panic!("lagged"),
            }
        }
    }

    #[tokio::test]
    async fn a_failed_commit_fails_every_append_of_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let (a, b) = (AttemptKey::new(Vendor::Ableid, "a"), AttemptKey::new(Vendor::Ableid, "b"));
        store.append(&a, started("a-1")).await.unwrap();
        // A foreign key checked at the commit, which the event `poison` breaks: every
        // statement of its group succeeds and the COMMIT itself fails.
        store
            .run(Access::Write(0), |c| {
                c.execute_batch(
                    "CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY);
                     CREATE TEMP TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
                     CREATE TEMP TRIGGER poison AFTER INSERT ON events WHEN NEW.event_id = 'poison'
                     BEGIN INSERT INTO child VALUES (42); END;",
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let mut live = store.subscribe(&a);
        let outcomes = one_group(
            &store,
            vec![
                (a.clone(), note("a-2")),
                (b.clone(), started("b-1")),
                (a.clone(), note("poison")),
                (a.clone(), note("a-3")),
            ],
        )
        .await;
        for outcome in &outcomes {
            let err = outcome.as_ref().unwrap_err().to_string();
            assert!(err.contains("FOREIGN KEY"), "{err}");
        }
        assert_eq!(store.events(&a, 0, 10).await.unwrap().len(), 1);
        assert!(store.events(&b, 0, 10).await.unwrap().is_empty());
        assert_eq!(store.attempt(&a).await.unwrap().unwrap().attempt.last_sequence, 1);
        assert!(futures_util::FutureExt::now_or_never(live.next()).is_none(), "nothing was published");
        // One bad group is no fault of the store's: the same appends, retried, are stored.
        store.check().await.unwrap();
        let retried = store.append(&a, note("a-2")).await.unwrap();
        assert!(matches!(retried, Appended::Stored(e) if e.sequence == 2));
    }

    #[tokio::test]
    async fn a_group_that_does_not_fit_under_the_cap_fails_whole() {
        let dir = tempfile::tempdir().unwrap();
        let options = OpenOptions { max_size_mb: Some(1), ..OpenOptions::default() };
        let store = Arc::new(SqliteStore::open_with(dir.path(), &options).unwrap());
        let (a, b) = (AttemptKey::new(Vendor::Ableid, "a"), AttemptKey::new(Vendor::Ableid, "b"));
        store.append(&a, started("a-1")).await.unwrap();
        let outcomes = one_group(
            &store,
            vec![
                (b.clone(), started("b-1")),
                (a.clone(), fault_tests::big("a-2", 2 * 1024 * 1024)),
                (a.clone(), note("a-3")),
            ],
        )
        .await;
        for outcome in &outcomes {
            let err = outcome.as_ref().unwrap_err().to_string();
            assert!(err.contains("full"), "{err}");
        }
        assert!(store.check().await.unwrap_err().to_string().contains("cannot write"));
        assert_eq!(store.events(&a, 0, 10).await.unwrap().len(), 1);
        assert!(store.attempt(&b).await.unwrap().is_none());
    }

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
        store
            .run(Access::Write(0), move |c| {
                c.execute("UPDATE events SET body = X'FFFFFFFF0F' WHERE event_id = ?1", [event_id])?;
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
