//! The project's sessions: started, viewed, approved or rejected once, asked for data,
//! and forgotten some time after they expire. Nothing here knows HTTP or JSON.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::catalogue::Failure;
use super::request::{DataRequest, NewSession};
use super::{Data, Lang};
use crate::fake::{self, Identity};
use crate::lock;

/// AbleID's attempt ids are 21 characters (seed 000's example `3HQVkBm_zCZqKFbTWVrhf`).
const ATTEMPT_ID_LEN: usize = 21;
/// Sessions kept at most; the oldest go first. Bounds a long-running sandbox's memory.
const MAX_SESSIONS: usize = 10_000;
/// How long an expired session is remembered, so it answers "expired" rather than
/// "not found".
const KEEP_EXPIRED: Duration = Duration::from_secs(3600);

/// Every session of the project.
pub(super) struct Sessions {
    ttl: Duration,
    by_attempt: Mutex<HashMap<String, Session>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Sessions hold personal data: only their number is printed.
        f.debug_struct("Sessions")
            .field("ttl", &self.ttl)
            .field("count", &lock(&self.by_attempt).len())
            .finish()
    }
}

/// One session. Holds personal data: never logged or printed.
struct Session {
    transaction_id: String,
    subject: Subject,
    lang: Lang,
    hooks: Vec<String>,
    started: Instant,
    outcome: Outcome,
}

/// Who a session checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Subject {
    Resident { pinfl: String, birth_date: NaiveDate },
    Foreign { document: String },
}

/// How a session ended, if it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Pending,
    Approved,
    Rejected(Failure),
}

/// What the session page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum View {
    Unknown,
    Expired,
    Finished(Outcome),
    /// Waiting for the person, with the seconds it has left.
    Open {
        foreign: bool,
        seconds_left: u64,
    },
}

/// Why a session could not be ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotEnded {
    Unknown,
    Expired,
    AlreadyEnded,
}

/// What the completion hook needs from a session that just ended.
#[derive(Debug)]
pub(super) struct Ended {
    pub(super) hooks: Vec<String>,
    pub(super) transaction_id: String,
    pub(super) lang: Lang,
}

/// A refused call, with the language to refuse it in.
pub(super) type Refusal = (Failure, Lang);

impl Sessions {
    pub(super) fn new(ttl: Duration) -> Self {
        Self { ttl, by_attempt: Mutex::new(HashMap::new()) }
    }

    fn expired(&self, session: &Session, now: Instant) -> bool {
        now.saturating_duration_since(session.started) >= self.ttl
    }

    /// Starts a session and returns its attempt id.
    pub(super) fn start(&self, new: NewSession, now: Instant) -> String {
        let mut sessions = lock(&self.by_attempt);
        self.prune(&mut sessions, now);
        let attempt_id = loop {
            let id = fake::nanoid(ATTEMPT_ID_LEN);
            if !sessions.contains_key(&id) {
                break id;
            }
        };
        let NewSession { transaction_id, subject, lang, hooks } = new;
        let session =
            Session { transaction_id, subject, lang, hooks, started: now, outcome: Outcome::Pending };
        sessions.insert(attempt_id.clone(), session);
        attempt_id
    }

    /// Forgets sessions long expired, and the oldest ones beyond [`MAX_SESSIONS`].
    fn prune(&self, sessions: &mut HashMap<String, Session>, now: Instant) {
        let keep = self.ttl.saturating_add(KEEP_EXPIRED);
        sessions.retain(|_, s| now.saturating_duration_since(s.started) < keep);
        while sessions.len() >= MAX_SESSIONS {
            let oldest = sessions.iter().min_by_key(|(_, s)| s.started).map(|(id, _)| id.clone());
            match oldest {
                Some(id) => sessions.remove(&id),
                None => break,
            };
        }
    }

