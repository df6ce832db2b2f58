//! The simulated BAF account: its applicants and their attempts, and the rules that move
//! them (seeds 002 and 003). Nothing here knows HTTP or JSON.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{NaiveDateTime, Utc};

use super::FACE_ONLY;
use super::errors::Error;
use super::request::{Changes, ListQuery, NewApplicant, SortField, Validation};
use crate::{fake, lock};

/// Applicants kept at most; the oldest go first. Bounds a long-running sandbox's memory
/// (attempts keep their images).
const MAX_APPLICANTS: usize = 2_000;
/// The marker that makes a simulated document verification fail.
const REJECT_MARKER: &[u8] = b"reject";

/// Applicant statuses (seed 003; 5 from its list example).
pub(super) const PENDING: i64 = 0;
pub(super) const SUCCESS: i64 = 1;
pub(super) const FAILED: i64 = 2;
pub(super) const CANCELED: i64 = 3;
pub(super) const FAILED_ATTEMPT: i64 = 5;

/// An applicant status's name, its `statusName`.
pub(super) fn status_name(status: i64) -> &'static str {
    match status {
        PENDING => "Pending",
        SUCCESS => "Success",
        FAILED => "Failed",
        CANCELED => "Canceled",
        FAILED_ATTEMPT => "FailedAttempt",
        _ => "Unknown",
    }
}

/// The account and everything in it.
pub(super) struct Account {
    max_attempts: u32,
    store: Mutex<Store>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Applicants hold names, phones and face images: only their number is printed.
        f.debug_struct("Account")
            .field("max_attempts", &self.max_attempts)
            .field("applicants", &lock(&self.store).applicants.len())
            .finish()
    }
}

#[derive(Default)]
struct Store {
    applicants: HashMap<String, Applicant>,
    /// Short link code → applicant id.
    short_links: HashMap<String, String>,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    applicant: u64,
    attempt: i64,
    response: i64,
}

/// An applicant. Holds personal data: never logged or printed.
pub(super) struct Applicant {
    pub(super) id: String,
    /// Creation order, for "newest first" and eviction.
    seq: u64,
    pub(super) short_code: String,
    pub(super) first_name: Option<String>,
    pub(super) last_name: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) email: Option<String>,
    pub(super) reference_id: Option<String>,
    pub(super) metadata: BTreeMap<String, String>,
    pub(super) callback_url: Option<String>,
    send_sms: bool,
    pub(super) verification_method: i64,
    pub(super) status: i64,
    pub(super) completed: bool,
    pub(super) attempts_used: u32,
    pub(super) opened_link_times: u32,
    pub(super) created: NaiveDateTime,
    pub(super) attempts: Vec<Attempt>,
    pub(super) success_attempt_id: Option<i64>,
    /// The registered face that authorizations are compared with.
    face: Option<Vec<u8>>,
    pub(super) last_response: Option<LastResponse>,
    pub(super) document_expired: Option<bool>,
}

/// The applicant's latest validation response.
#[derive(Debug, Clone, Copy)]
pub(super) struct LastResponse {
    pub(super) id: i64,
    pub(super) created: NaiveDateTime,
    /// A validation outcome: 0 Success, 1 Fail.
    pub(super) status: i64,
}

/// Where an attempt came from; it decides which checks it shows and whether it has a
/// video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// The embedded page: a liveness check with a video.
    Page,
    /// `Validation` with documentType 10 on an applicant not yet completed.
    Registration,
    /// `Validation` with documentType 10 on a completed applicant with a face.
    Authorization,
    /// `Validation` with another documentType.
    Document,
}

/// A verification attempt, with the images it was made with.
pub(super) struct Attempt {
    pub(super) id: i64,
    pub(super) created: NaiveDateTime,
    pub(super) source: Source,
    pub(super) document_type: i64,
    pub(super) passed: bool,
    pub(super) face: Vec<u8>,
    pub(super) front: Vec<u8>,
    pub(super) back: Vec<u8>,
}

