//! Checks of caller-supplied URLs that a vendor will call (AbleID's extra `hooks`): the
//! gateway's defence against server-side request forgery through the vendor.
//!
//! Two stages, each adding violations that name the rule, never the value:
//! 1. [`check_syntax`] never touches the network: scheme, credentials, length, port, IP
//!    literals of every spelling (the `url` crate turns `2130706433`, `0x7f.1`, `0177.0.0.1`
//!    and percent-encoded or full-width digits into one IPv4 address) against the IANA
//!    special-purpose registries, and names that only a private resolver answers
//!    (`localhost`, single labels, `*.internal`, `*.svc.cluster.local`, ...).
//! 2. [`check_resolved`] resolves the name through a [`Resolver`] and refuses it when *any*
//!    of its addresses is special-purpose, or when it cannot be resolved. The latter is a
//!    separate [`Rule`], so a caller may decide to let it through.
//!
//! [`check`] and [`check_all`] run both stages.
//!
//! # What the gateway cannot exclude: DNS rebinding
//! The gateway checks a name when the session starts; AbleID resolves it again, later and
//! from its own network, when it calls the hook. A name whose owner answers with a public
//! address to the gateway and a private one to AbleID (DNS rebinding, or a short TTL) passes
//! this check. A public host that answers AbleID with a redirect to a private address passes it
//! too. Only the vendor could close those gaps, by checking the address it connects to.
//! The real defence is not to accept caller hooks at all: `ableid.allow_caller_hooks` is off
//! by default, and this check is the second line for operators who turn it on.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use async_trait::async_trait;
use ipnet::{Ipv4Net, Ipv6Net};
use serde::Deserialize;
use url::{Host, Url};

use super::Violations;

/// The longest URL accepted, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// Which caller-supplied URLs a vendor may be told to call.
///
/// The default is the safe one: `https` on port 443 to a public host.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundPolicy {
    /// Accept `http:` as well as `https:`; an `http:` URL may then also use port 80.
    pub allow_http: bool,
    /// Accept loopback, private, link-local and every other special-purpose address, local
    /// or cluster-internal names, and any port (for a sandbox whose hooks stay on one
    /// machine, on whatever port a test receiver got).
    pub allow_private: bool,
    /// The ports a URL may name (its scheme's default port when it names none).
    pub allowed_ports: Vec<u16>,
    /// Further name suffixes to refuse, such as the company's own `corp.example.com`.
    pub blocked_suffixes: Vec<String>,
}

impl Default for OutboundPolicy {
    fn default() -> Self {
        Self {
            allow_http: false,
            allow_private: false,
            allowed_ports: vec![443],
            blocked_suffixes: Vec::new(),
        }
    }
}

/// Why [`check_resolved`] refused a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The name resolves to at least one special-purpose address.
    SpecialAddress,
    /// The name could not be resolved (no such name, no address, or the look-up timed out):
    /// it is refused, since what AbleID would reach later cannot be known, but a caller that
    /// prefers to accept such names can tell this case apart.
    Unresolved,
}

/// A refusal by [`check_resolved`], in the gateway's style: a field path and a description
/// naming the rule, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field path, such as `hooks[0]`.
    pub field: String,
    /// What rule the value breaks.
    pub description: String,
    /// Which rule, for callers that treat them differently.
    pub rule: Rule,
}

impl Violation {
    /// Records this violation.
    pub fn add_to(self, v: &mut Violations) {
        v.add(&self.field, self.description);
    }
}

/// Resolves host names to addresses.
#[async_trait]
pub trait Resolver: Send + Sync + fmt::Debug {
    /// Every address `host` resolves to. An error or an empty list means it cannot be resolved.
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<IpAddr>>;
}

/// The system's resolver (`getaddrinfo` through `tokio::net::lookup_host`), with a deadline.
///
/// Search domains apply to names without a trailing dot, as they would for any other
/// program here; that makes the check stricter (`redis.default` may resolve inside a
/// cluster), never looser.
#[derive(Debug, Clone, Copy)]
pub struct SystemResolver {
    /// The longest a look-up may take before the name counts as unresolvable.
    pub timeout: Duration,
}

impl Default for SystemResolver {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(2) }
    }
}

#[async_trait]
impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<IpAddr>> {
        let found = tokio::time::timeout(self.timeout, tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "name look-up timed out"))??;
        Ok(found.map(|addr| addr.ip()).collect())
    }
}

/// A resolver that answers from a fixed map, for tests: names are matched without case and
/// without a trailing dot; a name not in the map does not exist.
#[derive(Debug, Clone, Default)]
pub struct MapResolver(HashMap<String, Vec<IpAddr>>);

