//! Request validation: the PINFL and birth-date rules, ids that become URL path segments,
//! bounded strings, and caller URLs a vendor would call (special-purpose addresses are
//! refused in every spelling).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{Datelike, NaiveDate};
use idv_gateway::validate::outbound::{
    IPV4_SPECIAL, IPV6_SPECIAL, OutboundPolicy, check_syntax, special_purpose,
};
use idv_gateway::validate::{self, Violations};
use proptest::prelude::*;

use super::{chars, check, text};

pub const PINFL_CASES: u32 = 25_000;
pub const STRING_CASES: u32 = 15_000;
pub const OUTBOUND_CASES: u32 = 10_000;

/// The violations a check adds, as `(field, description)`.
fn violations(check: impl FnOnce(&mut Violations)) -> Vec<(String, String)> {
    let mut v = Violations::default();
    check(&mut v);
    v.finish().err().map(|e| e.violations.clone()).unwrap_or_default()
}

/// A birth date from 1 January 1800 to today.
fn birth_date() -> impl Strategy<Value = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(1800, 1, 1).unwrap();
    let days = (chrono::Utc::now().date_naive() - first).num_days();
    (0..=days).prop_map(move |d| first + chrono::Duration::days(d))
}

/// A PINFL for `date`: a century digit (1/2: 1800s, 3/4: 1900s, 5/6: 2000s), DDMMYY, and
/// seven more digits.
fn pinfl_for(date: NaiveDate, female: bool, rest: &str) -> String {
    let century = match date.year() {
        ..1900 => 1,
        1900..2000 => 3,
        _ => 5,
    } + u32::from(female);
    format!("{century}{}{rest}", date.format("%d%m%y"))
}

#[test]
fn pinfl_and_birth_date() {
    let strategy = (birth_date(), any::<bool>(), chars("0123456789", 7..=7), 1usize..7, 0u8..10, text(16));
    check(PINFL_CASES, strategy, |(date, female, rest, position, digit, noise)| {
        let pinfl = pinfl_for(date, female, &rest);
        let text = date.format("%d.%m.%Y").to_string();
        let checked = |pinfl: &str, text: &str| {
            violations(|v| {
                let birth = validate::birth_date(v, "birth_date", text);
                validate::pinfl(v, "pinfl", pinfl, birth);
            })
        };
        // A real PINFL for the real birth date is accepted; so is the date alone.
        prop_assert_eq!(checked(&pinfl, &text), Vec::<(String, String)>::new());
        prop_assert!(violations(|v| validate::pinfl(v, "pinfl", &pinfl, None)).is_empty());

        // Any change to digits 2-7 (the DDMMYY) is refused, naming the rule.
        let mut changed = pinfl.clone().into_bytes();
        let old = changed[position] - b'0';
        changed[position] = b'0' + if digit == old { (digit + 1) % 10 } else { digit };
        let changed = String::from_utf8(changed).unwrap();
        let found = checked(&changed, &text);
        prop_assert_eq!(found.len(), 1, "{:?}", found);
        prop_assert_eq!(found[0].0.as_str(), "pinfl");
        prop_assert!(
            ["does not agree with birth_date", "digits 2-7 must be a real date (DDMMYY)"]
                .contains(&found[0].1.as_str()),
            "{}",
            found[0].1
        );
        // Messages name rules, never values.
        prop_assert!(!found[0].1.contains(&changed));

        // Any string at all: at most one violation per field, never a panic.
        for pinfl in [noise.as_str(), &format!("{pinfl}{noise}")] {
            let found = checked(pinfl, &noise);
            prop_assert!(found.iter().filter(|(f, _)| f == "pinfl").count() <= 1);
            prop_assert!(found.iter().filter(|(f, _)| f == "birth_date").count() <= 1);
        }
        Ok(())
    });
}