impl Attempt {
    pub(super) fn has_video(&self) -> bool {
        self.source == Source::Page
    }

    /// A validation outcome: 0 Success, 1 Fail.
    pub(super) fn status(&self) -> i64 {
        if self.passed { 0 } else { 1 }
    }

    pub(super) fn is_document(&self) -> bool {
        self.source == Source::Document
    }

    /// Whether a document was read: only a passing document verification reads one.
    pub(super) fn read_document(&self) -> bool {
        self.is_document() && self.passed
    }
}

impl Applicant {
    /// Counts a verification attempt and moves the status as BAF does: success
    /// completes; a failure leaves the applicant open until the attempts run out.
    fn settle(&mut self, attempt_id: i64, passed: bool, max_attempts: u32) {
        self.attempts_used = self.attempts_used.saturating_add(1);
        if passed {
            self.status = SUCCESS;
            self.completed = true;
            self.success_attempt_id = Some(attempt_id);
        } else if self.attempts_used >= max_attempts {
            self.status = FAILED;
            self.completed = true;
        } else {
            self.status = FAILED_ATTEMPT;
        }
    }

    pub(super) fn attempt(&self, id: i64) -> Option<&Attempt> {
        self.attempts.iter().find(|a| a.id == id)
    }

    fn matches_text(&self, needle: &str) -> bool {
        [&self.first_name, &self.last_name, &self.email, &self.phone, &self.reference_id]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(needle))
    }
}

/// What a new attempt holds.
struct NewAttempt {
    source: Source,
    document_type: i64,
    passed: bool,
    face: Vec<u8>,
    front: Vec<u8>,
    back: Vec<u8>,
}

impl Counters {
    /// Records an attempt (and its validation response) on `applicant`.
    fn record(&mut self, applicant: &mut Applicant, new: NewAttempt) -> i64 {
        self.attempt += 1;
        self.response += 1;
        let created = now();
        if new.source == Source::Document {
            applicant.document_expired = Some(false);
        }
        let attempt = Attempt {
            id: self.attempt,
            created,
            source: new.source,
            document_type: new.document_type,
            passed: new.passed,
            face: new.face,
            front: new.front,
            back: new.back,
        };
        applicant.last_response = Some(LastResponse { id: self.response, created, status: attempt.status() });
        applicant.attempts.push(attempt);
        self.attempt
    }
}

/// A new applicant's id and short link code.
#[derive(Debug)]
pub(super) struct Created {
    pub(super) id: String,
    pub(super) short_code: String,
}

/// What the embedded page shows about an applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PageView {
    pub(super) completed: bool,
    pub(super) status: i64,
    pub(super) attempts_used: u32,
}

/// A liveness attempt made on the embedded page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PageAttempt {
    pub(super) attempt_id: i64,
    pub(super) status: i64,
    /// Where the browser goes next.
    pub(super) callback_url: Option<String>,
}

/// Why the embedded page could not record an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PageRefusal {
    Unknown,
    /// The verification is closed, with this status.
    Closed(i64),
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn has_marker(images: &[&[u8]]) -> bool {
    images.iter().any(|image| image.windows(REJECT_MARKER.len()).any(|w| w == REJECT_MARKER))
}

impl Account {
    /// An account whose applicants have `max_attempts` attempts each (at least one).
    pub(super) fn new(max_attempts: u32) -> Self {
        Self { max_attempts: max_attempts.max(1), store: Mutex::new(Store::default()) }
    }

    pub(super) fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Runs `f` on applicant `id`, or refuses with BAF's 404.
    pub(super) fn with_applicant<T>(
        &self,
        id: &str,
        f: impl FnOnce(&Applicant) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let store = lock(&self.store);
        f(store.applicants.get(id).ok_or_else(|| Error::applicant_not_found(id))?)
    }

