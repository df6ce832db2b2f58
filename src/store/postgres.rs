//! The shared event store: PostgreSQL, for several gateway replicas on one database.
//!
//! # Sequences and visibility
//!
//! An append is one transaction that first locks its attempt's row (`SELECT ... FOR NO KEY
//! UPDATE`), then computes the next sequence from the row's `last_sequence` (through
//! [`project`], the core's rule), writes the event and the attempt, and commits. Appends
//! to one attempt therefore run one after the other, across replicas: sequence 5 is only
//! computed once the transaction that wrote 4 has committed, so no reader can see 5 while
//! 4 is in flight, and a sequence is never skipped (a rolled-back append used none). There
//! is no global `BIGSERIAL` position: the resume position is the per-attempt sequence.
//! `NO KEY UPDATE` rather than `UPDATE`, so a record that references the attempt (its
//! foreign key takes a `KEY SHARE` lock) can be written while an append holds the row.
//!
//! The first event (`started`) inserts the row with `ON CONFLICT DO NOTHING`, then locks
//! whichever row won; a duplicate event id is refused by the unique constraint on
//! `event_id`, and a concurrent duplicate (`ON CONFLICT DO NOTHING` inserting nothing)
//! reads the stored event back as [`Appended::Duplicate`]. Claims and leases are single
//! upserts whose `WHERE` lets only an expired row be replaced, so of concurrent callers
//! exactly one wins. Lease times come from the database's clock, so replicas whose clocks
//! disagree still agree on who holds a lease; record expiries are the callers' times, as
//! in SQLite.
//!
//! # Notifications
//!
//! The append transaction calls `pg_notify('idv_events', payload)`, delivered at commit.
//! The payload is tiny and fixed-size (a hash of the attempt, the sequence and the
//! sending handle's id, well under PostgreSQL's 8,000-byte limit): a notification is only
//! a wake-up. Each store handle keeps one dedicated `LISTEN` connection (not from the
//! pool) and fans notices out in-process to the subscribers of that attempt as
//! [`Live::Changed`]; its own appends are published directly as [`Live::Event`].
//! Notifications sent while the listener is disconnected are lost, so after every
//! (re)connection it sends `Changed` to every subscriber and they re-read the log from
//! their last sequence. The listener pings its connection every few seconds, so a dead
//! one is noticed; if it cannot reconnect within [`LISTENER_GIVE_UP`], every live stream
//! ends (watchers then end with `UNAVAILABLE` and clients resume with their token), and
//! streams opened during the outage end at once.
//!
//! # Connections
//!
//! `store.url` is a libpq-style URL. `sslmode` is `disable`, `require`, `verify-ca` or
//! `verify-full` (the default): with TLS on, rustls (with `ring`) always verifies the
//! server's certificate and host name, against `sslrootcert` when given and the system's
//! roots otherwise; `allow` and `prefer`, which fall back to plain text silently, are
//! refused. The other parameters (`connect_timeout`, `application_name`,
//! `target_session_attrs`, keepalives, ...) are tokio-postgres'. The pool hands out
//! connections checked with a round trip, so one killed by a failover is replaced rather
//! than failing a call; every operation has a deadline.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures_util::StreamExt;
use prost::Message;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;
use tokio_postgres::config::SslMode;
use tokio_postgres::{AsyncMessage, Row};
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::rows::{AttemptColumns, decode_event, millis, timestamp, timestamp_millis};
use super::{Appended, EventStore, Live, LiveEvent, LiveStream, Record, StoreError, StoredMedia};
use crate::attempts::state::{AttemptRecord, project};
use crate::attempts::{AttemptKey, NewEvent, RecordKey, vendor_name};
use crate::proto::attempts::{Attempt, AttemptEvent, AttemptState, Vendor, attempt_event::Kind};

/// The notification channel.
const CHANNEL: &str = "idv_events";

/// Live notices a subscriber may fall behind by before it is told to read the log.
const CHANNEL_CAPACITY: usize = 64;

/// The longest any store operation may take, waiting for a connection included; past it
/// the caller gets a store error (503 / `UNAVAILABLE`) instead of hanging on a database
/// that does not answer.
const OP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`EventStore::check`] waits for the database.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// How often the listener checks that its connection still answers.
const LISTENER_PING: Duration = Duration::from_secs(5);

/// How long the listener keeps trying to reconnect before it ends every live stream.
pub const LISTENER_GIVE_UP: Duration = Duration::from_secs(15);

/// The connect timeout when the URL gives none.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `pg_advisory_lock` key held while migrating ("idv_migr"): replicas starting together
/// migrate one after the other, and the second finds nothing left to do.
const MIGRATION_LOCK: i64 = 0x6964_765f_6d69_6772;

