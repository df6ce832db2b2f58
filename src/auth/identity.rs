//! Client certificates: the names in a verified certificate and the caller they make.
//!
//! rustls has already verified the chain against `server.tls_client_ca_file` by the time a
//! request arrives; this module only reads names from the leaf and applies
//! `[[auth.clients]]`:
//!
//! - `auth.clients` empty: the CA is the allow-list. Every certificate it signed is a caller
//!   with full scope, named by its first DNS or URI SAN, else its subject CN.
//! - `auth.clients` not empty: the list is the allow-list. A certificate matching no entry is
//!   refused even though the CA signed it. This is the safer reading once an operator has
//!   named callers: cluster CAs (cert-manager, a service mesh) sign certificates for every
//!   workload, and listing some of them should not leave the rest with full access.
//!
//! x509-parser reads the certificate: it is the maintained X.509 parser of the Rust
//! ecosystem (rusticata), needs no C code, and exposes the CN and the SAN URIs that
//! webpki's API does not.

use std::sync::Arc;

use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::config::ClientConfig;
use super::scope::Scopes;

/// The names a certificate carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertNames {
    /// The subject's first common name.
    pub common_name: Option<String>,
    /// DNS and URI subject alternative names, in the certificate's order.
    pub sans: Vec<String>,
}

impl CertNames {
    /// Reads the names of a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("unreadable certificate: {e}"))?;
        let common_name =
            cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).map(str::to_owned);
        let mut sans = Vec::new();
        let extension =
            cert.subject_alternative_name().map_err(|e| format!("unreadable SAN extension: {e}"))?;
        if let Some(extension) = extension {
            for name in &extension.value.general_names {
                match name {
                    GeneralName::DNSName(name) | GeneralName::URI(name) => sans.push((*name).to_owned()),
                    _ => {}
                }
            }
        }
        Ok(Self { common_name, sans })
    }

    /// The name an unlisted certificate's caller gets: its first DNS or URI SAN, else its
    /// CN; `None` when it has neither, or only names unfit for a log line.
    pub fn default_name(&self) -> Option<&str> {
        self.sans
            .first()
            .or(self.common_name.as_ref())
            .map(String::as_str)
            .filter(|name| (1..=256).contains(&name.len()) && name.chars().all(|c| c.is_ascii_graphic()))
    }
}

/// A caller identified by a certificate.
#[derive(Clone, Debug)]
pub struct ClientIdentity {
    /// The caller's name.
    pub name: Arc<str>,
    /// What the caller may call.
    pub scopes: Arc<Scopes>,
    /// The caller sees only what it started.
    pub own_attempts_only: bool,
}

/// Why a verified certificate is not a caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// `auth.clients` lists callers and this certificate is none of them; carries the name
    /// it would have had, for the log and the error's metadata.
    NotListed(Option<String>),
    /// It could not be read, or has no usable name.
    Unreadable(String),
}

#[derive(Debug)]
enum Matcher {
    SubjectCn(String),
    San(String),
}

#[derive(Debug)]
struct Rule {
    matcher: Matcher,
    identity: ClientIdentity,
}

/// `[[auth.clients]]`, parsed.
#[derive(Debug, Default)]
pub struct ClientRules {
    rules: Vec<Rule>,
}

impl ClientRules {
    /// Builds the rules; every problem is reported (the configuration is expected to have
    /// passed `AuthConfig::check`, so these are rare).
    pub fn new(clients: &[ClientConfig]) -> Result<Self, Vec<String>> {
        let mut rules = Vec::new();
        let mut problems = Vec::new();
        for (i, client) in clients.iter().enumerate() {
            let at = format!("auth.clients[{i}]");
            let matcher = match (&client.subject_cn, &client.san) {
                (Some(cn), None) if !cn.is_empty() => Matcher::SubjectCn(cn.clone()),
                (None, Some(san)) if !san.is_empty() => Matcher::San(san.clone()),
                _ => {
                    problems.push(format!("{at}: set exactly one of subject_cn and san"));
                    continue;
                }
            };
            match Scopes::parse(&client.scopes) {
                Ok(scopes) => rules.push(Rule {
                    matcher,
                    identity: ClientIdentity {
                        name: client.name.as_str().into(),
                        scopes: Arc::new(scopes),
                        own_attempts_only: client.own_attempts_only,
                    },
                }),
                Err(errors) => problems.extend(errors.into_iter().map(|e| format!("{at}: {e}"))),
            }
        }
        if problems.is_empty() { Ok(Self { rules }) } else { Err(problems) }
    }

