//! What keeps the SQLite store honest about the files under it.
//!
//! SQLite writes through the file descriptors it opened, so a database file deleted,
//! replaced or overwritten while the gateway runs goes unnoticed by SQLite itself: commits
//! keep succeeding into an unlinked inode (or into pages it has cached) and the events are
//! gone at the next start. The guard notices instead, before every write and on every
//! health check, and puts the store into one of two conditions:
//!
//! - **failed** (the files are not the ones the store opened, or the database is damaged):
//!   everything is refused until a restart, because writing on would acknowledge events
//!   that cannot be kept, and reopening a replaced file behind the operator's back could
//!   serve a different history. The reason and what to do are logged once as an ERROR.
//! - **unwritable** (a write failed with a full disk, the size cap, an I/O or permission
//!   error): health fails until a write succeeds again; the health check tries a small
//!   write itself, so the store comes back by itself once space is freed.

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::store::StoreError;

/// `PRAGMA application_id` of the gateway's databases ("IDVG"): a database header without
/// it is not (or no longer) the gateway's.
pub(super) const APPLICATION_ID: u32 = 0x4944_5647;

/// The first 16 bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The first four bytes of a WAL file (big-endian), for either checksum byte order.
const WAL_MAGICS: [u32; 2] = [0x377f_0682, 0x377f_0683];

/// How often the whole database is checked for damage (`PRAGMA quick_check`).
pub(super) const QUICK_CHECK_EVERY: Duration = Duration::from_secs(600);

/// The smallest write the health check tries while the store is unwritable.
const PROBE_MIN_BYTES: usize = 16 * 1024;

/// The largest: a failed write bigger than this is not retried at its full size.
const PROBE_MAX_BYTES: usize = 8 * 1024 * 1024;

/// A failure of a statement, before it becomes a [`StoreError`]: the SQLite error is kept
/// so its code can tell damage from a full disk.
#[derive(Debug)]
pub(super) enum DbError {
    /// SQLite refused or failed.
    Sql(rusqlite::Error),
    /// Anything else.
    Store(StoreError),
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sql(e)
    }
}

impl From<StoreError> for DbError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// What an error says about the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// The database is damaged or not a database: the store fails for good.
    Damaged,
    /// The disk (or the size cap) refuses writes: the store is unwritable until a write
    /// succeeds.
    Unwritable,
}

/// The fault an SQLite error shows, if any; other errors (a constraint, a busy timeout)
/// concern one statement, not the store.
pub(super) fn classify(e: &rusqlite::Error) -> Option<Fault> {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code()? {
        C::DatabaseCorrupt | C::NotADatabase => Some(Fault::Damaged),
        C::DiskFull
        | C::SystemIoFailure
        | C::ReadOnly
        | C::CannotOpen
        | C::PermissionDenied
        | C::NoLargeFileSupport
        | C::FileLockingProtocolFailed => Some(Fault::Unwritable),
        _ => None,
    }
}

/// One file the store depends on, as it was when the store opened it.
#[derive(Debug)]
struct Watched {
    which: Which,
    path: PathBuf,
    identity: Identity,
    /// Held open for the store's lifetime: its header is read through it, and closing a
    /// descriptor of the database would drop SQLite's POSIX locks on it. Also what an
    /// operator copies the data back from when the path was removed.
    file: File,
}

/// A file's device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    device: u64,
    inode: u64,
}

#[cfg(unix)]
fn identity(metadata: &std::fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    Identity { device: metadata.dev(), inode: metadata.ino() }
}

/// Elsewhere only the path's existence is checked.
#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Identity {
    Identity { device: 0, inode: 0 }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(not(unix))]
fn read_at(file: &File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::os::windows::fs::FileExt;
    file.seek_read(buf, 0)
}

/// Where an operator finds an open file of this process after its path was removed.
fn held_copy(file: &File) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        Some(format!("/proc/{}/fd/{}", std::process::id(), file.as_raw_fd()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        None
    }
}

impl Watched {
    fn open(which: Which, path: &Path) -> Result<Self, String> {
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let metadata = file.metadata().map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self { which, path: path.to_owned(), identity: identity(&metadata), file })
    }

    /// Whether the path still names the file that was opened: `Err` says what happened.
    fn same_file(&self) -> Result<(), Problem> {
        match std::fs::metadata(&self.path) {
            Ok(metadata) if identity(&metadata) == self.identity => Ok(()),
            Ok(_) => Err(Problem::Broken(Broken::Replaced, self.which)),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(Problem::Broken(Broken::Removed, self.which)),
            // Permissions changed under the directory, say: the file may still be fine.
            Err(e) => Err(Problem::Unwritable(format!("cannot examine {}: {e}", self.path.display()))),
        }
    }
}

/// Why the store cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broken {
    Removed,
    Replaced,
    Overwritten,
}