    fn with_applicant_mut<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut Applicant, &mut Counters) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut guard = lock(&self.store);
        let store = &mut *guard;
        let applicant = store.applicants.get_mut(id).ok_or_else(|| Error::applicant_not_found(id))?;
        f(applicant, &mut store.counters)
    }

    /// Runs `f` on attempt `attempt` (as the URL gives it) of applicant `id`.
    pub(super) fn with_attempt<T>(
        &self,
        id: &str,
        attempt: &str,
        f: impl FnOnce(&Applicant, &Attempt) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.with_applicant(id, |a| {
            let found = attempt.parse::<i64>().ok().and_then(|n| a.attempt(n));
            f(a, found.ok_or_else(|| Error::attempt_not_found(attempt))?)
        })
    }

    /// Creates an applicant, forgetting the oldest beyond [`MAX_APPLICANTS`].
    pub(super) fn create(&self, new: NewApplicant) -> Created {
        let mut guard = lock(&self.store);
        let store = &mut *guard;
        while store.applicants.len() >= MAX_APPLICANTS {
            let oldest =
                store.applicants.values().min_by_key(|a| a.seq).map(|a| (a.id.clone(), a.short_code.clone()));
            let Some((id, code)) = oldest else { break };
            store.applicants.remove(&id);
            store.short_links.remove(&code);
        }
        let id = loop {
            let id = fake::uuid_v4();
            if !store.applicants.contains_key(&id) {
                break id;
            }
        };
        let short_code = loop {
            let code = fake::nanoid(7);
            if !store.short_links.contains_key(&code) {
                break code;
            }
        };
        store.counters.applicant += 1;
        let applicant = Applicant {
            id: id.clone(),
            seq: store.counters.applicant,
            short_code: short_code.clone(),
            first_name: new.first_name,
            last_name: new.last_name,
            phone: new.phone,
            email: new.email,
            reference_id: new.reference_id,
            metadata: new.metadata,
            callback_url: new.callback_url,
            send_sms: new.send_sms,
            verification_method: new.verification_method,
            status: new.status,
            completed: new.status != PENDING,
            attempts_used: 0,
            opened_link_times: 0,
            created: now(),
            attempts: Vec::new(),
            success_attempt_id: None,
            face: None,
            last_response: None,
            document_expired: None,
        };
        store.short_links.insert(short_code.clone(), id.clone());
        store.applicants.insert(id.clone(), applicant);
        Created { id, short_code }
    }

    /// Changes the fields `changes` names; a phone cannot go while SMS sending is on.
    pub(super) fn update(&self, id: &str, changes: Changes) -> Result<(), Error> {
        self.with_applicant_mut(id, |a, _| {
            let phone = changes.phone.unwrap_or_else(|| a.phone.clone());
            if a.send_sms && phone.is_none() {
                return Err(Error::phone_required());
            }
            a.phone = phone;
            for (change, slot) in [
                (changes.first_name, &mut a.first_name),
                (changes.last_name, &mut a.last_name),
                (changes.email, &mut a.email),
                (changes.reference_id, &mut a.reference_id),
                (changes.callback_url, &mut a.callback_url),
            ] {
                if let Some(value) = change {
                    *slot = value;
                }
            }
            if let Some(metadata) = changes.metadata {
                a.metadata = metadata;
            }
            Ok(())
        })
    }

    pub(super) fn delete(&self, id: &str) -> Result<(), Error> {
        let mut store = lock(&self.store);
        let applicant = store.applicants.remove(id).ok_or_else(|| Error::applicant_not_found(id))?;
        store.short_links.remove(&applicant.short_code);
        Ok(())
    }

    /// Forces status 3, Canceled; returns the applicant's `callbackUrl`.
    pub(super) fn complete(&self, id: &str) -> Result<Option<String>, Error> {
        self.with_applicant_mut(id, |a, _| {
            a.status = CANCELED;
            a.completed = true;
            Ok(a.callback_url.clone())
        })
    }

    /// Unblocks a Failed applicant: its attempts start again.
    pub(super) fn open(&self, id: &str) -> Result<(), Error> {
        self.with_applicant_mut(id, |a, _| {
            if a.status != FAILED {
                return Err(Error::already_unblocked());
            }
            a.status = PENDING;
            a.completed = false;
            a.attempts_used = 0;
            Ok(())
        })
    }

    /// Replaces the registered face of an applicant that has one.
    pub(super) fn update_main_photo(&self, id: &str, face: Vec<u8>) -> Result<(), Error> {
        self.with_applicant_mut(id, |a, _| {
            if a.face.is_none() {
                return Err(Error::not_registered());
            }
            a.face = Some(face);
            Ok(())
        })
    }

    /// ReNotify: possible only with SMS sending on (no SMS really leaves).
    pub(super) fn renotify(&self, id: &str) -> Result<(), Error> {
        self.with_applicant(id, |a| if a.send_sms { Ok(()) } else { Err(Error::sms_disabled()) })
    }

    /// `Completed`: refuses with 120025 while the applicant is open.
    pub(super) fn check_completed(&self, id: &str) -> Result<(), Error> {
        self.with_applicant(id, |a| if a.completed { Ok(()) } else { Err(Error::not_completed(id)) })
    }

    /// Runs `f` on the applicants `query` selects, in its order, and their total.
    pub(super) fn list<T>(&self, query: &ListQuery, f: impl FnOnce(&[&Applicant], usize) -> T) -> T {
        let store = lock(&self.store);
        let mut items: Vec<&Applicant> = store
            .applicants
            .values()
            .filter(|a| query.created_from.is_none_or(|from| a.created.date() >= from))
            .filter(|a| query.created_to.is_none_or(|to| a.created.date() <= to))
            .filter(|a| query.text.as_deref().is_none_or(|t| a.matches_text(t)))
            .collect();
        // Newest first unless a sort field is given; ties keep that order.
        items.sort_by_key(|a| std::cmp::Reverse(a.seq));
        if let Some(field) = query.sort {
            let compare = comparator(field);
            items.sort_by(|a, b| compare(a, b));
            if query.descending {
                items.reverse();
            }
        }
        let total = items.len();
        let skip = (query.page - 1).saturating_mul(query.page_size);
        let page: Vec<&Applicant> = items.into_iter().skip(skip).take(query.page_size).collect();
        f(&page, total)
    }

    /// The seed of an attempt's video (`which` 0: liveness reflection, 1: liveness
    /// action); refuses with 120033 when the attempt has none.
    pub(super) fn video_seed(&self, id: &str, attempt: &str, which: u64) -> Result<u64, Error> {
        self.with_attempt(id, attempt, |_, at| {
            if at.has_video() {
                Ok(u64::try_from(at.id).unwrap_or_default() * 2 + which)
            } else {
                Err(Error::no_video())
            }
        })
    }

    /// A validation call (seed 002): face registration, face authorization or document
    /// verification, by `documentType` and the applicant's state. `f` renders the
    /// result while the applicant is at hand.
    pub(super) fn validate<T>(
        &self,
        v: Validation,
        f: impl FnOnce(&Applicant, &Attempt, u32) -> T,
    ) -> Result<T, Error> {
        let max = self.max_attempts;
        let id = v.applicant_id;
        self.with_applicant_mut(&id, |a, counters| {
            let face = v.face?;
            let (source, passed) = if v.document_type == FACE_ONLY {
                if !a.completed {
                    (Source::Registration, true)
                } else {
                    match &a.face {
                        None => return Err(Error::no_verified_face()),
                        Some(registered) if *registered != face => {
                            return Err(Error::faces_not_the_applicants());
                        }
                        Some(_) => (Source::Authorization, true),
                    }
                }
            } else {
                if a.attempts_used >= max {
                    return Err(Error::all_attempts_used(&id));
                }
                if a.completed {
                    return Err(Error::already_completed(&id));
                }
                (Source::Document, !has_marker(&[&face, &v.front, &v.back]))
            };
            let registers = source != Source::Authorization && passed;
            let new = NewAttempt {
                source,
                document_type: v.document_type,
                passed,
                face: face.clone(),
                front: v.front,
                back: v.back,
            };
            let attempt_id = counters.record(a, new);
            if source != Source::Authorization {
                a.settle(attempt_id, passed, max);
            }
            if registers {
                a.face = Some(face);
            }
            tracing::info!(applicant_id = id, attempt_id, ?source, passed, "sandbox baf: validation");
            let attempt = a.attempt(attempt_id).ok_or_else(|| Error::bad_request("attempt vanished"))?;
            Ok(f(a, attempt, max))
        })
    }

    /// The applicant a short link code stands for.
    pub(super) fn applicant_of(&self, code: &str) -> Option<String> {
        lock(&self.store).short_links.get(code).cloned()
    }

    /// The embedded page is opened: counts it and tells what to show.
    pub(super) fn open_page(&self, id: &str) -> Option<PageView> {
        let mut store = lock(&self.store);
        store.applicants.get_mut(id).map(|a| {
            a.opened_link_times = a.opened_link_times.saturating_add(1);
            PageView { completed: a.completed, status: a.status, attempts_used: a.attempts_used }
        })
    }

    /// The person passes or fails the liveness check on the embedded page: records an
    /// attempt with the sandbox face and moves the applicant.
    pub(super) fn page_attempt(&self, id: &str, passed: bool) -> Result<PageAttempt, PageRefusal> {
        let max = self.max_attempts;
        let mut guard = lock(&self.store);
        let store = &mut *guard;
        let a = store.applicants.get_mut(id).ok_or(PageRefusal::Unknown)?;
        if a.completed {
            return Err(PageRefusal::Closed(a.status));
        }
        let new = NewAttempt {
            source: Source::Page,
            document_type: FACE_ONLY,
            passed,
            face: fake::FACE_JPEG.to_vec(),
            front: Vec::new(),
            back: Vec::new(),
        };
        let attempt_id = store.counters.record(a, new);
        a.settle(attempt_id, passed, max);
        if passed {
            a.face = Some(fake::FACE_JPEG.to_vec());
        }
        Ok(PageAttempt { attempt_id, status: a.status, callback_url: a.callback_url.clone() })
    }
}