impl MapResolver {
    /// Adds `name` with its addresses.
    pub fn with(mut self, name: &str, addresses: &[IpAddr]) -> Self {
        self.0.insert(normalize_name(name), addresses.to_vec());
        self
    }
}

#[async_trait]
impl Resolver for MapResolver {
    async fn resolve(&self, host: &str, _port: u16) -> io::Result<Vec<IpAddr>> {
        self.0.get(&normalize_name(host)).cloned().ok_or_else(|| io::ErrorKind::NotFound.into())
    }
}

fn normalize_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Runs both stages on one URL; returns it when it passed both.
pub async fn check(
    v: &mut Violations,
    field: &str,
    value: &str,
    policy: &OutboundPolicy,
    resolver: &dyn Resolver,
) -> Option<Url> {
    let url = check_syntax(v, field, value, policy)?;
    match check_resolved(field, &url, policy, resolver).await {
        Ok(()) => Some(url),
        Err(violation) => {
            violation.add_to(v);
            None
        }
    }
}

/// Runs both stages on a list of URLs, resolving their names at the same time; the
/// violations name `field[i]`.
pub async fn check_all(
    v: &mut Violations,
    field: &str,
    values: &[String],
    policy: &OutboundPolicy,
    resolver: &dyn Resolver,
) {
    let mut to_resolve = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let path = format!("{field}[{i}]");
        if let Some(url) = check_syntax(v, &path, value, policy) {
            to_resolve.push((path, url));
        }
    }
    let checks = to_resolve.iter().map(|(path, url)| check_resolved(path, url, policy, resolver));
    for violation in futures_util::future::join_all(checks).await.into_iter().filter_map(Result::err) {
        violation.add_to(v);
    }
}

/// The stage that never touches the network. Adds a violation for every rule `value`
/// breaks and returns the parsed URL only when it broke none.
pub fn check_syntax(v: &mut Violations, field: &str, value: &str, policy: &OutboundPolicy) -> Option<Url> {
    // Checked before parsing, so an oversized value costs nothing.
    let parsed = if value.len() <= MAX_URL_BYTES { Url::parse(value).ok() } else { None };
    let url = match parsed {
        Some(url) => url,
        None => {
            v.add(field, format!("must be an absolute URL of at most {MAX_URL_BYTES} characters"));
            return None;
        }
    };
    let mut problems = Vec::new();
    let scheme_ok = match url.scheme() {
        "https" => true,
        "http" if policy.allow_http => true,
        _ => {
            problems
                .push(if policy.allow_http { "must be http or https" } else { "must be https" }.to_owned());
            false
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        problems.push("must not hold credentials".to_owned());
    }
    // The port of a refused scheme is not worth a second message.
    if scheme_ok
        && !policy.allow_private
        && let Some(port) = url.port_or_known_default()
        && !port_allowed(port, url.scheme(), policy)
    {
        problems.push(format!("must use an allowed port ({})", allowed_ports(url.scheme(), policy)));
    }
    match url.host() {
        None => problems.push("must name a host".to_owned()),
        Some(_) if policy.allow_private => {}
        Some(Host::Ipv4(ip)) => problems.extend(literal_problem(IpAddr::V4(ip))),
        Some(Host::Ipv6(ip)) => problems.extend(literal_problem(IpAddr::V6(ip))),
        Some(Host::Domain(name)) => problems.extend(name_problem(name, policy)),
    }
    let clean = problems.is_empty();
    for problem in problems {
        v.add(field, problem);
    }
    clean.then_some(url)
}

/// The stage that resolves the URL's host name, for a URL that passed [`check_syntax`].
/// An IP literal needs no look-up and passes (the syntactic stage checked it).
pub async fn check_resolved(
    field: &str,
    url: &Url,
    policy: &OutboundPolicy,
    resolver: &dyn Resolver,
) -> Result<(), Violation> {
    let Some(Host::Domain(name)) = url.host() else { return Ok(()) };
    if policy.allow_private {
        return Ok(());
    }
    let violation = |rule, description: String| Violation { field: field.to_owned(), description, rule };
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses = match resolver.resolve(name, port).await {
        Ok(addresses) if !addresses.is_empty() => addresses,
        Ok(_) | Err(_) => {
            return Err(violation(
                Rule::Unresolved,
                "must name a public host (its name cannot be resolved)".to_owned(),
            ));
        }
    };
    // Any one special address is enough: the vendor may pick any of them.
    match addresses.into_iter().find_map(resolved_special) {
        None => Ok(()),
        Some(range) => Err(violation(
            Rule::SpecialAddress,
            format!("must name a public host (its name resolves to an address of the {range} range)"),
        )),
    }
}

fn port_allowed(port: u16, scheme: &str, policy: &OutboundPolicy) -> bool {
    policy.allowed_ports.contains(&port) || (scheme == "http" && port == 80 && policy.allow_http)
}

fn allowed_ports(scheme: &str, policy: &OutboundPolicy) -> String {
    let mut ports = policy.allowed_ports.clone();
    if scheme == "http" && policy.allow_http && !ports.contains(&80) {
        ports.push(80);
    }
    if ports.is_empty() {
        return "none".to_owned();
    }
    ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
}

fn literal_problem(ip: IpAddr) -> Option<String> {
    special_purpose(ip).map(|range| format!("must name a public host (not an address of the {range} range)"))
}

/// Names that public DNS does not delegate, so only a private resolver answers them:
/// the special-use names of RFC 6761 (`localhost`, `test`, `invalid`, `example`), RFC 6762
/// (`local`, which covers `cluster.local`), RFC 7686 (`onion`), RFC 8375 (`home.arpa`, covered
/// by `arpa`, which also holds the reverse-lookup zones), RFC 9476 (`alt`), ICANN's private-use
/// `internal` (2024; covers `metadata.google.internal`), Kubernetes' `svc`, and names common
/// on private networks. None is a delegated top-level domain, so refusing them costs no public hook.
const PRIVATE_SUFFIXES: &[&str] = &[
    "localhost",
    "local",
    "internal",
    "localdomain",
    "arpa",
    "svc",
    "lan",
    "home",
    "corp",
    "intranet",
    "private",
    "test",
    "invalid",
    "example",
    "onion",
    "alt",
];

fn name_problem(name: &str, policy: &OutboundPolicy) -> Option<String> {
    // The url crate lowercases names and turns IDNs into punycode; a trailing dot (or
    // several) only makes the name absolute.
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if !name.contains('.') && !PRIVATE_SUFFIXES.contains(&name.as_str()) {
        // `metadata`, `kubernetes`, `redis`: the resolver's search list completes them.
        return Some("must name a public host (a fully qualified name)".to_owned());
    }
    let under = |suffix: &str| {
        let suffix = suffix.trim_matches('.');
        !suffix.is_empty()
            && (name == suffix || name.strip_suffix(suffix).is_some_and(|rest| rest.ends_with('.')))
    };
    if let Some(suffix) = PRIVATE_SUFFIXES.iter().find(|s| under(s)) {
        return Some(format!("must name a public host (not a name under .{suffix})"));
    }
    if policy.blocked_suffixes.iter().any(|s| under(&s.to_ascii_lowercase())) {
        return Some("must name a public host (not a name under a blocked suffix)".to_owned());
    }
    None
}

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(s: [u16; 8], prefix: u8) -> Ipv6Net {
    Ipv6Net::new_assert(Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]), prefix)
}