#[test]
fn strings() {
    let text = prop_oneof![
        chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-", 0..=140),
        text(140),
        chars("./%?#", 0..=4),
    ];
    check(STRING_CASES, (text, 1usize..120), |(value, max)| {
        let id = violations(|v| validate::id(v, "id", &value));
        let charset =
            value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'~'));
        let dots = value.bytes().all(|b| b == b'.');
        let valid_id = !value.trim().is_empty() && value.len() <= 128 && charset && !dots;
        prop_assert_eq!(id.is_empty(), valid_id, "{:?}: {:?}", value, id);
        prop_assert!(id.len() <= 1);
        prop_assert!(id.iter().all(|(field, _)| field == "id"));

        let bounded = violations(|v| validate::bounded(v, "name", &value, max));
        let valid = !value.trim().is_empty() && value.chars().count() <= max;
        prop_assert_eq!(bounded.is_empty(), valid);
        prop_assert!(bounded.len() <= 1);
        Ok(())
    });
}

fn in_net(network: u128, prefix: u8, bits: u128, width: u32) -> u128 {
    let host = if u32::from(prefix) >= width { 0 } else { (u128::MAX >> (128 - width)) >> prefix };
    (network & !host) | (bits & host)
}

/// Any address inside a special-purpose range, or any address at all.
fn address() -> impl Strategy<Value = IpAddr> {
    let v4 = (prop::sample::select(IPV4_SPECIAL.to_vec()), any::<u32>()).prop_map(|((net, _), bits)| {
        let ip = in_net(u32::from(net.network()).into(), net.prefix_len(), bits.into(), 32);
        IpAddr::V4(Ipv4Addr::from(ip as u32))
    });
    let v6 = (prop::sample::select(IPV6_SPECIAL.to_vec()), any::<u128>()).prop_map(|((net, _), bits)| {
        IpAddr::V6(Ipv6Addr::from(in_net(u128::from(net.network()), net.prefix_len(), bits, 128)))
    });
    prop_oneof![v4, v6, any::<Ipv4Addr>().prop_map(IpAddr::V4), any::<Ipv6Addr>().prop_map(IpAddr::V6)]
}

/// Every spelling of an address the URL parser folds into it.
fn spellings(ip: IpAddr) -> Vec<String> {
    match ip {
        IpAddr::V4(v4) => {
            let n = u32::from(v4);
            let [a, b, c, d] = v4.octets();
            vec![
                format!("{v4}"),
                format!("{n}"),
                format!("{n:#x}"),
                format!("0{a:o}.0{b:o}.0{c:o}.0{d:o}"),
                format!("[{}]", v4.to_ipv6_mapped()),
                format!("{v4}."),
            ]
        }
        IpAddr::V6(v6) => vec![format!("[{v6}]")],
    }
}

/// An address in a special-purpose range is refused however it is written, with any path
/// and port; any other address is accepted on https:443 and refused on another port.
#[test]
fn outbound() {
    let strict = OutboundPolicy::default();
    check(
        OUTBOUND_CASES,
        (
            address(),
            prop::collection::vec(chars("abcdefghijklmnopqrstuvwxyz0123456789", 0..=8), 0..=3),
            any::<u16>(),
        ),
        |(ip, segments, port)| {
            let path: String = segments.iter().map(|s| format!("/{s}")).collect();
            let special = special_purpose(ip).is_some();
            for host in spellings(ip) {
                let urls = [
                    (format!("https://{host}{path}"), true),
                    (format!("https://{host}:{port}{path}"), port == 443),
                ];
                for (url, default_port) in urls {
                    let mut v = Violations::default();
                    let accepted = check_syntax(&mut v, "hooks[0]", &url, &strict).is_some();
                    // An IPv4-mapped IPv6 literal is refused whole, whatever it maps.
                    let mapped = host.starts_with("[::ffff:");
                    prop_assert_eq!(accepted, !special && !mapped && default_port, "{}", url);
                    let found = v.finish().err().map(|e| e.violations.clone()).unwrap_or_default();
                    prop_assert!(
                        found.iter().all(|(field, description)| field == "hooks[0]"
                            && !description.contains(&ip.to_string()))
                    );
                }
            }
            Ok(())
        },
    );
}