/// Schema migrations, applied in order; `idv_schema_migrations` lists those applied. Never
/// edit one that has shipped: add another.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE attempts (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        vendor TEXT NOT NULL,
        vendor_id TEXT NOT NULL,
        state INTEGER NOT NULL,
        transaction_id TEXT NOT NULL DEFAULT '',
        url TEXT NOT NULL DEFAULT '',
        owner TEXT NOT NULL DEFAULT '',
        create_ms BIGINT NOT NULL,
        update_ms BIGINT NOT NULL,
        expire_ms BIGINT,
        last_sequence BIGINT NOT NULL,
        result_code INTEGER NOT NULL DEFAULT 0,
        result_type TEXT NOT NULL DEFAULT '',
        result_message TEXT NOT NULL DEFAULT '',
        UNIQUE (vendor, vendor_id)
    );
    CREATE INDEX attempts_state ON attempts (vendor, state, expire_ms);
    CREATE INDEX attempts_update ON attempts (update_ms);
    CREATE TABLE events (
        attempt BIGINT NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
        sequence BIGINT NOT NULL,
        event_id TEXT NOT NULL UNIQUE,
        body BYTEA NOT NULL,
        PRIMARY KEY (attempt, sequence)
    );
    CREATE TABLE records (
        namespace TEXT NOT NULL,
        key TEXT NOT NULL,
        attempt BIGINT REFERENCES attempts (id) ON DELETE CASCADE,
        value BYTEA NOT NULL,
        expires_ms BIGINT,
        PRIMARY KEY (namespace, key)
    );
    CREATE INDEX records_attempt ON records (attempt);
    CREATE INDEX records_expiry ON records (expires_ms) WHERE attempt IS NULL;
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_ms BIGINT NOT NULL
    );
    CREATE TABLE media (
        attempt BIGINT NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
        media_id TEXT NOT NULL,
        content_type TEXT NOT NULL,
        bytes BYTEA NOT NULL,
        PRIMARY KEY (attempt, media_id)
    );
    "];

/// The database's clock in milliseconds since the epoch (leases).
const DB_NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT";

/// Where and how to connect: `store.url`, parsed. Its `Debug` shows neither the URL nor
/// the password.
#[derive(Clone)]
pub struct Connection {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("tls", &(self.config.get_ssl_mode() != SslMode::Disable))
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Parses a `postgres://` URL. Errors name the problem, never the URL (it may hold a
    /// password).
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err("must be a postgres:// or postgresql:// URL".into());
        }
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let (mut mode, mut root) = (None, None);
        let mut rest = url::form_urlencoded::Serializer::new(String::new());
        let mut connect_timeout = false;
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "sslmode" => mode = Some(value.into_owned()),
                "sslrootcert" => root = Some(PathBuf::from(value.as_ref())),
                other => {
                    connect_timeout |= other == "connect_timeout";
                    rest.append_pair(&name, &value);
                }
            }
        }
        let tls = match mode.as_deref().unwrap_or("verify-full") {
            "disable" => false,
            "require" | "verify-ca" | "verify-full" => true,
            "allow" | "prefer" => {
                return Err("sslmode=allow and sslmode=prefer fall back to plain text without saying so: \
                     use sslmode=disable to ask for plain text, or require / verify-full"
                    .into());
            }
            _ => return Err("sslmode must be disable, require, verify-ca or verify-full".into()),
        };
        let rest = rest.finish();
        let rebuilt = if rest.is_empty() { base.to_owned() } else { format!("{base}?{rest}") };
        // tokio-postgres' messages (and their causes) name the option, never its value.
        let mut config: tokio_postgres::Config =
            rebuilt.parse().map_err(|e: tokio_postgres::Error| match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            })?;
        config.ssl_mode(if tls { SslMode::Require } else { SslMode::Disable });
        if !connect_timeout {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("idv-gateway");
        }
        let roots = if tls { roots(root)? } else { rustls::RootCertStore::empty() };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self { config, tls: MakeRustlsConnect::new(client) })
    }

    /// Connects; the connection is driven by the returned task, which hands each
    /// notification's payload to `notify` and ends with the connection.
    async fn connect(
        &self,
        notify: impl Fn(&str) + Send + 'static,
    ) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), StoreError> {
        let (client, mut connection) = self.config.connect(self.tls.clone()).await.map_err(fail)?;
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if let AsyncMessage::Notification(notification) = message {
                    notify(notification.payload());
                }
            }
        });
        Ok((client, driver))
    }
}

/// The trusted roots: `sslrootcert` when given, else the system's.
fn roots(file: Option<PathBuf>) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    match file {
        Some(file) => {
            let pem = std::fs::read(&file).map_err(|e| format!("sslrootcert {}: {e}", file.display()))?;
            let certs = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("sslrootcert {}: {e}", file.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("sslrootcert {}: no certificate in it", file.display()));
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if roots.is_empty() {
                return Err("no trusted root certificates on this system: name the server's CA with \
                     sslrootcert=/path/ca.pem"
                    .into());
            }
        }
    }
    Ok(roots)
}

/// A store error from a database error: its code and message, without the `DETAIL` line
/// (which quotes key values).
fn fail(e: impl Into<PgError>) -> StoreError {
    match e.into() {
        PgError::Db(e) => match (e.as_db_error(), std::error::Error::source(&e)) {
            (Some(db), _) => StoreError(format!("postgres {}: {}", db.code().code(), db.message())),
            // Connection failures: the I/O cause ("connection refused") is the useful part.
            (None, Some(cause)) => StoreError(format!("{e}: {cause}")),
            (None, None) => StoreError::new(e),
        },
        PgError::Pool(e) => match e {
            deadpool_postgres::PoolError::Backend(e) => fail(e),
            other => StoreError::new(format!("connection pool: {other}")),
        },
    }
}