/// Every entry of the IANA IPv4 Special-Purpose Address Registry
/// (<https://www.iana.org/assignments/iana-ipv4-special-registry/>, RFC 6890 and its updates),
/// including those marked globally reachable (PCP and TURN anycast inside 192.0.0.0/24, AMT,
/// AS112): no vendor hook lives at a relay or a reverse-DNS sink. Plus multicast (RFC 5771,
/// IANA's multicast registry) and the 6to4 relay anycast block (RFC 7526). The first match names
/// the range, so the broadcast address comes before the reserved block that holds it.
pub const IPV4_SPECIAL: &[(Ipv4Net, &str)] = &[
    (v4(0, 0, 0, 0, 8), "this-network"),
    (v4(10, 0, 0, 0, 8), "private"),
    (v4(100, 64, 0, 0, 10), "shared (carrier-grade NAT)"),
    (v4(127, 0, 0, 0, 8), "loopback"),
    (v4(169, 254, 0, 0, 16), "link-local"),
    (v4(172, 16, 0, 0, 12), "private"),
    (v4(192, 0, 0, 0, 24), "IETF protocol assignment"),
    (v4(192, 0, 2, 0, 24), "documentation (TEST-NET-1)"),
    (v4(192, 31, 196, 0, 24), "AS112"),
    (v4(192, 52, 193, 0, 24), "AMT"),
    (v4(192, 88, 99, 0, 24), "6to4 relay anycast"),
    (v4(192, 168, 0, 0, 16), "private"),
    (v4(192, 175, 48, 0, 24), "AS112"),
    (v4(198, 18, 0, 0, 15), "benchmarking"),
    (v4(198, 51, 100, 0, 24), "documentation (TEST-NET-2)"),
    (v4(203, 0, 113, 0, 24), "documentation (TEST-NET-3)"),
    (v4(224, 0, 0, 0, 4), "multicast"),
    (v4(255, 255, 255, 255, 32), "broadcast"),
    (v4(240, 0, 0, 0, 4), "reserved"),
];

