//! Deterministic fake data: identities derived from a session's PINFL or document,
//! a tiny JPEG, pseudo-videos, and random ids in the vendors' formats.
//!
//! Every name here is made up ("sinov", "namuna" and "misol" are Uzbek for "test",
//! "sample" and "example"); nothing describes a real person. The same input always
//! gives the same data, so tests can assert on it.

use chrono::{Datelike, Months, NaiveDate};
use rand::Rng;
use sha1::{Digest, Sha1};

/// A 24×24 baseline JPEG of a cartoon face, used as every simulated photo.
pub(crate) const FACE_JPEG: &[u8] = include_bytes!("face.jpg");

/// A random id of `len` characters from `A–Z a–z 0–9 _ -` (AbleID's attempt ids look
/// like nanoids).
pub(crate) fn nanoid(len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut rng = rand::rng();
    (0..len).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

/// A random version-4 UUID in its usual text form.
pub(crate) fn uuid_v4() -> String {
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The CRC-32 (IEEE) of `bytes`, as AbleID's photo hook carries a `crc`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Bytes that look like an MP4 file (an `ftyp` box, then one `mdat` box of
/// pseudo-random bytes), `len` long, the same for the same `seed`.
pub(crate) fn video(seed: u64, len: usize) -> Vec<u8> {
    const FTYP: &[u8] = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41";
    let mut out = Vec::with_capacity(len.max(FTYP.len() + 8));
    out.extend_from_slice(FTYP);
    let mdat = u32::try_from(len.saturating_sub(FTYP.len())).unwrap_or(u32::MAX);
    out.extend_from_slice(&mdat.to_be_bytes());
    out.extend_from_slice(b"mdat");
    // xorshift64*: cheap, and a fixed seed gives fixed bytes.
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len.max(FTYP.len() + 8));
    out
}

/// The size of a simulated video: a few hundred KiB, so downloads come in many chunks.
pub(crate) fn video_len(seed: u64) -> usize {
    256 * 1024 + (seed % 128) as usize * 1024 + 123
}

/// A fake person, derived from a PINFL or a foreign document number.
#[derive(Clone)]
pub(crate) struct Identity {
    pub pinfl: String,
    pub surname: String,
    pub name: String,
    pub patronymic: String,
    /// 1 male, 2 female (AbleID's `sex`).
    pub sex: i64,
    pub birth_date: NaiveDate,
    pub document: String,
    pub foreign: bool,
    digest: [u8; 20],
}

const MALE: &[&str] = &["SARDOR", "JASUR", "BOBUR", "OTABEK", "SHERZOD", "AKMAL"];
const FEMALE: &[&str] = &["MALIKA", "NILUFAR", "DILNOZA", "SEVARA", "GULNORA", "ZARINA"];
const SURNAMES: &[&str] = &["SINOVOV", "NAMUNAEV", "MISOLOV", "SANDBOXOV"];
const FATHERS: &[&str] = &["RUSTAM", "ALISHER", "FARRUX", "ULUGBEK", "TIMUR"];

impl Identity {
    /// A resident: the PINFL gives sex (odd first digit: male) and the birth date
    /// comes from the session.
    pub(crate) fn resident(pinfl: &str, birth_date: NaiveDate) -> Self {
        let digest = digest(pinfl);
        let male = pinfl.as_bytes().first().is_some_and(|d| (d - b'0') % 2 == 1);
        let document = format!("AD{:07}", number(&digest, 0) % 10_000_000);
        Self::build(digest, male, birth_date, pinfl.to_owned(), document, false)
    }

    /// A foreigner: everything but the document number is derived from it, including
    /// a PINFL that follows the century and date rules.
    pub(crate) fn foreigner(document: &str) -> Self {
        let digest = digest(document);
        let male = digest[0].is_multiple_of(2);
        let birth_date = NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|d| d.checked_add_days(chrono::Days::new(number(&digest, 4) % 12_000)))
            .unwrap_or_default();
        let century = if birth_date.year() >= 2000 { 5 } else { 3 };
        let first = if male { century } else { century + 1 };
        let pinfl = format!("{first}{}{:07}", birth_date.format("%d%m%y"), number(&digest, 8) % 10_000_000);
        Self::build(digest, male, birth_date, pinfl, document.to_owned(), true)
    }

    fn build(
        digest: [u8; 20],
        male: bool,
        birth_date: NaiveDate,
        pinfl: String,
        document: String,
        foreign: bool,
    ) -> Self {
        let pick = |list: &[&str], i: usize| list[usize::from(digest[i]) % list.len()].to_owned();
        let surname = pick(SURNAMES, 1);
        let (name, surname, patronymic) = if male {
            (pick(MALE, 2), surname, format!("{} O'G'LI", pick(FATHERS, 3)))
        } else {
            (pick(FEMALE, 2), format!("{surname}A"), format!("{} QIZI", pick(FATHERS, 3)))
        };
        Self {
            pinfl,
            surname,
            name,
            patronymic,
            sex: if male { 1 } else { 2 },
            birth_date,
            document,
            foreign,
            digest,
        }
    }

    /// A number from the identity's digest, for ids and dates.
    pub(crate) fn number(&self, at: usize) -> u64 {
        number(&self.digest, at)
    }

    /// The passport's issue and expiry dates: issued at 16 or in 2016 (whichever is
    /// later) plus up to five years, valid ten years, so it has not expired.
    pub(crate) fn passport_dates(&self) -> (NaiveDate, NaiveDate) {
        let at_16 = self.birth_date.checked_add_months(Months::new(16 * 12)).unwrap_or(self.birth_date);
        let floor = NaiveDate::from_ymd_opt(2016, 1, 1).unwrap_or_default();
        let begin =
            at_16.max(floor).checked_add_days(chrono::Days::new(self.number(12) % 1800)).unwrap_or(floor);
        let end = begin.checked_add_months(Months::new(120)).and_then(|d| d.pred_opt()).unwrap_or(begin);
        (begin, end)
    }
}

