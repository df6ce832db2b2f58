//! API keys: the configured digests, the key file and its reload, and the constant-time
//! lookup of a presented key.
//!
//! # The key file
//!
//! One key a line: `name sha256hex`, optionally followed by scopes (see [`super::scope`]) and
//! the word `own_attempts_only`, separated by spaces. `#` starts a comment, blank lines are
//! ignored. Problems are reported by line number, never with the line's text, which might
//! be a key pasted by mistake.
//!
//! ```text
//! # name     sha256 of the key                                                  scopes
//! billing    9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! dashboard  60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752  read own_attempts_only
//! ```
//!
//! # Reload
//!
//! A task polls the file every `auth.reload_secs` and compares the SHA-256 of its content
//! with the last one seen. Polling the content, rather than `notify` events or mtime+len:
//! Kubernetes updates mounted secrets and config maps by swapping a symlink to a new
//! directory, which inotify watches on the file miss; and replacing one digest with another
//! keeps the length, so mtime+len can miss an edit made within the file system's timestamp
//! granularity. Reading a few hundred bytes every few seconds costs nothing.
//!
//! A file that does not parse, cannot be read, or is empty (0 bytes: most likely caught
//! between an editor's truncate and write) leaves the previous keys in place and is logged
//! once; the key set never empties by accident. A file with only comments is a deliberate
//! "no keys" and revokes them all. A removed line revokes its key at the next reload. At
//! start there are no previous keys to keep: a file that cannot be read or parsed stops the
//! start, and an empty one gives no keys (every call is refused).
//!
//! # Lookup
//!
//! The presented key is hashed with SHA-256 and compared with every configured digest with
//! [`subtle::ConstantTimeEq`], without stopping at a match, so the time taken says neither
//! whether nor where a key matched.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;

use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use super::config::{AuthConfig, check_name, parse_digest};
use super::scope::Scopes;

/// Largest key file read; anything bigger is a mistake (a key file of 10,000 keys is
/// about 1 MiB).
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// One accepted key: who it is and what it may do. Holds the digest, never the key.
#[derive(Clone)]
pub struct KeyEntry {
    /// The caller's name.
    pub name: Arc<str>,
    /// What the caller may call.
    pub scopes: Arc<Scopes>,
    /// The caller sees only what it started.
    pub own_attempts_only: bool,
    digest: [u8; 32],
}

// The digest stays out of `Debug`: it lets anyone test guesses offline.
impl std::fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyEntry")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("own_attempts_only", &self.own_attempts_only)
            .finish_non_exhaustive()
    }
}

/// What a look at the key file found.
#[derive(Debug, PartialEq, Eq)]
pub enum Reload {
    /// No key file is configured.
    NoFile,
    /// The content is what was last seen.
    Unchanged,
    /// The new keys are in use.
    Reloaded {
        /// Names that were not there before.
        added: Vec<String>,
        /// Names that are gone.
        removed: Vec<String>,
    },
    /// The file was refused and the previous keys stay in use.
    Kept(Vec<String>),
}

/// The keys in force: those from the configuration and the environment, which never
/// change, and those from the key file, which are replaced whole on each good reload.
pub struct KeyStore {
    fixed: Vec<KeyEntry>,
    file: Option<PathBuf>,
    current: RwLock<Arc<[KeyEntry]>>,
    /// What the last look found. The lock also serializes reloads.
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// Digest of the file content last parsed, good or bad, so each content is tried once.
    content: Option<[u8; 32]>,
    /// Problems last logged, so a lasting one is logged once.
    problems: Vec<String>,
}