/// Which of the two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Database,
    Wal,
}

#[derive(Debug)]
enum Problem {
    Broken(Broken, Which),
    Unwritable(String),
}

/// The store's condition.
#[derive(Debug)]
struct Condition {
    /// Why the store failed for good (short, for every refused call).
    failed: Option<String>,
    /// Why writes fail, and how big a write the health check tries.
    unwritable: Option<(String, usize)>,
    next_quick_check: Instant,
    quick_check_running: bool,
}

/// The database file and its WAL, and the store's condition.
#[derive(Debug)]
pub(super) struct Guard {
    database: Watched,
    wal: Watched,
    condition: Mutex<Condition>,
}

impl Guard {
    /// Starts watching the database and its WAL, as they are now; both must exist and
    /// the database's header must be the gateway's.
    pub(super) fn watch(database: &Path, wal: &Path) -> Result<Self, String> {
        let guard = Self {
            database: Watched::open(Which::Database, database)?,
            wal: Watched::open(Which::Wal, wal)?,
            condition: Mutex::new(Condition {
                failed: None,
                unwritable: None,
                next_quick_check: Instant::now() + QUICK_CHECK_EVERY,
                quick_check_running: false,
            }),
        };
        match guard.examine() {
            Ok(()) => Ok(guard),
            Err(Problem::Broken(..)) => Err(format!(
                "{}: its header or its WAL's is not what the gateway wrote (is another program \
                 using the file?)",
                database.display()
            )),
            Err(Problem::Unwritable(cause)) => Err(cause),
        }
    }

    /// Refuses at once when the store has failed.
    pub(super) fn refuse_if_failed(&self) -> Result<(), StoreError> {
        match &self.lock().failed {
            Some(reason) => Err(StoreError(format!("out of service until restarted: {reason}"))),
            None => Ok(()),
        }
    }

    /// Whether the store serves: not failed and writable.
    pub(super) fn status(&self) -> Result<(), StoreError> {
        let condition = self.lock();
        if let Some(reason) = &condition.failed {
            return Err(StoreError(format!("out of service until restarted: {reason}")));
        }
        match &condition.unwritable {
            Some((cause, _)) => Err(StoreError(format!("cannot write: {cause}"))),
            None => Ok(()),
        }
    }

    /// The size of the write the health check should try, when the store is unwritable.
    pub(super) fn probe_bytes(&self) -> Option<usize> {
        self.lock().unwritable.as_ref().map(|(_, bytes)| *bytes)
    }

    /// Checks, before a write (and after its commit), that the files are still the ones
    /// opened and look like what they should: two `stat`s and two small reads, ~10 µs. A
    /// problem changes the condition and refuses the write.
    pub(super) fn before_write(&self) -> Result<(), StoreError> {
        self.refuse_if_failed()?;
        match self.examine() {
            Ok(()) => Ok(()),
            Err(Problem::Broken(broken, which)) => {
                self.fail_broken(broken, which);
                self.refuse_if_failed()
            }
            Err(Problem::Unwritable(cause)) => {
                self.unwritable(cause.clone(), PROBE_MIN_BYTES);
                Err(StoreError(cause))
            }
        }
    }

    /// Records what a statement's outcome says about the store and turns its error into
    /// a [`StoreError`]. `write` is the size of a write (`None` for a read).
    pub(super) fn settle<T>(
        &self,
        write: Option<usize>,
        result: Result<T, DbError>,
    ) -> Result<T, StoreError> {
        match result {
            Ok(value) => {
                if let Some(bytes) = write {
                    self.written(bytes);
                }
                Ok(value)
            }
            Err(DbError::Store(e)) => Err(e),
            Err(DbError::Sql(e)) => {
                match classify(&e) {
                    Some(Fault::Damaged) => self.fail_damaged(&e.to_string()),
                    Some(Fault::Unwritable) => self.unwritable(e.to_string(), write.unwrap_or(0)),
                    None => {}
                }
                Err(StoreError::new(e))
            }
        }
    }

    /// Whether the periodic `quick_check` is due; if so it is marked running.
    pub(super) fn quick_check_due(&self) -> bool {
        let mut condition = self.lock();
        if condition.failed.is_some()
            || condition.quick_check_running
            || Instant::now() < condition.next_quick_check
        {
            return false;
        }
        condition.quick_check_running = true;
        true
    }

    /// Records a `quick_check`'s outcome (the periodic one's, or the open-time one of a
    /// large database): what it `found` wrong, if anything; the next is due in 10 minutes.
    pub(super) fn quick_check_done(&self, took: Duration, found: Option<String>) {
        {
            let mut condition = self.lock();
            condition.quick_check_running = false;
            condition.next_quick_check = Instant::now() + QUICK_CHECK_EVERY;
        }
        match found {
            None => tracing::debug!(took_ms = took.as_millis() as u64, "event log quick_check done"),
            Some(found) => self.fail_damaged(&format!("PRAGMA quick_check found: {found}")),
        }
    }