fn digest(text: &str) -> [u8; 20] {
    Sha1::digest(text.as_bytes()).into()
}

fn number(digest: &[u8; 20], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = digest[(at + i) % digest.len()];
    }
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn face_is_a_jpeg() {
        assert!(FACE_JPEG.starts_with(&[0xff, 0xd8, 0xff]));
        assert!(FACE_JPEG.ends_with(&[0xff, 0xd9]));
    }

    #[test]
    fn ids_have_the_vendors_formats() {
        let id = nanoid(21);
        assert_eq!(id.len(), 21);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        assert_ne!(nanoid(21), id);
        let uuid = uuid_v4();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert_eq!(uuid.matches('-').count(), 4);
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn videos_are_deterministic_mp4_lookalikes() {
        let len = video_len(7);
        let a = video(7, len);
        assert_eq!(a.len(), len);
        assert_eq!(&a[4..8], b"ftyp");
        assert_eq!(a, video(7, len));
        assert_ne!(a, video(8, len));
    }

    #[test]
    fn identities_are_deterministic_and_consistent() {
        let birth = NaiveDate::from_ymd_opt(1990, 5, 15).unwrap();
        let a = Identity::resident("31505901234567", birth);
        let b = Identity::resident("31505901234567", birth);
        assert_eq!(
            (a.surname.as_str(), a.name.as_str(), a.document.as_str()),
            (b.surname.as_str(), b.name.as_str(), b.document.as_str())
        );
        assert_eq!(a.sex, 1);
        assert_eq!(Identity::resident("41505901234567", birth).sex, 2);
        let (begin, end) = a.passport_dates();
        assert!(begin >= NaiveDate::from_ymd_opt(2016, 1, 1).unwrap() && end > begin);

        let f = Identity::foreigner("FA1234567");
        assert!(f.foreign);
        assert_eq!(f.pinfl.len(), 14);
        assert_eq!(&f.pinfl[1..7], f.birth_date.format("%d%m%y").to_string());
    }
}
