//! Simulated AbleID (seed 000, `upstreams.md`): sessions for residents and foreigners,
//! the page the person opens, the completion hook to every session hook, and the four
//! data requests whose answers go to the project's static data hooks.
//!
//! As the real service: credentials travel in every JSON body, errors are HTTP 400
//! `{statusCode, type, data: null, message}` in the session's language, sessions live a
//! fixed time and send no hook when they expire, and hooks are signed only by `hash`
//! over the attempt id.
//!
//! - `state`: the sessions and how they end.
//! - `request`: the JSON bodies of the API calls, checked as AbleID checks them.
//! - `catalogue`: AbleID's status codes, types and messages in four languages.
//! - `render`: replies, the completion hook and the data hooks as JSON.
//! - `signature`: the `hash` that signs hooks.
//! - `routes`: the HTTP surface, tying the above together.
//! - `pages`: the session page and its notices.

mod catalogue;
mod pages;
mod render;
mod request;
mod routes;
mod signature;
mod state;

use std::time::Duration;

use url::Url;

use crate::hooks::Deliverer;
use crate::urls::with_segments;
use crate::{ABLEID_PROJECT_ID, ABLEID_SECRET};

pub(crate) use routes::router;

/// The simulated AbleID project: its sessions, where its pages live and where its hooks
/// go.
pub(crate) struct AbleId {
    /// `{public}/sandbox/ableid`: the API base and the root of session pages.
    base: Url,
    /// The project's static data hooks: `{data_hooks}/passport` etc.
    data_hooks: Url,
    sessions: state::Sessions,
    hooks: Deliverer,
    /// The JPEG the photo hook carries.
    photo: Vec<u8>,
    /// Photo hooks sent: numbers a padded photo, so each request brings a photo of its own.
    photos_sent: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for AbleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Sessions hold PINFLs and documents: only their number is printed.
        f.debug_struct("AbleId")
            .field("base", &self.base.as_str())
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

impl AbleId {
    /// A project at `base` whose sessions live `ttl` and whose data hooks are under
    /// `data_hooks`.
    pub(crate) fn new(
        base: Url,
        data_hooks: Url,
        ttl: Duration,
        hooks: Deliverer,
        photo_bytes: Option<usize>,
    ) -> Self {
        let mut photo = crate::fake::FACE_JPEG.to_vec();
        if let Some(size) = photo_bytes {
            photo.resize(size.max(photo.len()), 0);
        }
        Self {
            base,
            data_hooks,
            sessions: state::Sessions::new(ttl),
            hooks,
            photo,
            photos_sent: Default::default(),
        }
    }

    /// The photo for the next photo hook. A photo padded to a size (the `photo_bytes`
    /// option) ends with the hook's number, so two requests bring two different files, as
    /// two photos taken of a person would be; the gateway stores identical ones once.
    fn next_photo(&self) -> std::borrow::Cow<'_, [u8]> {
        let n = self.photos_sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.photo.len() < crate::fake::FACE_JPEG.len() + 8 {
            return std::borrow::Cow::Borrowed(&self.photo);
        }
        let mut photo = self.photo.clone();
        let tail = photo.len() - 8;
        photo[tail..].copy_from_slice(&n.to_be_bytes());
        std::borrow::Cow::Owned(photo)
    }

    /// The page a session's person opens: the `fullUrl`.
    fn session_url(&self, attempt_id: &str) -> Url {
        with_segments(&self.base, &["session", attempt_id])
    }

    /// Where the answer to a data request goes.
    fn data_hook_url(&self, which: Data) -> Url {
        with_segments(&self.data_hooks, &[which.hook()])
    }

    /// The `hash` of every hook about `attempt_id`.
    fn hash(&self, attempt_id: &str) -> String {
        signature::hook_hash(ABLEID_PROJECT_ID, ABLEID_SECRET, attempt_id)
    }
}

/// The four data requests and the data hook each answers on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Data {
    Passport,
    Photo,
    Registration,
    Person,
}

impl Data {
    /// The last segment of the data hook's URL; also the delivery's name in logs.
    fn hook(self) -> &'static str {
        match self {
            Data::Passport => "passport",
            Data::Photo => "photo",
            Data::Registration => "registration",
            Data::Person => "person",
        }
    }
}

/// The session languages (`lang`). `uz` is written in Cyrillic and `oz` (o'zbekcha) in
/// Latin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Lang {
    /// AbleID's default.
    #[default]
    Ru,
    En,
    Uz,
    Oz,
}

impl Lang {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            "uz" => Some(Lang::Uz),
            "oz" => Some(Lang::Oz),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
            Lang::Uz => "uz",
            Lang::Oz => "oz",
        }
    }

    /// One of four translations, in the order ru, en, uz, oz.
    fn pick(self, texts: [&'static str; 4]) -> &'static str {
        let [ru, en, uz, oz] = texts;
        match self {
            Lang::Ru => ru,
            Lang::En => en,
            Lang::Uz => uz,
            Lang::Oz => oz,
        }
    }
}
