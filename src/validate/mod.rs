//! Local checks of request fields, run before any vendor call.
//!
//! Each check adds a field violation to [`Violations`] instead of returning early, so a
//! caller learns every problem of a request at once. Descriptions name the rule, never
//! the value: values are personal data.

use chrono::NaiveDate;
use url::Url;

use crate::error::ApiError;

pub mod outbound;

/// Field violations collected while checking one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<(String, String)>);

impl Violations {
    /// Records that `field` breaks a rule.
    pub fn add(&mut self, field: &str, description: impl Into<String>) {
        self.0.push((field.to_owned(), description.into()));
    }

    /// Checks that a required string is present; returns whether it is.
    pub fn require(&mut self, field: &str, value: &str) -> bool {
        if value.trim().is_empty() {
            self.add(field, "is required");
            false
        } else {
            true
        }
    }

    /// `Ok` when nothing was recorded, else `INVALID_ARGUMENT` with every violation.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::invalid(self.0)) }
    }
}

/// Checks a vendor object id that becomes a URL path segment: 1–128 characters of
/// `A–Z a–z 0–9 _ - . ~`, and not `.` or `..`, so it can never change the path.
pub fn id(v: &mut Violations, field: &str, value: &str) {
    if !v.require(field, value) {
        return;
    }
    let charset = value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'~'));
    if value.len() > 128 || !charset || value.bytes().all(|b| b == b'.') {
        v.add(field, "must be 1-128 characters of A-Z a-z 0-9 _ - . ~");
    }
}

/// Checks an AbleID/BAF caller id: present, at most `max` characters.
pub fn bounded(v: &mut Violations, field: &str, value: &str, max: usize) {
    if v.require(field, value) && value.chars().count() > max {
        v.add(field, format!("must be at most {max} characters"));
    }
}

/// Checks AbleID's `birthDate`, `DD.MM.YYYY`, a real date not in the future.
pub fn birth_date(v: &mut Violations, field: &str, value: &str) -> Option<NaiveDate> {
    if !v.require(field, value) {
        return None;
    }
    let date = (value.len() == 10).then(|| NaiveDate::parse_from_str(value, "%d.%m.%Y").ok()).flatten();
    match date {
        Some(date) if date <= chrono::Utc::now().date_naive() => Some(date),
        Some(_) => {
            v.add(field, "must not be in the future");
            None
        }
        None => {
            v.add(field, "must be a real date as DD.MM.YYYY");
            None
        }
    }
}

/// Checks a PINFL: 14 digits; the first gives the century (1/2: 18xx, 3/4: 19xx,
/// 5/6: 20xx) and digits 2–7 the birth date as DDMMYY, which must agree with
/// `birth_date` when one is given.
pub fn pinfl(v: &mut Violations, field: &str, value: &str, birth_date: Option<NaiveDate>) {
    if !v.require(field, value) {
        return;
    }
    if value.len() != 14 || !value.bytes().all(|b| b.is_ascii_digit()) {
        v.add(field, "must be 14 digits");
        return;
    }
    let digit = |i: usize| i32::from(value.as_bytes()[i] - b'0');
    let century = match digit(0) {
        1 | 2 => 1800,
        3 | 4 => 1900,
        5 | 6 => 2000,
        _ => {
            v.add(field, "first digit must be 1-6 (sex and century)");
            return;
        }
    };
    let number = |i: usize| digit(i) * 10 + digit(i + 1);
    let embedded = NaiveDate::from_ymd_opt(century + number(5), number(3) as u32, number(1) as u32);
    match (embedded, birth_date) {
        (None, _) => v.add(field, "digits 2-7 must be a real date (DDMMYY)"),
        (Some(embedded), Some(birth)) if embedded != birth => {
            v.add(field, "does not agree with birth_date");
        }
        _ => {}
    }
}

/// Checks AbleID's `lang`: empty (AbleID's default) or one of `ru en uz oz`.
pub fn lang(v: &mut Violations, field: &str, value: &str) {
    if !value.is_empty() && !matches!(value, "ru" | "en" | "uz" | "oz") {
        v.add(field, "must be one of ru, en, uz, oz");
    }
}

/// Checks an optional `DD-MM-YYYY` date (BAF's list filters).
pub fn optional_dash_date(v: &mut Violations, field: &str, value: &str) {
    if !value.is_empty() && NaiveDate::parse_from_str(value, "%d-%m-%Y").is_err() {
        v.add(field, "must be a real date as DD-MM-YYYY");
    }
}

/// Checks an optional number against an inclusive range.
pub fn range(v: &mut Violations, field: &str, value: Option<i32>, min: i32, max: i32) {
    if let Some(value) = value
        && !(min..=max).contains(&value)
    {
        v.add(field, format!("must be from {min} to {max}"));
    }
}