    /// What the page of `attempt_id` shows.
    pub(super) fn view(&self, attempt_id: &str, now: Instant) -> View {
        let sessions = lock(&self.by_attempt);
        match sessions.get(attempt_id) {
            None => View::Unknown,
            Some(s) if self.expired(s, now) => View::Expired,
            Some(Session { outcome: Outcome::Pending, subject, started, .. }) => View::Open {
                foreign: matches!(subject, Subject::Foreign { .. }),
                seconds_left: self.ttl.saturating_sub(now.saturating_duration_since(*started)).as_secs(),
            },
            Some(s) => View::Finished(s.outcome),
        }
    }

    /// Ends a pending session with `outcome` (approved or rejected), once.
    pub(super) fn end(&self, attempt_id: &str, outcome: Outcome, now: Instant) -> Result<Ended, NotEnded> {
        let mut sessions = lock(&self.by_attempt);
        let session = sessions.get_mut(attempt_id).ok_or(NotEnded::Unknown)?;
        if self.expired(session, now) {
            return Err(NotEnded::Expired);
        }
        if session.outcome != Outcome::Pending {
            return Err(NotEnded::AlreadyEnded);
        }
        session.outcome = outcome;
        Ok(Ended {
            hooks: session.hooks.clone(),
            transaction_id: session.transaction_id.clone(),
            lang: session.lang,
        })
    }