/// The two kinds of failure behind a store error.
enum PgError {
    Db(tokio_postgres::Error),
    Pool(deadpool_postgres::PoolError),
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Db(e)
    }
}

impl From<deadpool_postgres::PoolError> for PgError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Self::Pool(e)
    }
}

/// Runs `work` under [`OP_TIMEOUT`].
async fn timed<T>(work: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    tokio::time::timeout(OP_TIMEOUT, work)
        .await
        .unwrap_or_else(|_| Err(StoreError::new("the database did not answer in time")))
}

/// Applies the migrations this gateway knows that the database lacks, under an advisory
/// lock; returns how many it applied. Refuses a database migrated by a newer gateway.
pub async fn migrate(connection: &Connection) -> Result<usize, StoreError> {
    let (client, driver) = connection.connect(|_| {}).await?;
    let migrated = migrate_with(&client).await;
    driver.abort();
    migrated
}

async fn migrate_with(client: &tokio_postgres::Client) -> Result<usize, StoreError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await.map_err(fail)?;
    let applied = async {
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS idv_schema_migrations (
                     version INTEGER PRIMARY KEY,
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                 )",
            )
            .await
            .map_err(fail)?;
        let row = client
            .query_one("SELECT coalesce(max(version), 0) FROM idv_schema_migrations", &[])
            .await
            .map_err(fail)?;
        let current = usize::try_from(row.get::<_, i32>(0)).unwrap_or(0);
        if current > MIGRATIONS.len() {
            return Err(StoreError::new(format!(
                "the database's schema is at version {current}, newer than this gateway's {}: \
                 run a gateway at least as new as the one that migrated it",
                MIGRATIONS.len()
            )));
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(current) {
            let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
            client.batch_execute("BEGIN").await.map_err(fail)?;
            let applied = async {
                client.batch_execute(migration).await?;
                client
                    .execute("INSERT INTO idv_schema_migrations (version) VALUES ($1)", &[&version])
                    .await?;
                client.batch_execute("COMMIT").await
            }
            .await;
            if let Err(e) = applied {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(StoreError::new(format!("migration {version}: {}", fail(e).0)));
            }
            tracing::info!(version, "applied a database migration");
        }
        Ok(MIGRATIONS.len() - current)
    }
    .await;
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await;
    applied
}

/// The PostgreSQL event store: one handle per process.
pub struct PostgresStore {
    pool: Pool,
    hub: Arc<Hub>,
    /// This handle's id in notifications, so it skips its own.
    origin: String,
    /// Stops the listener when the store is dropped.
    _listener: DropGuard,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Migrates the database, opens a pool of up to `pool_size` connections and starts
    /// the listener. Fails when the database cannot be reached now.
    pub async fn open(connection: Connection, pool_size: usize) -> Result<Self, StoreError> {
        migrate(&connection).await?;
        let manager = Manager::from_config(
            connection.config.clone(),
            connection.tls.clone(),
            ManagerConfig { recycling_method: RecyclingMethod::Verified },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(OP_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CHECK_TIMEOUT))
            .build()
            .map_err(|e| StoreError::new(format!("connection pool: {e}")))?;
        let origin = hex::encode(rand::random::<[u8; 8]>());
        let hub = Arc::new(Hub::default());
        let stop = CancellationToken::new();
        tokio::spawn(listen(connection, hub.clone(), origin.clone(), stop.clone()));
        let store = Self { pool, hub, origin, _listener: stop.drop_guard() };
        store.check().await?;
        Ok(store)
    }

    /// The notification payload of an append.
    fn payload(&self, key: &AttemptKey, sequence: i64) -> String {
        format!("{}:{sequence}:{}", topic(key), self.origin)
    }
}

/// What the listener and the subscribers share.
#[derive(Default)]
struct Hub {
    state: Mutex<HubState>,
}

#[derive(Default)]
struct HubState {
    /// One channel per subscribed attempt, by [`topic`].
    channels: HashMap<String, broadcast::Sender<Live>>,
    /// The listener gave up: new streams end at once.
    down: bool,
}

/// An attempt's name in notifications: fixed size, whatever its id.
fn topic(key: &AttemptKey) -> String {
    let mut hash = Sha256::new();
    hash.update(key.vendor_name().as_bytes());
    hash.update([0]);
    hash.update(key.id.as_bytes());
    hex::encode(&hash.finalize()[..16])
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn subscribe(&self, topic: String) -> LiveStream {
        let mut state = self.lock();
        if state.down {
            return futures_util::stream::empty().boxed();
        }
        if state.channels.len() > 1024 {
            state.channels.retain(|_, sender| sender.receiver_count() > 0);
        }
        let receiver =
            state.channels.entry(topic).or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0).subscribe();
        BroadcastStream::new(receiver)
            .map(|received| match received {
                Ok(live) => live,
                // Notices were dropped for this subscriber: the log has the events.
                Err(BroadcastStreamRecvError::Lagged(_)) => Live::Changed,
            })
            .boxed()
    }

    fn publish(&self, topic: &str, live: Live) {
        let mut state = self.lock();
        if let Some(sender) = state.channels.get(topic)
            && sender.send(live).is_err()
        {
            state.channels.remove(topic);
        }
    }

    /// A notification from the database.
    fn dispatch(&self, payload: &str, own_origin: &str) {
        let mut parts = payload.split(':');
        let (Some(topic), Some(_sequence), Some(origin)) = (parts.next(), parts.next(), parts.next()) else {
            return;
        };
        // This handle published its own appends directly, with the event.
        if origin != own_origin {
            self.publish(topic, Live::Changed);
        }
    }

    /// The listener (re)connected: anything may have been missed meanwhile.
    fn listening(&self) {
        let mut state = self.lock();
        state.down = false;
        state.channels.retain(|_, sender| sender.send(Live::Changed).is_ok());
    }

    /// The listener gave up: end every stream, and those opened until it reconnects.
    fn give_up(&self) {
        let mut state = self.lock();
        state.down = true;
        state.channels.clear();
    }
}