    /// The caller a verified leaf certificate (DER) makes, or why it makes none.
    pub fn identify(&self, leaf: &[u8]) -> Result<ClientIdentity, Refused> {
        let names = CertNames::from_der(leaf).map_err(Refused::Unreadable)?;
        if self.rules.is_empty() {
            let name = names
                .default_name()
                .ok_or_else(|| Refused::Unreadable("the certificate has no usable SAN or CN".into()))?;
            return Ok(ClientIdentity {
                name: name.into(),
                scopes: Arc::new(Scopes::everything()),
                own_attempts_only: false,
            });
        }
        self.rules
            .iter()
            .find(|rule| match &rule.matcher {
                Matcher::SubjectCn(cn) => names.common_name.as_ref() == Some(cn),
                Matcher::San(san) => names.sans.contains(san),
            })
            .map(|rule| rule.identity.clone())
            .ok_or_else(|| Refused::NotListed(names.default_name().map(str::to_owned)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};

    fn cert(cn: Option<&str>, sans: &[SanType]) -> Vec<u8> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        if let Some(cn) = cn {
            dn.push(DnType::CommonName, cn);
        }
        dn.push(DnType::OrganizationName, "idv tests");
        params.distinguished_name = dn;
        params.subject_alt_names = sans.to_vec();
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    fn dns(name: &str) -> SanType {
        SanType::DnsName(name.try_into().unwrap())
    }

    fn uri(name: &str) -> SanType {
        SanType::URI(name.try_into().unwrap())
    }

    fn client(name: &str, cn: Option<&str>, san: Option<&str>, scopes: &[&str]) -> ClientConfig {
        ClientConfig {
            name: name.into(),
            subject_cn: cn.map(Into::into),
            san: san.map(Into::into),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            own_attempts_only: false,
        }
    }

    #[test]
    fn names_come_from_cn_and_dns_and_uri_sans() {
        let der = cert(
            Some("billing-cn"),
            &[
                SanType::IpAddress([10, 0, 0, 1].into()),
                uri("spiffe://cluster/ns/pay/sa/billing"),
                dns("billing.pay.svc"),
            ],
        );
        let names = CertNames::from_der(&der).unwrap();
        assert_eq!(names.common_name.as_deref(), Some("billing-cn"));
        assert_eq!(names.sans, ["spiffe://cluster/ns/pay/sa/billing", "billing.pay.svc"]);
        assert_eq!(names.default_name(), Some("spiffe://cluster/ns/pay/sa/billing"));
        let cn_only = CertNames::from_der(&cert(Some("only-cn"), &[])).unwrap();
        assert_eq!(cn_only.default_name(), Some("only-cn"));
        assert_eq!(CertNames::from_der(&cert(None, &[])).unwrap().default_name(), None);
        assert!(CertNames::from_der(b"not a certificate").is_err());
    }

    #[test]
    fn without_rules_any_verified_certificate_is_a_full_scope_caller() {
        let rules = ClientRules::new(&[]).unwrap();
        let who = rules.identify(&cert(Some("cn"), &[dns("svc.example")])).unwrap();
        assert_eq!(&*who.name, "svc.example");
        assert!(who.scopes.is_everything());
        assert!(matches!(rules.identify(&cert(None, &[])), Err(Refused::Unreadable(_))));
    }

    #[test]
    fn with_rules_only_listed_certificates_are_callers() {
        let rules = ClientRules::new(&[
            client("billing", Some("billing-cn"), None, &["read"]),
            client("payments", None, Some("spiffe://cluster/ns/pay/sa/api"), &[]),
        ])
        .unwrap();
        let billing = rules.identify(&cert(Some("billing-cn"), &[dns("other")])).unwrap();
        assert_eq!(&*billing.name, "billing");
        assert!(!billing.scopes.is_everything());
        let payments =
            rules.identify(&cert(Some("x"), &[dns("a"), uri("spiffe://cluster/ns/pay/sa/api")])).unwrap();
        assert_eq!(&*payments.name, "payments");
        // A SAN equal to a rule's CN, or a CN equal to a rule's SAN, does not match.
        assert_eq!(
            rules.identify(&cert(Some("spiffe://cluster/ns/pay/sa/api"), &[dns("billing-cn")])).unwrap_err(),
            Refused::NotListed(Some("billing-cn".into()))
        );
    }
}