    /// Checks a data request as AbleID does, in its order, and returns the person the
    /// data describes and the session's language. Refusals are in the session's
    /// language when there is a session.
    pub(super) fn data(
        &self,
        request: &DataRequest,
        credentials_ok: bool,
        which: Data,
        now: Instant,
    ) -> Result<(Identity, Lang), Refusal> {
        let sessions = lock(&self.by_attempt);
        let session = sessions.get(&request.attempt_id);
        let lang = session.map_or(Lang::Ru, |s| s.lang);
        let refuse = |failure| (failure, lang);
        if !credentials_ok {
            return Err(refuse(Failure::ProjectNotFound));
        }
        if request.attempt_id.is_empty() {
            return Err(refuse(Failure::IncorrectDataFormat));
        }
        let session = session.ok_or(refuse(Failure::TransactionNotFound))?;
        if self.expired(session, now) {
            return Err(refuse(Failure::SessionExpired));
        }
        if session.outcome != Outcome::Approved {
            return Err(refuse(Failure::FailedVerification));
        }
        let identity = match &session.subject {
            Subject::Resident { pinfl, birth_date } => {
                if which != Data::Photo && request.pinfl != *pinfl {
                    return Err(refuse(Failure::IncorrectPinfl));
                }
                if matches!(which, Data::Passport | Data::Person) {
                    let given = request.birth_date.ok_or(refuse(Failure::IncorrectDataFormat))?;
                    if given != *birth_date {
                        return Err(refuse(Failure::IncorrectPinflDate));
                    }
                }
                Identity::resident(pinfl, *birth_date)
            }
            // A foreigner's session has no PINFL or birth date to compare with.
            Subject::Foreign { document } => Identity::foreigner(document),
        };
        Ok((identity, lang))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(d: u32, m: u32, y: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn resident() -> NewSession {
        NewSession {
            transaction_id: "t-1".into(),
            subject: Subject::Resident { pinfl: "31505901234567".into(), birth_date: date(15, 5, 1990) },
            lang: Lang::En,
            hooks: vec!["https://example.com/h".into()],
        }
    }

    fn ask(attempt_id: &str, pinfl: &str, birth_date: Option<NaiveDate>) -> DataRequest {
        DataRequest { attempt_id: attempt_id.into(), pinfl: pinfl.into(), birth_date }
    }

    #[test]
    fn a_session_ends_once() {
        let sessions = Sessions::new(Duration::from_secs(600));
        let now = Instant::now();
        let id = sessions.start(resident(), now);
        assert_eq!(id.len(), 21);
        assert_eq!(sessions.view(&id, now), View::Open { foreign: false, seconds_left: 600 });
        let ended = sessions.end(&id, Outcome::Approved, now).unwrap();
        assert_eq!((ended.transaction_id.as_str(), ended.lang), ("t-1", Lang::En));
        assert_eq!(ended.hooks, ["https://example.com/h"]);
        assert_eq!(sessions.end(&id, Outcome::Approved, now).unwrap_err(), NotEnded::AlreadyEnded);
        assert_eq!(sessions.view(&id, now), View::Finished(Outcome::Approved));
        assert_eq!(sessions.view("unknown", now), View::Unknown);
        assert_eq!(sessions.end("unknown", Outcome::Approved, now).unwrap_err(), NotEnded::Unknown);
    }

    #[test]
    fn data_requests_check_the_session() {
        let sessions = Sessions::new(Duration::from_secs(600));
        let now = Instant::now();
        let id = sessions.start(resident(), now);
        let birth = Some(date(15, 5, 1990));
        let code = |r: Result<(Identity, Lang), Refusal>| r.err().map(|(f, l)| (f.code(), l));
        let good = ask(&id, "31505901234567", birth);
        assert_eq!(code(sessions.data(&good, true, Data::Passport, now)), Some((10301, Lang::En)));
        sessions.end(&id, Outcome::Approved, now).unwrap();
        let (who, lang) = sessions.data(&good, true, Data::Passport, now).unwrap();
        assert_eq!((who.pinfl.as_str(), lang), ("31505901234567", Lang::En));
        assert_eq!(code(sessions.data(&good, false, Data::Passport, now)), Some((10202, Lang::En)));
        let other_pinfl = ask(&id, "31505901234568", birth);
        assert_eq!(code(sessions.data(&other_pinfl, true, Data::Person, now)), Some((10103, Lang::En)));
        assert!(sessions.data(&other_pinfl, true, Data::Photo, now).is_ok(), "a photo needs no PINFL");
        let other_date = ask(&id, "31505901234567", Some(date(14, 5, 1990)));
        assert_eq!(code(sessions.data(&other_date, true, Data::Person, now)), Some((10105, Lang::En)));
        assert!(sessions.data(&other_date, true, Data::Registration, now).is_ok(), "no date asked");
        let no_date = ask(&id, "31505901234567", None);
        assert_eq!(code(sessions.data(&no_date, true, Data::Passport, now)), Some((20202, Lang::En)));
        let unknown = ask("nope", "", None);
        assert_eq!(code(sessions.data(&unknown, true, Data::Photo, now)), Some((10302, Lang::Ru)));
        assert_eq!(code(sessions.data(&ask("", "", None), true, Data::Photo, now)), Some((20202, Lang::Ru)));
    }

    #[test]
    fn expired_sessions_refuse_everything() {
        let sessions = Sessions::new(Duration::ZERO);
        let now = Instant::now();
        let id = sessions.start(resident(), now);
        assert_eq!(sessions.view(&id, now), View::Expired);
        assert_eq!(sessions.end(&id, Outcome::Approved, now).unwrap_err(), NotEnded::Expired);
        let refused =
            sessions.data(&ask(&id, "", None), true, Data::Photo, now).err().map(|(f, l)| (f.code(), l));
        assert_eq!(refused, Some((10101, Lang::En)));
    }

    #[test]
    fn foreigners_are_found_by_document() {
        let sessions = Sessions::new(Duration::from_secs(600));
        let now = Instant::now();
        let new = NewSession {
            transaction_id: "t-2".into(),
            subject: Subject::Foreign { document: "FA1234567".into() },
            lang: Lang::Ru,
            hooks: Vec::new(),
        };
        let id = sessions.start(new, now);
        assert_eq!(sessions.view(&id, now), View::Open { foreign: true, seconds_left: 600 });
        sessions.end(&id, Outcome::Approved, now).unwrap();
        let (who, _) = sessions.data(&ask(&id, "", None), true, Data::Person, now).unwrap();
        assert!(who.foreign);
        assert_eq!(who.document, "FA1234567");
    }
}