/// Every entry of the IANA IPv6 Special-Purpose Address Registry
/// (<https://www.iana.org/assignments/iana-ipv6-special-registry/>, RFC 6890 and its updates),
/// again including the globally reachable ones, plus the non-unicast blocks of the IPv6 Address
/// Space registry (<https://www.iana.org/assignments/ipv6-address-space/>): site-local
/// `fec0::/10` (deprecated by RFC 3879 but still routed by some stacks) and multicast.
/// Whole ranges are refused, not just their embedded IPv4 address: no caller needs to spell a
/// hook as `::ffff:a.b.c.d`, `64:ff9b::a.b.c.d` or `2002:aabb:ccdd::`, and the embedded forms
/// are how SSRF filters are usually passed. After this table, anything outside `2000::/3`
/// (the only block allocated for global unicast) is refused as reserved.
pub const IPV6_SPECIAL: &[(Ipv6Net, &str)] = &[
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 128), "unspecified"),
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), "loopback"),
    (v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96), "IPv4-mapped"),
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 96), "IPv4-compatible"),
    (v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96), "NAT64"),
    (v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), "NAT64 local-use"),
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), "discard-only"),
    (v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64), "dummy-prefix"),
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32), "Teredo"),
    (v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48), "benchmarking"),
    (v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32), "AMT"),
    (v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48), "AS112"),
    (v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28), "ORCHID"),
    (v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28), "ORCHIDv2"),
    (v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28), "drone remote ID"),
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), "IETF protocol assignment"),
    (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), "documentation"),
    (v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16), "6to4"),
    (v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48), "AS112"),
    (v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), "documentation"),
    (v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), "segment-routing SID"),
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), "unique-local"),
    (v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), "link-local"),
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), "site-local"),
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), "multicast"),
];

const GLOBAL_UNICAST: Ipv6Net = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);
const NAT64_WELL_KNOWN: Ipv6Net = v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96);

/// The name of the special-purpose range that holds `ip`, or `None` for a public unicast
/// address.
pub fn special_purpose(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => IPV4_SPECIAL.iter().find(|(net, _)| net.contains(&ip)).map(|(_, name)| *name),
        IpAddr::V6(ip) => IPV6_SPECIAL
            .iter()
            .find(|(net, _)| net.contains(&ip))
            .map(|(_, name)| *name)
            .or_else(|| (!GLOBAL_UNICAST.contains(&ip)).then_some("reserved")),
    }
}