/// The listener: keeps one `LISTEN` connection, reconnecting for as long as the store
/// lives.
async fn listen(connection: Connection, hub: Arc<Hub>, origin: String, stop: CancellationToken) {
    let mut down_since: Option<Instant> = None;
    let mut reported = false;
    loop {
        let connected = tokio::select! {
            _ = stop.cancelled() => return,
            connected = listen_once(&connection, &hub, &origin) => connected,
        };
        match connected {
            Ok((client, driver)) => {
                if reported {
                    tracing::info!("listening to the event log again");
                }
                hub.listening();
                down_since = None;
                reported = false;
                if follow(&client, driver, &stop).await {
                    return;
                }
                tracing::warn!("lost the event log's notification connection; reconnecting");
            }
            Err(e) => {
                let since = *down_since.get_or_insert_with(Instant::now);
                if !reported {
                    tracing::error!(error = %e, "cannot listen to the event log; retrying");
                    reported = true;
                }
                if since.elapsed() >= LISTENER_GIVE_UP {
                    hub.give_up();
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
            }
        }
        down_since.get_or_insert_with(Instant::now);
    }
}

/// Connects and subscribes; the connection is driven by the returned task, which
/// dispatches notifications and ends with the connection.
async fn listen_once(
    connection: &Connection,
    hub: &Arc<Hub>,
    origin: &str,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), StoreError> {
    let (hub, origin) = (hub.clone(), origin.to_owned());
    let (client, driver) = timed(connection.connect(move |payload| hub.dispatch(payload, &origin))).await?;
    match timed(async { client.batch_execute(&format!("LISTEN {CHANNEL}")).await.map_err(fail) }).await {
        Ok(()) => Ok((client, driver)),
        Err(e) => {
            driver.abort();
            Err(e)
        }
    }
}

/// Waits until the connection ends or stops answering (false), or the store stops (true).
async fn follow(
    client: &tokio_postgres::Client,
    mut driver: tokio::task::JoinHandle<()>,
    stop: &CancellationToken,
) -> bool {
    let mut ping = tokio::time::interval(LISTENER_PING);
    ping.reset();
    loop {
        tokio::select! {
            _ = stop.cancelled() => {
                driver.abort();
                return true;
            }
            _ = &mut driver => return false,
            _ = ping.tick() => {
                let answered = tokio::time::timeout(LISTENER_PING, client.simple_query("SELECT 1")).await;
                if !matches!(answered, Ok(Ok(_))) {
                    driver.abort();
                    return false;
                }
            }
        }
    }
}

const ATTEMPT_COLUMNS: &str = "id, vendor, vendor_id, state, transaction_id, url, create_ms, update_ms, expire_ms, \
     last_sequence, result_code, result_type, result_message, owner";

/// An attempts row: its id and the attempt.
fn attempt_row(row: &Row) -> Result<(i64, AttemptRecord), tokio_postgres::Error> {
    let columns = AttemptColumns {
        vendor: row.try_get(1)?,
        attempt_id: row.try_get(2)?,
        state: row.try_get(3)?,
        transaction_id: row.try_get(4)?,
        url: row.try_get(5)?,
        create_ms: row.try_get(6)?,
        update_ms: row.try_get(7)?,
        expire_ms: row.try_get(8)?,
        last_sequence: row.try_get(9)?,
        result_code: row.try_get(10)?,
        result_type: row.try_get(11)?,
        result_message: row.try_get(12)?,
        owner: row.try_get(13)?,
    };
    Ok((row.try_get(0)?, columns.into_record()))
}

const EVENT_COLUMNS: &str = "e.sequence, e.event_id, e.body, a.vendor, a.vendor_id";

/// Decodes a stored event; one that no longer decodes (written by a future version, or
/// damaged) becomes a placeholder with its id and sequence, as in SQLite.
fn event_row(row: &Row) -> Result<AttemptEvent, tokio_postgres::Error> {
    let body: &[u8] = row.try_get(2)?;
    Ok(decode_event(body, row.try_get(0)?, row.try_get(1)?, row.try_get(3)?, row.try_get(4)?))
}

async fn stored_event(
    tx: &deadpool_postgres::Transaction<'_>,
    event_id: &str,
) -> Result<Option<AttemptEvent>, tokio_postgres::Error> {
    let statement = tx
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events e JOIN attempts a ON a.id = e.attempt WHERE e.event_id = $1"
        ))
        .await?;
    tx.query_opt(&statement, &[&event_id]).await?.as_ref().map(event_row).transpose()
}

