//! The simulated B2Core host's end clients: their verification level, its history, and
//! the wizards handed out to them. Nothing here knows HTTP or JSON.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::errors::Error;
use super::request::HistoryQuery;
use crate::{fake, lock};

/// The highest level a client can reach.
pub(super) const TOP_LEVEL: u32 = 2;
/// Clients kept at most; the least recently created go first.
const MAX_CLIENTS: usize = 10_000;
/// Open wizards kept per client.
const MAX_WIZARDS: usize = 20;

/// Every client of the host, by the SHA-1 of its token.
#[derive(Default)]
pub(super) struct Clients(Mutex<Registry>);

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients").field("count", &lock(&self.0).by_token.len()).finish()
    }
}

#[derive(Default)]
struct Registry {
    by_token: HashMap<String, Client>,
    next_entry: i64,
    next_application: i64,
    next_client: u64,
}

/// One end client.
pub(super) struct Client {
    pub(super) client_id: i64,
    /// Creation order, for eviction.
    seq: u64,
    level: u32,
    history: Vec<Entry>,
    /// Wizard uuids handed out and not yet submitted.
    wizards: Vec<String>,
}

/// One grant of a level.
pub(super) struct Entry {
    pub(super) id: i64,
    pub(super) level: u32,
    pub(super) previous: Option<u32>,
    pub(super) reason: String,
    pub(super) created: DateTime<Utc>,
}

/// The step a wizard starts at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// A documents page to fill in and submit with this uuid.
    Documents(String),
    /// Nothing left to do: the client is at the top level.
    Done(String),
}

impl Registry {
    /// The client of `key`, created at Level 0 on first sight.
    fn client(&mut self, key: &str) -> &mut Client {
        if !self.by_token.contains_key(key) {
            while self.by_token.len() >= MAX_CLIENTS {
                let oldest = self.by_token.iter().min_by_key(|(_, c)| c.seq).map(|(k, _)| k.clone());
                let Some(oldest) = oldest else { break };
                self.by_token.remove(&oldest);
            }
        }
        let Self { by_token, next_entry, next_client, .. } = self;
        by_token.entry(key.to_owned()).or_insert_with(|| {
            *next_entry += 1;
            *next_client += 1;
            // A stable id per token, from the first bytes of its hash.
            let client_id =
                i64::from_str_radix(key.get(..6).unwrap_or("0"), 16).unwrap_or(0) % 900_000 + 100_000;
            let created = Entry {
                id: *next_entry,
                level: 0,
                previous: None,
                reason: "created".into(),
                created: Utc::now(),
            };
            Client { client_id, seq: *next_client, level: 0, history: vec![created], wizards: Vec::new() }
        })
    }
}

impl Clients {
    /// Runs `f` on the client of `key`'s history as `query` selects it, and its total.
    pub(super) fn history<T>(
        &self,
        key: &str,
        query: HistoryQuery,
        f: impl FnOnce(&Client, &[&Entry], usize) -> T,
    ) -> T {
        let mut registry = lock(&self.0);
        let client = registry.client(key);
        let mut entries: Vec<&Entry> = client.history.iter().collect();
        entries.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        if !query.ascending {
            entries.reverse();
        }
        let page: Vec<&Entry> = entries.into_iter().skip(query.offset).take(query.limit).collect();
        f(client, &page, client.history.len())
    }

    /// Runs `f` on entry `id` of the client of `key`; another client's entry is not found.
    pub(super) fn entry<T>(
        &self,
        key: &str,
        id: &str,
        f: impl FnOnce(&Client, &Entry) -> T,
    ) -> Result<T, Error> {
        let mut registry = lock(&self.0);
        let client = registry.client(key);
        let entry = id.parse::<i64>().ok().and_then(|id| client.history.iter().find(|e| e.id == id));
        entry.map(|entry| f(client, entry)).ok_or_else(Error::not_found)
    }

    /// Starts a wizard: the documents step, or the final step at the top level.
    pub(super) fn wizard(&self, key: &str) -> Step {
        let uuid = fake::uuid_v4();
        let mut registry = lock(&self.0);
        let client = registry.client(key);
        if client.level >= TOP_LEVEL {
            return Step::Done(uuid);
        }
        if client.wizards.len() >= MAX_WIZARDS {
            client.wizards.remove(0);
        }
        client.wizards.push(uuid.clone());
        Step::Documents(uuid)
    }

    /// Submits wizard `uuid`, once: raises the client one level, up to the top. Returns
    /// the client's id and new level.
    pub(super) fn submit(&self, key: &str, uuid: &str) -> Result<(i64, u32), Error> {
        let mut guard = lock(&self.0);
        guard.client(key);
        let Registry { by_token, next_entry, next_application, .. } = &mut *guard;
        let client = by_token.get_mut(key).ok_or_else(|| Error::bad_request("no such client"))?;
        let Some(at) = client.wizards.iter().position(|w| w == uuid) else {
            return Err(Error::unknown_procedure(uuid));
        };
        client.wizards.remove(at);
        if client.level < TOP_LEVEL {
            *next_entry += 1;
            *next_application += 1;
            let previous = client.level;
            client.level += 1;
            client.history.push(Entry {
                id: *next_entry,
                level: client.level,
                previous: Some(previous),
                reason: format!("Application: {next_application}"),
                created: Utc::now(),
            });
        }
        Ok((client.client_id, client.level))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEWEST_FIRST: HistoryQuery = HistoryQuery { limit: 20, offset: 0, ascending: false };

    fn levels(clients: &Clients, key: &str) -> Vec<(u32, Option<u32>, String)> {
        clients.history(key, NEWEST_FIRST, |_, entries, _| {
            entries.iter().map(|e| (e.level, e.previous, e.reason.clone())).collect()
        })
    }

    #[test]
    fn a_new_client_starts_at_level_0() {
        let clients = Clients::default();
        assert_eq!(levels(&clients, "k1"), [(0, None, "created".to_owned())]);
    }

    #[test]
    fn each_submission_raises_one_level_up_to_the_top() {
        let clients = Clients::default();
        for expected in 1..=TOP_LEVEL {
            let Step::Documents(uuid) = clients.wizard("k1") else { panic!("a documents step") };
            assert_eq!(clients.submit("k1", &uuid).unwrap().1, expected);
            assert_eq!(
                clients.submit("k1", &uuid).unwrap_err(),
                Error::unknown_procedure(&uuid),
                "used once"
            );
            assert_eq!(levels(&clients, "k1")[0].0, expected);
            assert_eq!(levels(&clients, "k1")[0].1, Some(expected - 1));
        }
        assert!(matches!(clients.wizard("k1"), Step::Done(_)));
        let page = HistoryQuery { limit: 1, offset: 1, ascending: true };
        let (level, total, id) = clients.history("k1", page, |_, e, total| (e[0].level, total, e[0].id));
        assert_eq!((level, total), (1, 3));
        assert!(clients.entry("k1", &id.to_string(), |_, e| e.level).is_ok());
        assert_eq!(
            clients.entry("k2", &id.to_string(), |_, e| e.level).unwrap_err(),
            Error::not_found(),
            "another client's"
        );
        assert_eq!(levels(&clients, "k2").len(), 1);
    }

    #[test]
    fn unknown_wizards_are_refused() {
        let clients = Clients::default();
        assert_eq!(clients.submit("k1", "unknown").unwrap_err(), Error::unknown_procedure("unknown"));
    }
}