// By hand: names and the file only. The digests and the content's fingerprint stay out.
impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("file", &self.file)
            .field("names", &self.names())
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    /// Builds the store from `[auth]` (after `apply_env`) and reads the key file. Every
    /// problem is reported; the configuration itself is expected to have passed
    /// [`AuthConfig::check`].
    pub fn load(config: &AuthConfig) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let mut fixed = Vec::new();
        let configured = config.api_keys.iter().enumerate().map(|(i, k)| (format!("auth.api_keys[{i}]"), k));
        let from_env =
            config.env_api_keys.iter().enumerate().map(|(i, k)| (format!("IDV_API_KEYS entry {}", i + 1), k));
        for (at, key) in configured.chain(from_env) {
            let digest = parse_digest(&key.sha256).map_err(|why| format!("{at}: sha256 {why}"));
            let scopes = Scopes::parse(&key.scopes).map_err(|e| e.into_iter().map(|e| format!("{at}: {e}")));
            match (digest, scopes) {
                (Ok(digest), Ok(scopes)) => fixed.push(KeyEntry {
                    name: key.name.as_str().into(),
                    scopes: Arc::new(scopes),
                    own_attempts_only: key.own_attempts_only,
                    digest,
                }),
                (digest, scopes) => {
                    problems.extend(digest.err());
                    problems.extend(scopes.err().into_iter().flatten());
                }
            }
        }
        let store = Self {
            current: RwLock::new(fixed.clone().into()),
            fixed,
            file: config.api_keys_file.clone(),
            seen: Mutex::new(Seen::default()),
        };
        match store.reload() {
            Reload::Kept(file_problems) => problems.extend(file_problems),
            Reload::NoFile | Reload::Unchanged | Reload::Reloaded { .. } => {}
        }
        if problems.is_empty() { Ok(store) } else { Err(problems) }
    }

    /// Finds the key whose digest is the SHA-256 of `presented`, comparing with every
    /// digest in constant time.
    pub fn lookup(&self, presented: &[u8]) -> Option<KeyEntry> {
        let digest: [u8; 32] = Sha256::digest(presented).into();
        let keys = self.keys();
        let mut found = Choice::from(0);
        let mut index = 0u32;
        for (i, key) in keys.iter().enumerate() {
            let equal = key.digest.ct_eq(&digest);
            found |= equal;
            // Key files hold far fewer than 2^32 lines; `MAX_FILE_BYTES` bounds them.
            index.conditional_assign(&u32::try_from(i).unwrap_or(u32::MAX), equal);
        }
        if bool::from(found) { keys.get(index as usize).cloned() } else { None }
    }

    /// The names of the keys in force, for logs and tests.
    pub fn names(&self) -> Vec<Arc<str>> {
        self.keys().iter().map(|k| k.name.clone()).collect()
    }

    fn keys(&self) -> Arc<[KeyEntry]> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Looks at the key file and, when its content changed and parses, puts its keys in
    /// force. Logs what it did, each problem once rather than at every poll. Blocking file
    /// I/O: call it from `spawn_blocking` in async code ([`KeyStore::spawn_reload`] does).
    pub fn reload(&self) -> Reload {
        let Some(path) = &self.file else { return Reload::NoFile };
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let outcome = self.look(path, &mut seen.content);
        let problems = match &outcome {
            Reload::Kept(problems) => problems.clone(),
            Reload::NoFile | Reload::Unchanged | Reload::Reloaded { .. } => Vec::new(),
        };
        if problems != seen.problems {
            for problem in &problems {
                tracing::error!(%problem, "API key file refused; keeping the previous keys");
            }
            seen.problems = problems;
        }
        outcome
    }

    fn look(&self, path: &Path, content: &mut Option<[u8; 32]>) -> Reload {
        // A read error leaves `content` alone: when the file comes back (a symlink swap in
        // progress, usually) with what is already in force, there is nothing to do.
        let bytes = match read_limited(path) {
            Ok(bytes) => bytes,
            Err(e) => return Reload::Kept(vec![format!("{}: {e}", path.display())]),
        };
        let fingerprint: [u8; 32] = Sha256::digest(&bytes).into();
        if *content == Some(fingerprint) {
            return Reload::Unchanged;
        }
        let first = content.is_none();
        *content = Some(fingerprint);
        if bytes.is_empty() && !first {
            return Reload::Kept(vec![format!(
                "{}: empty (to revoke every key, leave a comment line in it)",
                path.display()
            )]);
        }
        let parsed = std::str::from_utf8(&bytes)
            .map_err(|_| vec![format!("{}: not UTF-8 text", path.display())])
            .and_then(|text| {
                parse_keys_file(text)
                    .map_err(|e| e.into_iter().map(|e| format!("{}: {e}", path.display())).collect())
            })
            .and_then(|file_keys| self.merge(file_keys, path));
        let keys = match parsed {
            Ok(keys) => keys,
            Err(problems) => return Reload::Kept(problems),
        };
        let before: HashSet<Arc<str>> = self.names().into_iter().collect();
        let after: HashSet<Arc<str>> = keys.iter().map(|k| k.name.clone()).collect();
        let mut added: Vec<String> = after.difference(&before).map(|n| n.to_string()).collect();
        let mut removed: Vec<String> = before.difference(&after).map(|n| n.to_string()).collect();
        added.sort();
        removed.sort();
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = keys.into();
        tracing::info!(file = %path.display(), ?added, ?removed, "API keys loaded");
        Reload::Reloaded { added, removed }
    }

    /// The fixed keys plus the file's, refusing names or digests used twice.
    fn merge(&self, file_keys: Vec<FileKey>, path: &Path) -> Result<Vec<KeyEntry>, Vec<String>> {
        let mut problems = Vec::new();
        let mut keys = self.fixed.clone();
        for file_key in file_keys {
            let at = format!("{} line {}", path.display(), file_key.line);
            if keys.iter().any(|k| *k.name == *file_key.name) {
                problems.push(format!("{at}: name '{}' is used twice", file_key.name));
            }
            if keys.iter().any(|k| k.digest == file_key.digest) {
                problems.push(format!("{at}: the same sha256 is used twice"));
            }
            keys.push(KeyEntry {
                name: file_key.name.into(),
                scopes: Arc::new(file_key.scopes),
                own_attempts_only: file_key.own_attempts_only,
                digest: file_key.digest,
            });
        }
        if problems.is_empty() { Ok(keys) } else { Err(problems) }
    }

    /// Polls the key file every `interval` on a blocking-pool thread. The task ends when the
    /// store is dropped. `None` when no key file is configured.
    pub fn spawn_reload(self: &Arc<Self>, interval: Duration) -> Option<tokio::task::JoinHandle<()>> {
        self.file.as_ref()?;
        let store: Weak<Self> = Arc::downgrade(self);
        Some(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await; // The first tick is immediate; `load` has just read the file.
            loop {
                ticks.tick().await;
                let Some(store) = store.upgrade() else { return };
                if tokio::task::spawn_blocking(move || store.reload()).await.is_err() {
                    tracing::error!("API key reload panicked");
                }
            }
        }))
    }
}