async fn lock_attempt(
    tx: &deadpool_postgres::Transaction<'_>,
    vendor: &str,
    id: &str,
) -> Result<Option<(i64, AttemptRecord)>, tokio_postgres::Error> {
    let statement = tx
        .prepare_cached(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE vendor = $1 AND vendor_id = $2 FOR NO KEY UPDATE"
        ))
        .await?;
    tx.query_opt(&statement, &[&vendor, &id]).await?.as_ref().map(attempt_row).transpose()
}

/// The append transaction: lock (or create) the attempt, dedupe, project, consume a needed
/// record, write, notify. Commits only what it stored.
async fn append_in(
    tx: &deadpool_postgres::Transaction<'_>,
    key: &AttemptKey,
    event: NewEvent,
    now_ms: i64,
    payload: impl Fn(i64) -> String,
) -> Result<Appended, tokio_postgres::Error> {
    let vendor = key.vendor_name();
    let mut found = lock_attempt(tx, &vendor, &key.id).await?;
    let mut created = false;
    if found.is_none() && matches!(event.kind, Kind::Started(_)) {
        // A placeholder row this transaction fills in below; a concurrent creator's row
        // wins the unique constraint, and is then locked like any other.
        let inserted = tx
            .execute(
                "INSERT INTO attempts (vendor, vendor_id, state, create_ms, update_ms, last_sequence)
                 VALUES ($1, $2, 0, $3, $3, 0) ON CONFLICT (vendor, vendor_id) DO NOTHING",
                &[&vendor, &key.id, &now_ms],
            )
            .await?;
        created = inserted == 1;
        found = lock_attempt(tx, &vendor, &key.id).await?;
    }
    if let Some(existing) = stored_event(tx, &event.event_id).await? {
        return Ok(Appended::Duplicate(Arc::new(existing)));
    }
    let (row_id, current) = match found {
        Some((id, record)) => (Some(id), (!created).then_some(record)),
        None => (None, None),
    };
    // The bytes stay here; the event keeps only their references.
    let files = event.media.clone();
    let needed = event.consumes.clone();
    let projected = match project(key, current.as_ref(), event, timestamp(now_ms)) {
        Ok(projected) => projected,
        Err(refusal) => return Ok(Appended::Refused(refusal)),
    };
    // After the core's rule, so an event for an unknown attempt is refused as such; nothing
    // is kept unless the transaction commits.
    if let Some(needed) = &needed {
        let consumed = tx
            .execute(
                "DELETE FROM records WHERE namespace = $1 AND key = $2 AND (expires_ms IS NULL OR expires_ms > $3)",
                &[&needed.namespace, &needed.key, &now_ms],
            )
            .await?;
        if consumed == 0 {
            return Ok(Appended::MissingRecord);
        }
    }
    // `project` creates only from a `started` event, for which a row now exists.
    let Some(row_id) = row_id else {
        return Ok(Appended::Refused(crate::attempts::state::Refusal::UnknownAttempt));
    };
    let attempt = &projected.record.attempt;
    let expire_ms = attempt.expire_time.as_ref().map(timestamp_millis);
    let update = tx
        .prepare_cached(
            "UPDATE attempts SET state = $2, transaction_id = $3, url = $4, update_ms = $5, expire_ms = $6,
                 last_sequence = $7, result_code = $8, result_type = $9, result_message = $10, owner = $11
             WHERE id = $1",
        )
        .await?;
    tx.execute(
        &update,
        &[
            &row_id,
            &attempt.state,
            &attempt.transaction_id,
            &attempt.url,
            &now_ms,
            &expire_ms,
            &attempt.last_sequence,
            &attempt.result_code,
            &attempt.result_type,
            &attempt.result_message,
            &projected.record.owner,
        ],
    )
    .await?;
    let stored = projected.event;
    let insert = tx
        .prepare_cached(
            "INSERT INTO events (attempt, sequence, event_id, body) VALUES ($1, $2, $3, $4)
             ON CONFLICT (event_id) DO NOTHING",
        )
        .await?;
    let body = stored.encode_to_vec();
    if tx.execute(&insert, &[&row_id, &stored.sequence, &stored.event_id, &body]).await? == 0 {
        // The same id was committed concurrently (for another attempt: this one's row is
        // locked); nothing of this transaction is kept.
        if let Some(existing) = stored_event(tx, &stored.event_id).await? {
            return Ok(Appended::Duplicate(Arc::new(existing)));
        }
    }
    for file in &files {
        // The same bytes on another event of the attempt are one file.
        tx.execute(
            "INSERT INTO media (attempt, media_id, content_type, bytes) VALUES ($1, $2, $3, $4)
             ON CONFLICT (attempt, media_id) DO NOTHING",
            &[&row_id, &file.media.media_id, &file.media.content_type, &file.bytes.as_ref()],
        )
        .await?;
    }
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload(stored.sequence)]).await?;
    Ok(Appended::Stored(Arc::new(stored)))
}