    /// Makes the periodic `quick_check` due now.
    #[cfg(test)]
    pub(super) fn make_quick_check_due(&self) {
        self.lock().next_quick_check = Instant::now();
    }

    fn examine(&self) -> Result<(), Problem> {
        self.database.same_file()?;
        self.wal.same_file()?;
        let mut header = [0u8; 100];
        let read = read_at(&self.database.file, &mut header)
            .map_err(|e| Problem::Unwritable(format!("cannot read {}: {e}", self.database.path.display())))?;
        if read < header.len()
            || &header[..16] != SQLITE_MAGIC
            || header[68..72] != APPLICATION_ID.to_be_bytes()
        {
            return Err(Problem::Broken(Broken::Overwritten, Which::Database));
        }
        // An empty WAL (just reset) has no header yet.
        let mut magic = [0u8; 4];
        let read = read_at(&self.wal.file, &mut magic)
            .map_err(|e| Problem::Unwritable(format!("cannot read {}: {e}", self.wal.path.display())))?;
        if read == magic.len() && !WAL_MAGICS.contains(&u32::from_be_bytes(magic)) {
            return Err(Problem::Broken(Broken::Overwritten, Which::Wal));
        }
        Ok(())
    }

    fn fail_broken(&self, broken: Broken, which: Which) {
        let file = match which {
            Which::Database => &self.database,
            Which::Wal => &self.wal,
        };
        let path = file.path.display();
        let database = self.database.path.display();
        let short = match broken {
            Broken::Removed => format!("{path} was removed while the gateway was running"),
            Broken::Replaced => format!("{path} was replaced by another file while the gateway was running"),
            Broken::Overwritten => format!("{path} was overwritten while the gateway was running"),
        };
        let advice = match (broken, held_copy(&self.database.file), held_copy(&self.wal.file)) {
            (Broken::Removed | Broken::Replaced, Some(database_copy), Some(wal_copy)) => format!(
                "The gateway still holds the original files open: to keep their events, copy {database_copy} \
                 to {database} and {wal_copy} to {database}-wal (replacing whatever is there now) before \
                 stopping it, then restart. Otherwise restore both from a backup, or restart with \
                 `idv-gateway serve --init` to begin an empty event log."
            ),
            (Broken::Removed | Broken::Replaced, _, _) => format!(
                "Restore {database} and {database}-wal from a backup and restart, or restart with \
                 `idv-gateway serve --init` to begin an empty event log."
            ),
            (Broken::Overwritten, _, _) => format!(
                "Its contents are lost to this process. Stop the gateway, restore {database} from a \
                 backup (moving {database}-wal and {database}-shm away), and restart; the next start \
                 refuses the damaged file."
            ),
        };
        self.fail(short, &advice);
    }

    fn fail_damaged(&self, cause: &str) {
        let database = self.database.path.display();
        let advice = format!(
            "Stop the gateway and restore {database} from a backup, or salvage it with \
             `sqlite3 {database} .recover`; the next start refuses the damaged file."
        );
        self.fail(format!("{database} is damaged ({cause})"), &advice);
    }

    /// Fails the store for good, logging why and what to do once.
    fn fail(&self, short: String, advice: &str) {
        let mut condition = self.lock();
        if condition.failed.is_some() {
            return;
        }
        tracing::error!(
            "the event log is out of service: {short}. Nothing more is written or acknowledged: hooks \
             answer 503, calls that need the log answer UNAVAILABLE and health is NOT_SERVING until a \
             restart. {advice}"
        );
        condition.failed = Some(short);
    }

    fn unwritable(&self, cause: String, bytes: usize) {
        let bytes = bytes.clamp(PROBE_MIN_BYTES, PROBE_MAX_BYTES);
        let mut condition = self.lock();
        if condition.unwritable.is_none() {
            tracing::error!(
                error = %cause,
                "the event log cannot write: hooks answer 503 and health is NOT_SERVING until a write \
                 succeeds (free disk space, raise store.max_size_mb, or fix the data directory's permissions)"
            );
        }
        let bytes = condition.unwritable.as_ref().map_or(bytes, |(_, before)| bytes.max(*before));
        condition.unwritable = Some((cause, bytes));
    }

    /// A write of `bytes` succeeded: the store is writable again if that write was as big
    /// as the one that failed (a small write can succeed in a full database's free space
    /// while the hook that failed would still fail, and health would flap).
    fn written(&self, bytes: usize) {
        let mut condition = self.lock();
        if condition.unwritable.as_ref().is_some_and(|(_, needed)| bytes >= *needed) {
            condition.unwritable = None;
            tracing::info!("the event log can write again");
        }
    }

    fn lock(&self) -> MutexGuard<'_, Condition> {
        self.condition.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