/// Checks an optional value against a fixed set.
pub fn one_of(v: &mut Violations, field: &str, value: &str, allowed: &[&str]) {
    if !value.is_empty() && !allowed.contains(&value) {
        v.add(field, format!("must be one of {}", allowed.join(", ")));
    }
}

/// Checks a URL a person's browser is sent to (BAF's `callbackUrl`): absolute, http or
/// https, no credentials. Browsers, not the gateway or a vendor, follow it, so private
/// hosts are fine; URLs a vendor calls are checked by [`outbound`].
pub fn redirect_url(v: &mut Violations, field: &str, value: &str) {
    match Url::parse(value) {
        Ok(url) if value.len() <= outbound::MAX_URL_BYTES && matches!(url.scheme(), "http" | "https") => {
            if !url.username().is_empty() || url.password().is_some() {
                v.add(field, "must not hold credentials");
            }
        }
        _ => v.add(field, "must be an absolute http or https URL of at most 2048 characters"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violations(check: impl FnOnce(&mut Violations)) -> Vec<String> {
        let mut v = Violations::default();
        check(&mut v);
        v.0.into_iter().map(|(f, d)| format!("{f}: {d}")).collect()
    }

    #[test]
    fn pinfl_must_agree_with_the_birth_date() {
        let birth = NaiveDate::from_ymd_opt(1990, 5, 12);
        assert!(violations(|v| pinfl(v, "pinfl", "31205901234567", birth)).is_empty());
        assert_eq!(
            violations(|v| pinfl(v, "pinfl", "31205911234567", birth)),
            ["pinfl: does not agree with birth_date"]
        );
        // 5/6 means the 2000s.
        let birth = NaiveDate::from_ymd_opt(2001, 2, 3);
        assert!(violations(|v| pinfl(v, "pinfl", "60302011234567", birth)).is_empty());
        assert_eq!(violations(|v| pinfl(v, "pinfl", "1234", None)), ["pinfl: must be 14 digits"]);
        assert_eq!(
            violations(|v| pinfl(v, "pinfl", "93205901234567", None)),
            ["pinfl: first digit must be 1-6 (sex and century)"]
        );
        assert_eq!(
            violations(|v| pinfl(v, "pinfl", "33102901234567", None)),
            ["pinfl: digits 2-7 must be a real date (DDMMYY)"]
        );
        assert_eq!(violations(|v| pinfl(v, "pinfl", "", None)), ["pinfl: is required"]);
        assert_eq!(violations(|v| pinfl(v, "pinfl", "3120590123456٣", None)), ["pinfl: must be 14 digits"]);
    }

    #[test]
    fn birth_date_is_a_real_past_date() {
        assert!(
            violations(|v| {
                birth_date(v, "d", "12.05.1990");
            })
            .is_empty()
        );
        for bad in ["31.02.1990", "1990-05-12", "12.5.1990", "12.05.3990", "x"] {
            assert_eq!(
                violations(|v| {
                    birth_date(v, "d", bad);
                })
                .len(),
                1,
                "{bad}"
            );
        }
    }

    #[test]
    fn ids_cannot_change_the_path() {
        assert!(violations(|v| id(v, "id", "3HQVkBm_zCZqKFbTWVrhf")).is_empty());
        assert!(violations(|v| id(v, "id", "3fa85f64-5717-4562-b3fc-2c963f66afa6")).is_empty());
        for bad in ["..", ".", "a/b", "a?b", "a%2fb", "a b", &"x".repeat(129)] {
            assert_eq!(violations(|v| id(v, "id", bad)).len(), 1, "{bad}");
        }
    }

    #[test]
    fn redirect_urls_are_absolute_http_without_credentials() {
        assert!(violations(|v| redirect_url(v, "u", "http://127.0.0.1:8080/back")).is_empty());
        for bad in
            ["/relative", "ftp://shop.example/", "https://user:pw@shop.example/", "javascript:alert(1)"]
        {
            assert_eq!(violations(|v| redirect_url(v, "u", bad)).len(), 1, "{bad}");
        }
    }

    #[test]
    fn lang_range_and_dates() {
        assert!(violations(|v| lang(v, "lang", "oz")).is_empty());
        assert!(violations(|v| lang(v, "lang", "")).is_empty());
        assert_eq!(violations(|v| lang(v, "lang", "de")).len(), 1);
        assert_eq!(violations(|v| range(v, "n", Some(401), 1, 400)).len(), 1);
        assert!(violations(|v| range(v, "n", None, 1, 400)).is_empty());
        assert!(violations(|v| optional_dash_date(v, "d", "06-02-2023")).is_empty());
        assert_eq!(violations(|v| optional_dash_date(v, "d", "2023-02-06")).len(), 1);
    }
}