type Compare = fn(&Applicant, &Applicant) -> Ordering;

/// How a sort field orders applicants; text compares without case.
fn comparator(field: SortField) -> Compare {
    fn text(a: &Option<String>, b: &Option<String>) -> Ordering {
        a.as_deref().map(str::to_lowercase).cmp(&b.as_deref().map(str::to_lowercase))
    }
    match field {
        SortField::ApplicantId => |a, b| a.id.cmp(&b.id),
        SortField::FirstName => |a, b| text(&a.first_name, &b.first_name),
        SortField::LastName => |a, b| text(&a.last_name, &b.last_name),
        SortField::Phone => |a, b| text(&a.phone, &b.phone),
        SortField::Email => |a, b| text(&a.email, &b.email),
        SortField::ReferenceId => |a, b| text(&a.reference_id, &b.reference_id),
        SortField::Created => |a, b| a.created.cmp(&b.created).then(a.seq.cmp(&b.seq)),
        SortField::Status => |a, b| a.status.cmp(&b.status),
        SortField::StatusName => |a, b| status_name(a.status).cmp(status_name(b.status)),
        SortField::Completed => |a, b| a.completed.cmp(&b.completed),
        SortField::AttemptsUsed => |a, b| a.attempts_used.cmp(&b.attempts_used),
        SortField::AttemptsCount => |a, b| a.attempts.len().cmp(&b.attempts.len()),
        SortField::OpenedLinkTimes => |a, b| a.opened_link_times.cmp(&b.opened_link_times),
        SortField::VerificationMethod => |a, b| a.verification_method.cmp(&b.verification_method),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baf::request;

    fn account() -> Account {
        Account::new(3)
    }

    fn create(account: &Account, body: &str) -> String {
        account.create(request::create(body.as_bytes()).unwrap()).id
    }

    fn validation(id: &str, face: &[u8], front: &[u8], document_type: i64) -> Validation {
        Validation {
            applicant_id: id.into(),
            document_type,
            face: if face.is_empty() { Err(Error::face_required()) } else { Ok(face.to_vec()) },
            front: front.to_vec(),
            back: Vec::new(),
        }
    }

    fn validate(
        account: &Account,
        id: &str,
        face: &[u8],
        front: &[u8],
        document_type: i64,
    ) -> Result<(i64, i64), Error> {
        account.validate(validation(id, face, front, document_type), |_, at, _| (at.id, at.status()))
    }

    fn status(account: &Account, id: &str) -> (i64, bool, u32) {
        account.with_applicant(id, |a| Ok((a.status, a.completed, a.attempts_used))).unwrap()
    }

    #[test]
    fn failing_uses_up_the_attempts_and_open_resets_them() {
        let account = account();
        let id = create(&account, "{}");
        for expected in [FAILED_ATTEMPT, FAILED_ATTEMPT, FAILED] {
            account.page_attempt(&id, false).unwrap();
            assert_eq!(status(&account, &id).0, expected);
        }
        assert_eq!(status(&account, &id), (FAILED, true, 3));
        assert_eq!(account.page_attempt(&id, true).unwrap_err(), PageRefusal::Closed(FAILED));
        assert_eq!(validate(&account, &id, b"face", b"front", 2).unwrap_err(), Error::all_attempts_used(&id));
        account.open(&id).unwrap();
        assert_eq!(status(&account, &id), (PENDING, false, 0));
        assert_eq!(account.open(&id).unwrap_err(), Error::already_unblocked());
    }

    #[test]
    fn passing_on_the_page_completes_and_keeps_the_callback() {
        let account = account();
        let id = create(&account, r#"{"callbackUrl": "https://example.com/back?x=1"}"#);
        let passed = account.page_attempt(&id, true).unwrap();
        assert_eq!(passed.callback_url.as_deref(), Some("https://example.com/back?x=1"));
        assert_eq!(passed.status, SUCCESS);
        account
            .with_applicant(&id, |a| {
                assert_eq!(a.success_attempt_id, Some(passed.attempt_id));
                assert_eq!(a.attempts[0].face, fake::FACE_JPEG);
                assert!(a.attempts[0].has_video());
                Ok(())
            })
            .unwrap();
        assert_eq!(account.page_attempt("nope", true).unwrap_err(), PageRefusal::Unknown);
    }

    #[test]
    fn face_registration_then_authorization() {
        let account = account();
        let id = create(&account, "{}");
        assert_eq!(validate(&account, &id, b"", b"", FACE_ONLY).unwrap_err(), Error::face_required());
        assert_eq!(validate(&account, &id, b"face-a", b"", FACE_ONLY).unwrap().1, 0);
        assert_eq!(status(&account, &id).0, SUCCESS);
        assert_eq!(validate(&account, &id, b"face-a", b"", FACE_ONLY).unwrap().1, 0, "authorized");
        assert_eq!(
            validate(&account, &id, b"face-b", b"", FACE_ONLY).unwrap_err(),
            Error::faces_not_the_applicants()
        );
        account.update_main_photo(&id, b"face-b".to_vec()).unwrap();
        assert!(validate(&account, &id, b"face-b", b"", FACE_ONLY).is_ok());

        let other = create(&account, "{}");
        account.complete(&other).unwrap();
        assert_eq!(
            validate(&account, &other, b"face-a", b"", FACE_ONLY).unwrap_err(),
            Error::no_verified_face()
        );
        assert_eq!(account.update_main_photo(&other, b"x".to_vec()).unwrap_err(), Error::not_registered());
    }

    #[test]
    fn document_verification_follows_the_marker() {
        let account = account();
        let id = create(&account, "{}");
        assert_eq!(validate(&account, &id, b"face", b"please reject me", 2).unwrap().1, 1);
        assert_eq!(status(&account, &id), (FAILED_ATTEMPT, false, 1));
        assert_eq!(validate(&account, &id, b"face", b"front", 2).unwrap().1, 0);
        assert_eq!(status(&account, &id), (SUCCESS, true, 2));
        assert_eq!(validate(&account, &id, b"face", b"front", 2).unwrap_err(), Error::already_completed(&id));
        assert_eq!(
            validate(&account, "missing", b"face", b"", 2).unwrap_err(),
            Error::applicant_not_found("missing")
        );
    }

    #[test]
    fn updates_keep_the_phone_while_sms_is_on() {
        let account = account();
        let id = create(&account, r#"{"phone": "+998000000000", "sendSms": true, "firstName": "A"}"#);
        assert_eq!(
            account.update(&id, request::update(br#"{"phone": ""}"#).unwrap()).unwrap_err(),
            Error::phone_required()
        );
        account.update(&id, request::update(br#"{"firstName": "", "email": "e@x"}"#).unwrap()).unwrap();
        account
            .with_applicant(&id, |a| {
                assert_eq!((a.first_name.as_deref(), a.email.as_deref()), (None, Some("e@x")));
                assert_eq!(a.phone.as_deref(), Some("+998000000000"));
                Ok(())
            })
            .unwrap();
        assert!(account.renotify(&id).is_ok());
        let quiet = create(&account, "{}");
        assert_eq!(account.renotify(&quiet).unwrap_err(), Error::sms_disabled());
        assert_eq!(account.check_completed(&quiet).unwrap_err(), Error::not_completed(&quiet));
    }

    #[test]
    fn lists_filter_sort_and_page() {
        let account = account();
        for name in ["Charlie", "alpha", "Bravo"] {
            create(&account, &format!(r#"{{"firstName": "{name}", "email": "{name}@sandbox.test"}}"#));
        }
        let names = |query: &str| -> Vec<String> {
            let query = request::list(query).unwrap();
            account.list(&query, |items, _| items.iter().filter_map(|a| a.first_name.clone()).collect())
        };
        assert_eq!(names(""), ["Bravo", "alpha", "Charlie"], "newest first");
        assert_eq!(names("SortField=firstName"), ["alpha", "Bravo", "Charlie"]);
        assert_eq!(names("sortField=FirstName&Order=descending"), ["Charlie", "Bravo", "alpha"]);
        assert_eq!(names("TextFilter=ALPHA%40"), ["alpha"]);
        let total =
            account.list(&request::list("Page=2&PageSize=2").unwrap(), |items, total| (items.len(), total));
        assert_eq!(total, (1, 3));
        let today = Utc::now().format("%d-%m-%Y").to_string();
        assert_eq!(names(&format!("CreatedFrom={today}&CreatedTo={today}")).len(), 3);
        assert_eq!(names("CreatedTo=01-01-2000").len(), 0);
    }

    #[test]
    fn videos_exist_only_for_page_attempts() {
        let account = account();
        let id = create(&account, "{}");
        let (attempt, _) = validate(&account, &id, b"face", b"", FACE_ONLY).unwrap();
        assert_eq!(account.video_seed(&id, &attempt.to_string(), 0).unwrap_err(), Error::no_video());
        let id = create(&account, "{}");
        let page = account.page_attempt(&id, true).unwrap();
        let seeds = [0, 1].map(|which| account.video_seed(&id, &page.attempt_id.to_string(), which).unwrap());
        assert_ne!(seeds[0], seeds[1], "two different videos");
        assert_eq!(account.video_seed(&id, "x", 0).unwrap_err(), Error::attempt_not_found("x"));
    }

    #[test]
    fn short_links_and_the_page_count() {
        let account = account();
        let created = account.create(NewApplicant::default());
        assert_eq!(account.applicant_of(&created.short_code), Some(created.id.clone()));
        assert_eq!(
            account.open_page(&created.id),
            Some(PageView { completed: false, status: PENDING, attempts_used: 0 })
        );
        assert_eq!(account.with_applicant(&created.id, |a| Ok(a.opened_link_times)).unwrap(), 1);
        account.delete(&created.id).unwrap();
        assert_eq!(account.applicant_of(&created.short_code), None);
        assert_eq!(account.open_page(&created.id), None);
    }
}