/// One line of the key file.
#[derive(PartialEq, Eq)]
pub struct FileKey {
    /// 1-based line number.
    pub line: usize,
    /// The caller's name.
    pub name: String,
    /// What the key may call.
    pub scopes: Scopes,
    /// The caller sees only what it started.
    pub own_attempts_only: bool,
    digest: [u8; 32],
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKey")
            .field("line", &self.line)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("own_attempts_only", &self.own_attempts_only)
            .finish_non_exhaustive()
    }
}

/// Parses the key file, reporting every bad line by number and never with its text.
pub fn parse_keys_file(text: &str) -> Result<Vec<FileKey>, Vec<String>> {
    let mut keys: Vec<FileKey> = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        let line = line.split_once('#').map_or(line, |(before, _)| before);
        let mut words = line.split_whitespace();
        let Some(name) = words.next() else { continue };
        let at = format!("line {number}");
        let Some(hex_digest) = words.next() else {
            problems.push(format!("{at}: expected `name sha256hex [scope ...] [own_attempts_only]`"));
            continue;
        };
        let before = problems.len();
        check_name(&at, name, &mut problems);
        let digest =
            parse_digest(hex_digest).map_err(|why| problems.push(format!("{at}: sha256 {why}"))).ok();
        let mut own_attempts_only = false;
        let mut scope_words = Vec::new();
        for word in words {
            if word == "own_attempts_only" {
                own_attempts_only = true;
            } else {
                scope_words.push(word);
            }
        }
        let scopes = Scopes::parse(&scope_words)
            .map_err(|errors| problems.extend(errors.into_iter().map(|e| format!("{at}: {e}"))))
            .ok();
        if let Some(first) = keys.iter().find(|k| k.name == name) {
            problems.push(format!("{at}: name '{name}' is already used on line {}", first.line));
        }
        if let Some(digest) = digest
            && let Some(first) = keys.iter().find(|k| k.digest == digest)
        {
            problems.push(format!("{at}: same sha256 as line {}", first.line));
        }
        if let (Some(digest), Some(scopes)) = (digest, scopes)
            && problems.len() == before
        {
            keys.push(FileKey { line: number, name: name.to_owned(), scopes, own_attempts_only, digest });
        }
    }
    if problems.is_empty() { Ok(keys) } else { Err(problems) }
}