#[async_trait::async_trait]
impl EventStore for PostgresStore {
    async fn append(&self, key: &AttemptKey, event: NewEvent) -> Result<Appended, StoreError> {
        let appended = timed(async {
            let mut client = self.pool.get().await.map_err(fail)?;
            let tx = client.transaction().await.map_err(fail)?;
            let now_ms = millis(SystemTime::now());
            let appended = append_in(&tx, key, event, now_ms, |sequence| self.payload(key, sequence))
                .await
                .map_err(fail)?;
            if matches!(appended, Appended::Stored(_)) {
                tx.commit().await.map_err(fail)?;
            } else {
                tx.rollback().await.map_err(fail)?;
            }
            Ok(appended)
        })
        .await?;
        if let Appended::Stored(event) = &appended {
            self.hub.publish(&topic(key), Live::Event(LiveEvent::new(event.clone())));
        }
        Ok(appended)
    }

    async fn attempt(&self, key: &AttemptKey) -> Result<Option<AttemptRecord>, StoreError> {
        timed(async {
            let client = self.pool.get().await.map_err(fail)?;
            let statement = client
                .prepare_cached(&format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE vendor = $1 AND vendor_id = $2"
                ))
                .await
                .map_err(fail)?;
            let row = client.query_opt(&statement, &[&key.vendor_name(), &key.id]).await.map_err(fail)?;
            row.as_ref().map(attempt_row).transpose().map(|found| found.map(|(_, a)| a)).map_err(fail)
        })
        .await
    }

    async fn events(
        &self,
        key: &AttemptKey,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AttemptEvent>, StoreError> {
        timed(async {
            let client = self.pool.get().await.map_err(fail)?;
            let statement = client
                .prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM events e JOIN attempts a ON a.id = e.attempt
                     WHERE a.vendor = $1 AND a.vendor_id = $2 AND e.sequence > $3
                     ORDER BY e.sequence LIMIT $4"
                ))
                .await
                .map_err(fail)?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = client
                .query(&statement, &[&key.vendor_name(), &key.id, &after, &limit])
                .await
                .map_err(fail)?;
            rows.iter().map(|row| event_row(row).map_err(fail)).collect()
        })
        .await
    }

    fn subscribe(&self, key: &AttemptKey) -> LiveStream {
        self.hub.subscribe(topic(key))
    }

    async fn attempts_in_state(
        &self,
        vendor: Vendor,
        state: AttemptState,
        expiring_before: Option<SystemTime>,
    ) -> Result<Vec<Attempt>, StoreError> {
        timed(async {
            let client = self.pool.get().await.map_err(fail)?;
            let statement = client
                .prepare_cached(&format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE vendor = $1 AND state = $2
                     AND ($3::BIGINT IS NULL OR (expire_ms IS NOT NULL AND expire_ms < $3)) ORDER BY id"
                ))
                .await
                .map_err(fail)?;
            let before = expiring_before.map(millis);
            let rows = client
                .query(&statement, &[&vendor_name(vendor), &(state as i32), &before])
                .await
                .map_err(fail)?;
            rows.iter().map(|row| attempt_row(row).map(|(_, a)| a.attempt).map_err(fail)).collect()
        })
        .await
    }

    async fn put_record(&self, record: Record) -> Result<(), StoreError> {
        timed(async {
            let client = self.pool.get().await.map_err(fail)?;
            let attempt = attempt_row_id(&client, record.attempt.as_ref()).await?;
            client
                .execute(
                    "INSERT INTO records (namespace, key, attempt, value, expires_ms) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (namespace, key) DO UPDATE
                     SET attempt = excluded.attempt, value = excluded.value, expires_ms = excluded.expires_ms",
                    &[&record.key.namespace, &record.key.key, &attempt, &record.value, &record.expires.map(millis)],
                )
                .await
                .map_err(fail)?;
            Ok(())
        })
        .await
    }

    async fn claim_record(&self, record: Record) -> Result<Option<Vec<u8>>, StoreError> {
        timed(async {
            let client = self.pool.get().await.map_err(fail)?;
            let attempt = attempt_row_id(&client, record.attempt.as_ref()).await?;
            let expires = record.expires.map(millis);
            // Inserted, or replaced an expired claim: ours. Otherwise read the holder's
            // value; if it went away in between, try again.
            for _ in 0..3 {
                let now = millis(SystemTime::now());
                let won = client
                    .query_opt(
                        "INSERT INTO records (namespace, key, attempt, value, expires_ms) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (namespace, key) DO UPDATE
                         SET attempt = excluded.attempt, value = excluded.value, expires_ms = excluded.expires_ms
                         WHERE records.expires_ms IS NOT NULL AND records.expires_ms <= $6
                         RETURNING 1",
                        &[&record.key.namespace, &record.key.key, &attempt, &record.value, &expires, &now],
                    )
                    .await
                    .map_err(fail)?;
                if won.is_some() {
                    return Ok(None);
                }
                if let Some(existing) = read_record(&client, &record.key).await? {
                    return Ok(Some(existing));
                }
            }
            Err(StoreError::new("a claimed record kept changing"))
        })
        .await
    }

    async fn record(&self, key: &RecordKey) -> Result<Option<Vec<u8>>, StoreError> {
        timed(async {
            let client = self.pool.get().await.map_err(fail)?;
            read_record(&client, key).await
        })
        .await
    }

    async fn delete_record(&self, key: &RecordKey) -> Result<bool, StoreError> {
        timed(async {
            let client = self.pool.get().await.map_err(fail)?;
            let deleted = client
                .execute("DELETE FROM records WHERE namespace = $1 AND key = $2", &[&key.namespace, &key.key])
                .await
                .map_err(fail)?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn purge(&self, before: SystemTime) -> Result<u64, StoreError> {
        timed(async {
            let client = self.pool.get().await.map_err(fail)?;
            let before = millis(before);
            // Every replica runs this; a row another replica deleted first is simply gone.
            let purged = client
                .execute("DELETE FROM attempts WHERE update_ms < $1", &[&before])
                .await
                .map_err(fail)?;
            client
                .execute("DELETE FROM records WHERE attempt IS NULL AND expires_ms < $1", &[&before])
                .await
                .map_err(fail)?;
            client.execute("DELETE FROM leases WHERE expires_ms < $1", &[&before]).await.map_err(fail)?;
            Ok(purged)
        })
        .await
    }

    async fn lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        timed(async {
            let client = self.pool.get().await.map_err(fail)?;
            let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
            // Taken when free, expired, or already ours; otherwise left alone.
            let changed = client
                .execute(
                    &format!(
                        "INSERT INTO leases (name, holder, expires_ms) VALUES ($1, $2, {DB_NOW_MS} + $3)
                         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
                         WHERE leases.holder = excluded.holder OR leases.expires_ms <= {DB_NOW_MS}"
                    ),
                    &[&name, &holder, &ttl],
                )
                .await
                .map_err(fail)?;
            Ok(changed > 0)
        })
        .await
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        timed(async {
            let client = self.pool.get().await.map_err(fail)?;
            client
                .execute("DELETE FROM leases WHERE name = $1 AND holder = $2", &[&name, &holder])
                .await
                .map_err(fail)?;
            Ok(())
        })
        .await
    }

    async fn media(&self, key: &AttemptKey, media_id: &str) -> Result<Option<StoredMedia>, StoreError> {
        timed(async {
            let client = self.pool.get().await.map_err(fail)?;
            let row = client
                .query_opt(
                    "SELECT m.content_type, m.bytes FROM media m JOIN attempts a ON a.id = m.attempt
                     WHERE a.vendor = $1 AND a.vendor_id = $2 AND m.media_id = $3",
                    &[&key.vendor_name(), &key.id, &media_id],
                )
                .await
                .map_err(fail)?;
            let Some(row) = row else { return Ok(None) };
            let bytes: Vec<u8> = row.try_get(1).map_err(fail)?;
            Ok(Some(StoredMedia { content_type: row.try_get(0).map_err(fail)?, bytes: bytes.into() }))
        })
        .await
    }

    async fn check(&self) -> Result<(), StoreError> {
        let checked = tokio::time::timeout(CHECK_TIMEOUT, async {
            let client = self.pool.get().await.map_err(fail)?;
            client.simple_query("SELECT 1").await.map_err(fail)?;
            Ok(())
        })
        .await;
        checked.unwrap_or_else(|_| Err(StoreError::new("the database did not answer in time")))
    }
}

async fn read_record(
    client: &deadpool_postgres::Client,
    key: &RecordKey,
) -> Result<Option<Vec<u8>>, StoreError> {
    let row = client
        .query_opt(
            "SELECT value FROM records WHERE namespace = $1 AND key = $2
             AND (expires_ms IS NULL OR expires_ms > $3)",
            &[&key.namespace, &key.key, &millis(SystemTime::now())],
        )
        .await
        .map_err(fail)?;
    row.map(|row| row.try_get(0)).transpose().map_err(fail)
}

async fn attempt_row_id(
    client: &deadpool_postgres::Client,
    key: Option<&AttemptKey>,
) -> Result<Option<i64>, StoreError> {
    let Some(key) = key else { return Ok(None) };
    let row = client
        .query_opt(
            "SELECT id FROM attempts WHERE vendor = $1 AND vendor_id = $2",
            &[&key.vendor_name(), &key.id],
        )
        .await
        .map_err(fail)?;
    match row {
        Some(row) => Ok(Some(row.try_get(0).map_err(fail)?)),
        None => Err(StoreError::new("no such attempt")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance;

    /// A database of its own on the test server, dropped by [`TestDatabase::drop_now`].
    struct TestDatabase {
        admin: Connection,
        name: String,
        url: String,
    }

    impl TestDatabase {
        /// Creates `test_<random>` on the server of `IDV_TEST_DATABASE_URL`.
        async fn create() -> Self {
            let Ok(admin_url) = std::env::var("IDV_TEST_DATABASE_URL") else {
                panic!(
                    "IDV_TEST_DATABASE_URL is not set: run ./scripts/test (it starts a throw-away \
                     PostgreSQL), or scripts/with-postgres cargo test, or set it to a server where \
                     the tests may create databases"
                );
            };
            let admin = Connection::parse(&admin_url).expect("IDV_TEST_DATABASE_URL");
            let name = format!("test_{}", hex::encode(rand::random::<[u8; 8]>()));
            let (client, driver) = admin.connect(|_| {}).await.expect("the test server answers");
            client.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create database");
            driver.abort();
            let mut url = url::Url::parse(&admin_url).expect("a URL");
            url.set_path(&format!("/{name}"));
            Self { admin, name, url: url.to_string() }
        }

        fn connection(&self) -> Connection {
            Connection::parse(&self.url).expect("test URL")
        }

        async fn drop_now(self) {
            let (client, driver) = self.admin.connect(|_| {}).await.expect("the test server answers");
            let _ =
                client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).await;
            driver.abort();
        }
    }

    #[tokio::test]
    async fn passes_the_conformance_kit() {
        let db = TestDatabase::create().await;
        let store = Arc::new(PostgresStore::open(db.connection(), 8).await.unwrap());
        conformance::run(store).await;
        db.drop_now().await;
    }

    #[tokio::test]
    async fn two_handles_on_one_database_are_one_log() {
        let db = TestDatabase::create().await;
        let a = Arc::new(PostgresStore::open(db.connection(), 4).await.unwrap());
        let b = Arc::new(PostgresStore::open(db.connection(), 4).await.unwrap());
        conformance::run_shared(a, b).await;
        db.drop_now().await;
    }

    #[tokio::test]
    async fn replicas_starting_together_migrate_once() {
        let db = TestDatabase::create().await;
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let connection = db.connection();
                tokio::spawn(async move { migrate(&connection).await })
            })
            .collect();
        let mut applied = 0;
        for run in runs {
            applied += run.await.unwrap().unwrap();
        }
        assert_eq!(applied, MIGRATIONS.len(), "each migration is applied once");
        assert_eq!(migrate(&db.connection()).await.unwrap(), 0);
        db.drop_now().await;
    }

    #[tokio::test]
    async fn an_undecodable_event_is_a_placeholder_not_an_error() {
        let db = TestDatabase::create().await;
        let store = PostgresStore::open(db.connection(), 2).await.unwrap();
        let key = AttemptKey::new(Vendor::Ableid, "a1");
        store.append(&key, conformance::started("e1")).await.unwrap();
        store.append(&key, conformance::note("e2")).await.unwrap();
        let client = store.pool.get().await.unwrap();
        client.execute("UPDATE events SET body = '\\xFFFFFFFF0F' WHERE event_id = 'e1'", &[]).await.unwrap();
        let events = store.events(&key, 0, 10).await.unwrap();
        assert_eq!(
            (events[0].event_id.as_str(), events[0].sequence, events[0].kind.is_none()),
            ("e1", 1, true)
        );
        assert!(events[1].kind.is_some());
        drop((client, store));
        db.drop_now().await;
    }

    #[tokio::test]
    async fn a_database_newer_than_the_gateway_is_refused() {
        let db = TestDatabase::create().await;
        migrate(&db.connection()).await.unwrap();
        let (client, driver) = db.connection().connect(|_| {}).await.unwrap();
        client.execute("INSERT INTO idv_schema_migrations (version) VALUES (1000)", &[]).await.unwrap();
        driver.abort();
        let refused = migrate(&db.connection()).await.unwrap_err();
        assert!(refused.0.contains("newer than this gateway"), "{refused}");
        db.drop_now().await;
    }

    #[test]
    fn urls_are_checked_without_echoing_them() {
        for (url, problem) in [
            ("mysql://u:hunter2@h/db", "postgres://"),
            ("postgres://u:hunter2@h/db?sslmode=prefer", "plain text"),
            ("postgres://u:hunter2@h/db?sslmode=maybe", "sslmode must be"),
            ("postgres://u:hunter2@h/db?sslmode=disable&bogus=1", "bogus"),
            ("postgres://u:hunter2@h/db?sslrootcert=/nonexistent/ca.pem", "sslrootcert"),
        ] {
            let e = Connection::parse(url).unwrap_err();
            assert!(e.contains(problem), "{url}: {e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
        let plain =
            Connection::parse("postgresql://u:hunter2@h:5433/db?sslmode=disable&connect_timeout=3").unwrap();
        assert_eq!(plain.config.get_ssl_mode(), SslMode::Disable);
        assert_eq!(plain.config.get_connect_timeout(), Some(&Duration::from_secs(3)));
        assert_eq!(plain.config.get_application_name(), Some("idv-gateway"));
        assert!(!format!("{plain:?}").contains("hunter2"));
    }

    #[test]
    fn tls_verifies_against_the_given_root() {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertificateParams::new(vec!["db.example".into()]).unwrap().self_signed(&key).unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, ca.pem()).unwrap();
        let url = format!("postgres://u@db.example/db?sslmode=verify-full&sslrootcert={}", file.display());
        let tls = Connection::parse(&url).unwrap();
        assert_eq!(tls.config.get_ssl_mode(), SslMode::Require);
        let url = format!("postgres://u@db.example/db?sslmode=require&sslrootcert={}", file.display());
        assert_eq!(Connection::parse(&url).unwrap().config.get_ssl_mode(), SslMode::Require);
    }
}