/// Like [`special_purpose`], for an address a resolver returned: a NAT64 address with the
/// well-known prefix is what DNS64 makes of a public IPv4-only name on an IPv6-only network,
/// so it is judged by the IPv4 address it embeds (RFC 6052). A literal in that form is still
/// refused whole.
fn resolved_special(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V6(v6) if NAT64_WELL_KNOWN.contains(&v6) => {
            let [.., a, b, c, d] = v6.octets();
            special_purpose(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
        }
        _ => special_purpose(ip),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax(value: &str, policy: &OutboundPolicy) -> Vec<String> {
        let mut v = Violations::default();
        let url = check_syntax(&mut v, "hooks[0]", value, policy);
        assert_eq!(url.is_some(), v.0.is_empty(), "a URL is returned exactly when nothing was found");
        v.0.into_iter().map(|(f, d)| format!("{f}: {d}")).collect()
    }

    fn strict(value: &str) -> Vec<String> {
        syntax(value, &OutboundPolicy::default())
    }

    /// One refused form per test, named after what it tries: each must be refused by the
    /// syntactic stage alone, with a description that does not repeat the value.
    macro_rules! refused {
        ($($name:ident: $url:expr => $rule:expr;)*) => {$(
            #[test]
            fn $name() {
                let found = strict($url);
                assert!(!found.is_empty(), "{} was accepted", $url);
                assert!(
                    found.iter().any(|d| d.contains($rule)),
                    "{}: expected a violation containing {:?}, got {found:?}",
                    $url,
                    $rule
                );
                for d in &found {
                    assert!(d.starts_with("hooks[0]: "), "{d}");
                    let host = Url::parse($url).ok().and_then(|u| u.host_str().map(str::to_owned));
                    // A host that is itself a rule's suffix (`localhost`) is named by the rule.
                    let named_by_rule = |h: &String| PRIVATE_SUFFIXES.contains(&h.trim_end_matches('.'));
                    if let Some(host) = host.filter(|h| h.len() > 3 && !named_by_rule(h)) {
                        assert!(!d.contains(&host), "the description repeats the value: {d}");
                    }
                }
            }
        )*};
    }

    refused! {
        ipv4_loopback: "https://127.0.0.1/x" => "loopback";
        ipv4_loopback_elsewhere_in_8: "https://127.8.9.10/" => "loopback";
        ipv4_loopback_decimal: "https://2130706433/" => "loopback";
        ipv4_loopback_hex: "https://0x7f000001/" => "loopback";
        ipv4_loopback_octal: "https://0177.0.0.1/" => "loopback";
        ipv4_loopback_short: "https://127.1/" => "loopback";
        ipv4_loopback_percent_encoded: "https://%31%32%37.0.0.1/" => "loopback";
        ipv4_loopback_fullwidth_digits: "https://\u{ff11}\u{ff12}\u{ff17}.0.0.1/" => "loopback";
        ipv4_metadata_link_local: "https://169.254.169.254/latest/meta-data" => "link-local";
        ipv4_private_10: "https://10.1.2.3/" => "private";
        ipv4_private_172: "https://172.31.255.1/" => "private";
        ipv4_private_192: "https://192.168.1.1/" => "private";
        ipv4_this_network: "https://0.0.0.0/" => "this-network";
        ipv4_this_network_other: "https://0.1.2.3/" => "this-network";
        ipv4_shared_cgnat: "https://100.64.0.1/" => "carrier-grade NAT";
        ipv4_ietf_assignments: "https://192.0.0.9/" => "IETF protocol assignment";
        ipv4_test_net_1: "https://192.0.2.1/" => "TEST-NET-1";
        ipv4_test_net_2: "https://198.51.100.7/" => "TEST-NET-2";
        ipv4_test_net_3: "https://203.0.113.9/" => "TEST-NET-3";
        ipv4_benchmarking: "https://198.19.1.1/" => "benchmarking";
        ipv4_as112: "https://192.31.196.1/" => "AS112";
        ipv4_as112_direct: "https://192.175.48.6/" => "AS112";
        ipv4_amt: "https://192.52.193.1/" => "AMT";
        ipv4_6to4_relay: "https://192.88.99.1/" => "6to4 relay";
        ipv4_multicast: "https://224.0.0.1/" => "multicast";
        ipv4_reserved: "https://240.0.0.1/" => "reserved";
        ipv4_broadcast: "https://255.255.255.255/" => "broadcast";
        ipv6_loopback: "https://[::1]/" => "loopback";
        ipv6_unspecified: "https://[::]/" => "unspecified";
        ipv6_compatible_loopback: "https://[::127.0.0.1]/" => "IPv4-compatible";
        ipv6_mapped_private: "https://[::ffff:10.0.0.1]/" => "IPv4-mapped";
        ipv6_mapped_public_too: "https://[::ffff:1.1.1.1]/" => "IPv4-mapped";
        ipv6_nat64_metadata: "https://[64:ff9b::a9fe:a9fe]/" => "NAT64";
        ipv6_nat64_local_use: "https://[64:ff9b:1::a00:1]/" => "NAT64 local-use";
        ipv6_6to4_loopback: "https://[2002:7f00:1::]/" => "6to4";
        ipv6_teredo: "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/" => "Teredo";
        ipv6_benchmarking: "https://[2001:2::1]/" => "benchmarking";
        ipv6_orchid: "https://[2001:10::1]/" => "ORCHID";
        ipv6_orchid_v2: "https://[2001:20::1]/" => "ORCHIDv2";
        ipv6_ietf_assignments: "https://[2001:1::1]/" => "IETF protocol assignment";
        ipv6_as112: "https://[2620:4f:8000::42]/" => "AS112";
        ipv6_documentation: "https://[2001:db8::1]/" => "documentation";
        ipv6_documentation_3fff: "https://[3fff:1::1]/" => "documentation";
        ipv6_discard_only: "https://[100::1]/" => "discard-only";
        ipv6_site_local: "https://[fec0::1]/" => "site-local";
        ipv6_unique_local: "https://[fd00::1]/" => "unique-local";
        ipv6_link_local: "https://[fe80::1]/" => "link-local";
        ipv6_multicast: "https://[ff02::1]/" => "multicast";
        ipv6_srv6: "https://[5f00::1]/" => "segment-routing";
        ipv6_unallocated: "https://[4000::1]/" => "reserved";
        name_localhost: "https://localhost/" => "not a name under .localhost";
        name_localhost_trailing_dot: "https://localhost./" => "not a name under .localhost";
        name_localhost_upper_case: "https://LOCALHOST/" => "not a name under .localhost";
        name_under_localhost: "https://evil.localhost/" => "not a name under .localhost";
        name_single_label: "https://metadata/" => "a fully qualified name";
        name_single_label_trailing_dot: "https://kubernetes./" => "a fully qualified name";
        name_gcp_metadata: "https://metadata.google.internal/computeMetadata/v1/" => ".internal";
        name_gcp_metadata_trailing_dot: "https://Metadata.Google.Internal./" => ".internal";
        name_cluster_service: "https://api.default.svc.cluster.local/" => ".local";
        name_cluster_service_short: "https://api.default.svc/" => ".svc";
        name_mdns: "https://printer.local/" => ".local";
        name_home_arpa: "https://router.home.arpa/" => ".arpa";
        name_localdomain: "https://box.localdomain/" => ".localdomain";
        name_lan: "https://nas.lan/" => ".lan";
        name_intranet: "https://wiki.intranet/" => ".intranet";
        name_corp: "https://git.corp/" => ".corp";
        name_test_tld: "https://hooks.test/" => ".test";
        name_onion: "https://abc.onion/" => ".onion";
        port_ssh: "https://hooks.example.com:22/" => "must use an allowed port (443)";
        port_alternate_https: "https://hooks.example.com:8443/" => "must use an allowed port (443)";
        port_https_on_80: "https://hooks.example.com:80/" => "must use an allowed port (443)";
        scheme_http: "http://hooks.example.com/x" => "must be https";
        scheme_ftp: "ftp://hooks.example.com/" => "must be https";
        scheme_file: "file:///etc/passwd" => "must be https";
        scheme_gopher: "gopher://hooks.example.com:70/" => "must be https";
        credentials: "https://user:pw@hooks.example.com/" => "must not hold credentials";
        credentials_user_only: "https://user@hooks.example.com/" => "must not hold credentials";
        relative: "/relative" => "must be an absolute URL";
        too_long: &format!("https://hooks.example.com/{}", "a".repeat(2048)) => "at most 2048 characters";
    }

    #[test]
    fn public_https_urls_are_accepted() {
        for ok in [
            "https://hooks.example.com/x",
            "https://hooks.example.com:443/x?y=1",
            "https://HOOKS.Example.COM./x",
            "https://[2606:4700::1111]/",
            "https://1.1.1.1/",
            "https://8.8.8.8/hook",
            "https://xn--80ak6aa92e.com/",
            // 100.128.0.0 is just past the shared range, 172.32 past the private /12.
            "https://100.128.0.1/",
            "https://172.32.0.1/",
            // 2001:200:: is APNIC's, just past the IETF's 2001::/23.
            "https://[2001:200::1]/",
        ] {
            assert_eq!(strict(ok), Vec::<String>::new(), "{ok}");
        }
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        assert_eq!(
            strict("http://user@127.0.0.1:8080/"),
            [
                "hooks[0]: must be https",
                "hooks[0]: must not hold credentials",
                "hooks[0]: must name a public host (not an address of the loopback range)",
            ]
        );
        assert_eq!(
            strict("https://user@metadata.google.internal:22/"),
            [
                "hooks[0]: must not hold credentials",
                "hooks[0]: must use an allowed port (443)",
                "hooks[0]: must name a public host (not a name under .internal)",
            ]
        );
    }

    #[test]
    fn ports_are_refused_unless_configured() {
        let open = OutboundPolicy { allowed_ports: vec![443, 8443], ..OutboundPolicy::default() };
        assert!(syntax("https://hooks.example.com:8443/", &open).is_empty());
        assert_eq!(
            syntax("https://hooks.example.com:22/", &open),
            ["hooks[0]: must use an allowed port (443, 8443)"]
        );
        let http = OutboundPolicy { allow_http: true, ..OutboundPolicy::default() };
        assert!(syntax("http://hooks.example.com/", &http).is_empty(), "http's own port comes with http");
        assert!(syntax("https://hooks.example.com/", &http).is_empty());
        assert_eq!(
            syntax("https://hooks.example.com:80/", &http),
            ["hooks[0]: must use an allowed port (443)"],
            "port 80 comes with http only"
        );
        assert_eq!(
            syntax("http://hooks.example.com:8080/", &http),
            ["hooks[0]: must use an allowed port (443, 80)"]
        );
        let none = OutboundPolicy { allowed_ports: vec![], ..OutboundPolicy::default() };
        assert_eq!(
            syntax("https://hooks.example.com/", &none),
            ["hooks[0]: must use an allowed port (none)"]
        );
    }

    #[test]
    fn allow_private_lets_local_targets_through_but_not_bad_schemes() {
        let open = OutboundPolicy {
            allow_http: true,
            allow_private: true,
            allowed_ports: vec![8080],
            ..OutboundPolicy::default()
        };
        for ok in ["http://127.0.0.1:8080/x", "http://localhost:8080/", "https://[::1]:8080/", "http://sink/"]
        {
            assert!(syntax(ok, &open).is_empty(), "{ok}");
        }
        assert_eq!(syntax("ftp://127.0.0.1:8080/", &open), ["hooks[0]: must be http or https"]);
        assert!(syntax("http://127.0.0.1:41234/x", &open).is_empty(), "any port on a private target");
    }

    #[test]
    fn blocked_suffixes_extend_the_list() {
        let policy = OutboundPolicy {
            blocked_suffixes: vec![".Corp.Example.com".into()],
            ..OutboundPolicy::default()
        };
        assert_eq!(
            syntax("https://hr.corp.example.com/", &policy),
            ["hooks[0]: must name a public host (not a name under a blocked suffix)"]
        );
        assert!(syntax("https://corp.example.com.evil.net/", &policy).is_empty());
        assert!(syntax("https://notcorp.example.com/", &policy).is_empty(), "a suffix matches whole labels");
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn resolver() -> MapResolver {
        MapResolver::default()
            .with("hooks.example.com", &[ip("93.184.215.14"), ip("2606:2800:21f:cb07:6820:80da:af6b:8b2c")])
            .with("127.0.0.1.nip.io", &[ip("127.0.0.1")])
            .with("localtest.me", &[ip("127.0.0.1"), ip("::1")])
            .with("mixed.example.net", &[ip("93.184.215.14"), ip("10.0.0.5")])
            .with("mapped.example.net", &[ip("::ffff:169.254.169.254")])
            .with("dns64-public.example.net", &[ip("64:ff9b::5db8:d70e")])
            .with("dns64-private.example.net", &[ip("64:ff9b::a00:1")])
            .with("empty.example.net", &[])
    }

    async fn resolved(value: &str) -> Result<(), Violation> {
        let policy = OutboundPolicy::default();
        let mut v = Violations::default();
        let url = check_syntax(&mut v, "hooks[0]", value, &policy).expect("passes the syntactic stage");
        check_resolved("hooks[0]", &url, &policy, &resolver()).await
    }

    fn refusal(rule: Rule, description: &str) -> Result<(), Violation> {
        Err(Violation { field: "hooks[0]".into(), description: description.into(), rule })
    }

    #[tokio::test]
    async fn names_are_judged_by_every_address_they_resolve_to() {
        assert_eq!(resolved("https://hooks.example.com/x").await, Ok(()));
        assert_eq!(
            resolved("https://127.0.0.1.nip.io/").await,
            refusal(
                Rule::SpecialAddress,
                "must name a public host (its name resolves to an address of the loopback range)"
            )
        );
        assert_eq!(
            resolved("https://LocalTest.Me./").await,
            refusal(
                Rule::SpecialAddress,
                "must name a public host (its name resolves to an address of the loopback range)"
            )
        );
        assert_eq!(
            resolved("https://mixed.example.net/").await,
            refusal(
                Rule::SpecialAddress,
                "must name a public host (its name resolves to an address of the private range)"
            )
        );
        assert_eq!(
            resolved("https://mapped.example.net/").await,
            refusal(
                Rule::SpecialAddress,
                "must name a public host (its name resolves to an address of the IPv4-mapped range)"
            )
        );
        // DNS64 answers are judged by the IPv4 address they carry.
        assert_eq!(resolved("https://dns64-public.example.net/").await, Ok(()));
        assert_eq!(
            resolved("https://dns64-private.example.net/").await,
            refusal(
                Rule::SpecialAddress,
                "must name a public host (its name resolves to an address of the private range)"
            )
        );
    }

    #[tokio::test]
    async fn names_that_cannot_be_resolved_are_refused_as_unresolved() {
        let unresolved = refusal(Rule::Unresolved, "must name a public host (its name cannot be resolved)");
        assert_eq!(resolved("https://nowhere.example.org/").await, unresolved);
        assert_eq!(resolved("https://empty.example.net/").await, unresolved);
    }

    #[tokio::test]
    async fn ip_literals_need_no_lookup() {
        // The map knows no such name: a look-up would fail.
        assert_eq!(resolved("https://1.1.1.1/").await, Ok(()));
        assert_eq!(resolved("https://[2606:4700::1111]/").await, Ok(()));
    }

    #[tokio::test]
    async fn check_all_reports_both_stages_for_every_index() {
        let mut v = Violations::default();
        let hooks = [
            "https://hooks.example.com/ok".to_owned(),
            "https://[::127.0.0.1]/".to_owned(),
            "https://localtest.me/".to_owned(),
            "https://gone.example.org/".to_owned(),
        ];
        check_all(&mut v, "hooks", &hooks, &OutboundPolicy::default(), &resolver()).await;
        let found: Vec<String> = v.0.into_iter().map(|(f, d)| format!("{f}: {d}")).collect();
        assert_eq!(
            found,
            [
                "hooks[1]: must name a public host (not an address of the IPv4-compatible range)",
                "hooks[2]: must name a public host (its name resolves to an address of the loopback range)",
                "hooks[3]: must name a public host (its name cannot be resolved)",
            ]
        );
    }

    #[tokio::test]
    async fn check_runs_both_stages() {
        let mut v = Violations::default();
        let policy = OutboundPolicy::default();
        assert!(check(&mut v, "u", "https://hooks.example.com/", &policy, &resolver()).await.is_some());
        assert!(check(&mut v, "u", "https://127.0.0.1.nip.io/", &policy, &resolver()).await.is_none());
        assert!(check(&mut v, "u", "https://localhost/", &policy, &resolver()).await.is_none());
        assert_eq!(v.0.len(), 2);
        let open = OutboundPolicy { allow_private: true, ..OutboundPolicy::default() };
        let mut v = Violations::default();
        assert!(check(&mut v, "u", "https://127.0.0.1.nip.io/", &open, &resolver()).await.is_some());
    }

    #[tokio::test]
    async fn the_system_resolver_resolves_localhost_to_loopback() {
        // /etc/hosts answers this without the network; a name that cannot exist fails.
        let system = SystemResolver::default();
        let found = system.resolve("localhost", 443).await.expect("localhost resolves");
        assert!(found.iter().all(|a| special_purpose(*a) == Some("loopback")), "{found:?}");
        assert!(system.resolve("no-such-name.invalid", 443).await.map(|a| a.is_empty()).unwrap_or(true));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn in_v4(net: Ipv4Net) -> impl Strategy<Value = Ipv4Addr> {
            any::<u32>().prop_map(move |bits| {
                let host_mask = u32::MAX.checked_shr(u32::from(net.prefix_len())).unwrap_or(0);
                Ipv4Addr::from((u32::from(net.network()) & !host_mask) | (bits & host_mask))
            })
        }

        fn in_v6(net: Ipv6Net) -> impl Strategy<Value = Ipv6Addr> {
            any::<u128>().prop_map(move |bits| {
                let host_mask = u128::MAX.checked_shr(u32::from(net.prefix_len())).unwrap_or(0);
                Ipv6Addr::from((u128::from(net.network()) & !host_mask) | (bits & host_mask))
            })
        }

        fn v4_special() -> impl Strategy<Value = Ipv4Addr> {
            proptest::sample::select(IPV4_SPECIAL.to_vec()).prop_flat_map(|(net, _)| in_v4(net))
        }

        fn v6_special() -> impl Strategy<Value = Ipv6Addr> {
            proptest::sample::select(IPV6_SPECIAL.to_vec()).prop_flat_map(|(net, _)| in_v6(net))
        }

        proptest! {
            #[test]
            fn every_special_ipv4_address_is_refused(ip in v4_special()) {
                prop_assert!(special_purpose(IpAddr::V4(ip)).is_some());
                let url = format!("https://{ip}/");
                prop_assert!(!strict(&url).is_empty(), "{} accepted", url);
                // The same address embedded in IPv6 forms is refused too.
                for embedded in [ip.to_ipv6_mapped(), ip.to_ipv6_compatible()] {
                    let url = format!("https://[{embedded}]/");
                    prop_assert!(!strict(&url).is_empty(), "{} accepted", url);
                }
                let [a, b, c, d] = ip.octets();
                let nat64 = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
                let six_to_four = Ipv6Addr::new(0x2002, u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]), 0, 0, 0, 0, 1);
                for url in [format!("https://[{nat64}]/"), format!("https://[{six_to_four}]/")] {
                    prop_assert!(!strict(&url).is_empty(), "{} accepted", url);
                }
                // As an answer from DNS64 it is judged by what it embeds.
                prop_assert!(resolved_special(IpAddr::V6(nat64)).is_some());
            }

            #[test]
            fn every_special_ipv6_address_is_refused(ip in v6_special()) {
                prop_assert!(special_purpose(IpAddr::V6(ip)).is_some());
                let url = format!("https://[{ip}]/");
                prop_assert!(!strict(&url).is_empty(), "{} accepted", url);
            }

            #[test]
            fn every_ipv6_address_outside_global_unicast_is_refused(bits in any::<u128>()) {
                let ip = Ipv6Addr::from(bits);
                if !GLOBAL_UNICAST.contains(&ip) {
                    prop_assert!(special_purpose(IpAddr::V6(ip)).is_some());
                }
            }

            #[test]
            fn arbitrary_strings_never_panic(value in any::<String>()) {
                let _ = strict(&value);
                let _ = syntax(&value, &OutboundPolicy { allow_http: true, allow_private: true, ..OutboundPolicy::default() });
            }

            #[test]
            fn url_like_strings_never_panic(
                value in r"(https?|ftp|file)://([a-zA-Z0-9%@:._\-]|\[[0-9a-fA-F:.%]{0,40}\]){0,60}(:[0-9]{0,6})?(/[ -~]{0,20})?"
            ) {
                let _ = strict(&value);
            }
        }
    }
}