/// The hex SHA-256 of a key, as `[[auth.api_keys]] sha256` and the key file want it.
pub fn key_digest_hex(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::super::config::ApiKeyConfig;
    use super::*;

    fn line(name: &str, key: &str, rest: &str) -> String {
        format!("{name} {} {rest}\n", key_digest_hex(key))
    }

    fn store_with_file(file: &Path, fixed: &[(&str, &str)]) -> Result<KeyStore, Vec<String>> {
        let config = AuthConfig {
            api_keys: fixed
                .iter()
                .map(|(name, key)| ApiKeyConfig {
                    name: (*name).into(),
                    sha256: key_digest_hex(key),
                    scopes: vec![],
                    own_attempts_only: false,
                })
                .collect(),
            api_keys_file: Some(file.to_owned()),
            ..AuthConfig::default()
        };
        KeyStore::load(&config)
    }

    #[test]
    fn parses_comments_blank_lines_scopes_and_flags() {
        let text = format!(
            "# keys for staging\n\n   \n{}{}  # trailing comment\n",
            line("billing", "k1", ""),
            line("dash", "k2", "read idv.baf.v1.ApplicantService own_attempts_only"),
        );
        let keys = parse_keys_file(&text).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!((keys[0].line, keys[0].name.as_str(), keys[0].own_attempts_only), (4, "billing", false));
        assert!(keys[0].scopes.is_everything());
        assert_eq!((keys[1].line, keys[1].name.as_str(), keys[1].own_attempts_only), (5, "dash", true));
        assert!(keys[1].scopes.allows("/idv.baf.v1.ApplicantService/CreateApplicant"));
        assert!(!keys[1].scopes.allows("/idv.ableid.v1.AbleIdService/StartResidentCheck"));
        assert!(parse_keys_file("# nothing here\n\n").unwrap().is_empty());
    }

    #[test]
    fn bad_lines_are_reported_by_number_without_their_text() {
        let digest = key_digest_hex("k1");
        let text = format!(
            "ok {digest}\n\
             sk_live_pasted_by_mistake\n\
             short abc123\n\
             bad!name {}\n\
             ok {}\n\
             other {digest}\n\
             scoped {} wirte\n",
            key_digest_hex("k2"),
            key_digest_hex("k3"),
            key_digest_hex("k4"),
        );
        let problems = parse_keys_file(&text).unwrap_err();
        let all = problems.join("\n");
        for expected in [
            "line 2: expected `name sha256hex",
            "line 3: sha256 must be 64 hex digits",
            "line 4: name must be",
            "line 5: name 'ok' is already used on line 1",
            "line 6: same sha256 as line 1",
            "line 7: scope 1: unknown group 'wirte'",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in\n{all}");
        }
        assert_eq!(problems.len(), 6, "{all}");
        assert!(!all.contains("sk_live") && !all.contains(&digest) && !all.contains("abc123"), "{all}");
    }

    #[test]
    fn lookup_finds_every_key_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys");
        std::fs::write(&file, line("f1", "file-key-1", "") + &line("f2", "file-key-2", "read")).unwrap();
        let store = store_with_file(&file, &[("c1", "config-key-1")]).unwrap();
        assert_eq!(&*store.lookup(b"config-key-1").unwrap().name, "c1");
        assert_eq!(&*store.lookup(b"file-key-1").unwrap().name, "f1");
        let f2 = store.lookup(b"file-key-2").unwrap();
        assert_eq!(&*f2.name, "f2");
        assert!(!f2.scopes.is_everything());
        for wrong in [&b""[..], b"file-key-", b"file-key-10", b"FILE-KEY-1", &[0xff; 40]] {
            assert!(store.lookup(wrong).is_none());
        }
    }

    #[test]
    fn reload_adds_revokes_and_keeps_the_previous_keys_on_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys");
        std::fs::write(&file, line("a", "key-a", "")).unwrap();
        let store = store_with_file(&file, &[]).unwrap();
        assert_eq!(store.reload(), Reload::Unchanged);
        assert!(store.lookup(b"key-a").is_some());

        std::fs::write(&file, line("b", "key-b", "")).unwrap();
        assert_eq!(store.reload(), Reload::Reloaded { added: vec!["b".into()], removed: vec!["a".into()] });
        assert!(store.lookup(b"key-a").is_none());
        assert!(store.lookup(b"key-b").is_some());

        // A bad line, an empty file and a missing file all keep "b".
        std::fs::write(&file, line("b", "key-b", "") + "c nothex\n").unwrap();
        assert!(
            matches!(store.reload(), Reload::Kept(p) if p.len() == 1 && p[0].ends_with("line 2: sha256 must be 64 hex digits (a SHA-256 digest)"))
        );
        assert_eq!(store.reload(), Reload::Unchanged, "a bad file is reported once");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(store.reload(), Reload::Kept(_)));
        assert_eq!(store.reload(), Reload::Unchanged);
        std::fs::remove_file(&file).unwrap();
        assert!(matches!(store.reload(), Reload::Kept(_)));
        assert!(matches!(store.reload(), Reload::Kept(_)));
        assert!(store.lookup(b"key-b").is_some());
        assert!(!format!("{store:?}").contains(&key_digest_hex("key-b")), "{store:?}");

        // Only comments: a deliberate "no keys".
        std::fs::write(&file, "# all revoked\n").unwrap();
        assert_eq!(store.reload(), Reload::Reloaded { added: vec![], removed: vec!["b".into()] });
        assert!(store.lookup(b"key-b").is_none());
    }

    #[test]
    fn file_keys_may_not_reuse_fixed_names_or_keys() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys");
        std::fs::write(&file, line("c1", "other", "") + &line("f1", "config-key", "")).unwrap();
        let problems = store_with_file(&file, &[("c1", "config-key")]).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].ends_with("line 1: name 'c1' is used twice"), "{problems:?}");
        assert!(problems[1].ends_with("line 2: the same sha256 is used twice"), "{problems:?}");
    }

    #[test]
    fn a_missing_file_at_start_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let problems = store_with_file(&dir.path().join("absent"), &[]).unwrap_err();
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn the_digest_matches_sha256sum() {
        // printf %s test | sha256sum
        assert_eq!(
            key_digest_hex("test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }
}
