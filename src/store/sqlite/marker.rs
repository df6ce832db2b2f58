//! The marker file beside the database (`idv-gateway.json`): it records that an event log
//! was created in this directory, and which one, so a start that finds the database
//! missing or swapped refuses instead of silently beginning an empty log.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The marker's file name in the data directory.
pub(super) const FILE_NAME: &str = "idv-gateway.json";

/// What the marker records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Marker {
    /// For an operator who finds the file.
    pub about: String,
    /// The database's file name, in the same directory.
    pub database: String,
    /// The random id stored inside that database.
    pub database_id: String,
    /// When the database was created (or first adopted), RFC 3339.
    pub created: String,
}

impl Marker {
    /// A marker for the database `database` with id `database_id`, created at `created`.
    pub(super) fn new(database: &str, database_id: &str, created: String) -> Self {
        Self {
            about: "idv-gateway: an event log was created in this directory. Do not delete this file; \
                    see `idv-gateway serve --init`."
                .into(),
            database: database.into(),
            database_id: database_id.into(),
            created,
        }
    }
}

/// The marker's path in `dir`.
pub(super) fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// The marker in `dir`, if there is one.
pub(super) fn read(dir: &Path) -> Result<Option<Marker>, String> {
    let path = path(dir);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    serde_json::from_slice(&text).map(Some).map_err(|e| {
        format!(
            "{} cannot be read ({e}): fix it, or delete it to have it written again from the database",
            path.display()
        )
    })
}

/// Writes the marker into `dir` atomically (a temporary file renamed over it) and
/// durably (the file and the directory synced), so a crash leaves the old or the new one.
pub(super) fn write(dir: &Path, marker: &Marker) -> Result<(), String> {
    let path = path(dir);
    let temporary = dir.join(format!("{FILE_NAME}.tmp"));
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut text = serde_json::to_vec_pretty(marker).map_err(|e| format!("{}: {e}", path.display()))?;
    text.push(b'\n');
    let mut file = std::fs::File::create(&temporary).map_err(fail)?;
    file.write_all(&text).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    drop(file);
    std::fs::rename(&temporary, &path).map_err(fail)?;
    sync_dir(dir).map_err(fail)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Directories cannot be opened for syncing elsewhere.
#[cfg(not(unix))]
fn sync_dir(_: &Path) -> std::io::Result<()> {
    Ok(())
}
