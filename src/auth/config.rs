//! The `[auth]` section, the `server.tls_*` settings, their environment variables, and the
//! secure-by-default start-up rule.
//!
//! API keys are configured only as SHA-256 digests, so the configuration itself never holds
//! a key. Digests are not secrets, but they let anyone test guesses offline, so they are
//! kept out of `Debug`, out of [`toml`-printed](Serialize) configurations and out of every
//! message; problems name the key by its position and name, never by its digest.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize, Serializer};

use super::scope::Scopes;

/// Default seconds between looks at the key file and the certificate files.
const DEFAULT_RELOAD_SECS: u64 = 5;

/// The `[auth]` section.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `[[auth.api_keys]]`: keys named in the configuration file.
    pub api_keys: Vec<ApiKeyConfig>,
    /// Keys from `IDV_API_KEYS` (`name:sha256hex,name2:sha256hex`), full scope. Kept apart
    /// from `api_keys` so problems say where a key came from, and so a printed configuration
    /// shows only what its file holds.
    #[serde(skip)]
    pub env_api_keys: Vec<ApiKeyConfig>,
    /// A file of `name sha256hex [scope ...] [own_attempts_only]` lines
    /// (`IDV_API_KEYS_FILE`), re-read when it changes so keys can be added and revoked
    /// without a restart.
    pub api_keys_file: Option<PathBuf>,
    /// How verified client certificates map to caller names and scopes. Empty: every
    /// certificate the client CA signed is a caller with full scope, named by its first DNS
    /// or URI SAN, else its subject CN. Not empty: only the certificates listed here are
    /// callers; any other is refused, even though the CA signed it.
    pub clients: Vec<ClientConfig>,
    /// Serve a non-loopback gRPC listener with neither API keys nor client certificates
    /// configured (`IDV_ALLOW_UNAUTHENTICATED`). Anyone who reaches the port can then call
    /// every method, so it must be asked for by name.
    pub allow_unauthenticated: bool,
    /// Seconds between looks at `api_keys_file` and the `server.tls_*` files.
    pub reload_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            env_api_keys: Vec::new(),
            api_keys_file: None,
            clients: Vec::new(),
            allow_unauthenticated: false,
            reload_secs: DEFAULT_RELOAD_SECS,
        }
    }
}

/// One `[[auth.api_keys]]` entry.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// The caller's name, as logs and attempt ownership show it.
    pub name: String,
    /// Hex SHA-256 of the key exactly as sent after `Bearer ` (`printf %s "$KEY" | sha256sum`).
    #[serde(serialize_with = "redact")]
    pub sha256: String,
    /// What the key may call; empty means everything. See [`super::scope`].
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The caller sees only the attempts and applicants it started; others are `NOT_FOUND`.
    #[serde(default)]
    pub own_attempts_only: bool,
}

// The digest stays out of `Debug` (see the module comment).
impl fmt::Debug for ApiKeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyConfig")
            .field("name", &self.name)
            .field("sha256", &"<redacted>")
            .field("scopes", &self.scopes)
            .field("own_attempts_only", &self.own_attempts_only)
            .finish()
    }
}

/// One `[[auth.clients]]` entry: which verified certificates are this caller. Exactly one of
/// `subject_cn` and `san` is set, and must equal the certificate's value exactly.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The caller's name, as logs and attempt ownership show it.
    pub name: String,
    /// The certificate's subject common name.
    #[serde(default)]
    pub subject_cn: Option<String>,
    /// One of the certificate's DNS or URI subject alternative names, such as
    /// `billing.payments.svc` or `spiffe://cluster.local/ns/payments/sa/billing`.
    #[serde(default)]
    pub san: Option<String>,
    /// What the caller may call; empty means everything.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The caller sees only the attempts and applicants it started.
    #[serde(default)]
    pub own_attempts_only: bool,
}

/// The `server.tls_*` settings. The field names are the gateway's `server.*` keys, so this
/// embeds in `ServerConfig` as `#[serde(flatten)] pub tls: TlsConfig`. That works with
/// `deny_unknown_fields` on both structs only because the flattened struct is the one that
/// sees (and refuses) unknown keys, which a test below pins; serde calls the combination
/// unsupported, and errors in these three keys lose their line number. Copying the three
/// fields into `ServerConfig` is the conservative alternative.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first (`IDV_TLS_CERT_FILE`). Set: both listeners speak TLS.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of the leaf (`IDV_TLS_KEY_FILE`): PKCS#8, PKCS#1 or SEC1.
    pub tls_key_file: Option<PathBuf>,
    /// PEM CA certificates that sign client certificates (`IDV_TLS_CLIENT_CA_FILE`). Set: a
    /// client may present a certificate, and a verified one names the caller.
    pub tls_client_ca_file: Option<PathBuf>,
}

impl TlsConfig {
    /// Whether the listeners speak TLS.
    pub fn enabled(&self) -> bool {
        self.tls_cert_file.is_some()
    }

    /// Applies `IDV_TLS_CERT_FILE`, `IDV_TLS_KEY_FILE` and `IDV_TLS_CLIENT_CA_FILE`.
    pub fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>) {
        let set = |name: &str| env(name).filter(|v| !v.trim().is_empty()).map(PathBuf::from);
        if let Some(v) = set("IDV_TLS_CERT_FILE") {
            self.tls_cert_file = Some(v);
        }
        if let Some(v) = set("IDV_TLS_KEY_FILE") {
            self.tls_key_file = Some(v);
        }
        if let Some(v) = set("IDV_TLS_CLIENT_CA_FILE") {
            self.tls_client_ca_file = Some(v);
        }
    }

    /// Collects every problem with the TLS settings on their own.
    pub fn check(&self, problems: &mut Vec<String>) {
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(_), None) => problems.push("server.tls_cert_file: needs server.tls_key_file".into()),
            (None, Some(_)) => problems.push("server.tls_key_file: needs server.tls_cert_file".into()),
            _ => {}
        }
        if self.tls_client_ca_file.is_some() && self.tls_cert_file.is_none() {
            problems.push(
                "server.tls_client_ca_file: client certificates need TLS: set server.tls_cert_file \
                 and server.tls_key_file"
                    .into(),
            );
        }
    }
}

impl AuthConfig {
    /// Whether any API key source is configured. A configured but empty key file still
    /// counts: it means "keys, none valid right now", which refuses every call, and never
    /// "no authentication".
    pub fn has_api_keys(&self) -> bool {
        !self.api_keys.is_empty() || !self.env_api_keys.is_empty() || self.api_keys_file.is_some()
    }

    /// Applies `IDV_API_KEYS`, `IDV_API_KEYS_FILE` and `IDV_ALLOW_UNAUTHENTICATED`. `env` is
    /// `std::env::var(..).ok()` in production and a map in tests.
    pub fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) {
        let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(list) = set("IDV_API_KEYS") {
            self.env_api_keys = parse_env_keys(&list, problems);
        }
        if let Some(v) = set("IDV_API_KEYS_FILE") {
            self.api_keys_file = Some(v.trim().into());
        }
        if let Some(v) = set("IDV_ALLOW_UNAUTHENTICATED") {
            match v.trim().parse() {
                Ok(allow) => self.allow_unauthenticated = allow,
                Err(_) => problems.push("IDV_ALLOW_UNAUTHENTICATED: must be true or false".into()),
            }
        }
    }

    /// Collects every problem with the `[auth]` section and the `server.tls_*` settings:
    /// names, digests, scopes, client rules, and the settings that need each other.
    pub fn check(&self, tls: &TlsConfig, problems: &mut Vec<String>) {
        tls.check(problems);
        if self.reload_secs == 0 {
            problems.push("auth.reload_secs: must be at least 1".into());
        }

        let keys =
            self.api_keys.iter().enumerate().map(|(i, key)| (format!("auth.api_keys[{i}]"), key)).chain(
                self.env_api_keys
                    .iter()
                    .enumerate()
                    .map(|(i, key)| (format!("IDV_API_KEYS entry {}", i + 1), key)),
            );
        let mut names: HashMap<&str, String> = HashMap::new();
        let mut digests: HashMap<[u8; 32], String> = HashMap::new();
        for (at, key) in keys {
            check_name(&at, &key.name, problems);
            if let Some(first) = names.insert(&key.name, at.clone()) {
                problems.push(format!("{at}: name '{}' is already used by {first}", key.name));
            }
            match parse_digest(&key.sha256) {
                Ok(digest) => {
                    // Two names for one key would make the caller's name a matter of order.
                    if let Some(first) = digests.insert(digest, at.clone()) {
                        problems.push(format!("{at}: same sha256 as {first}"));
                    }
                }
                Err(why) => problems.push(format!("{at}: sha256 {why}")),
            }
            if let Err(errors) = Scopes::parse(&key.scopes) {
                problems.extend(errors.into_iter().map(|e| format!("{at}: {e}")));
            }
        }

        let mut client_names: HashMap<&str, usize> = HashMap::new();
        for (i, client) in self.clients.iter().enumerate() {
            let at = format!("auth.clients[{i}]");
            check_name(&at, &client.name, problems);
            if let Some(first) = client_names.insert(&client.name, i) {
                problems
                    .push(format!("{at}: name '{}' is already used by auth.clients[{first}]", client.name));
            }
            let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
            if set(&client.subject_cn) == set(&client.san) {
                problems.push(format!("{at}: set exactly one of subject_cn and san"));
            }
            if let Err(errors) = Scopes::parse(&client.scopes) {
                problems.extend(errors.into_iter().map(|e| format!("{at}: {e}")));
            }
        }
        if !self.clients.is_empty() && tls.tls_client_ca_file.is_none() {
            problems.push("auth.clients: needs server.tls_client_ca_file (IDV_TLS_CLIENT_CA_FILE)".into());
        }
    }
}

/// The secure-by-default rule: a gRPC listener on a non-loopback address needs API keys or
/// client certificates, unless `auth.allow_unauthenticated` says otherwise. The loopback
/// sandbox needs nothing.
pub fn startup_check(grpc_addr: SocketAddr, auth: &AuthConfig, tls: &TlsConfig) -> Result<(), String> {
    if grpc_addr.ip().to_canonical().is_loopback()
        || auth.allow_unauthenticated
        || auth.has_api_keys()
        || tls.tls_client_ca_file.is_some()
    {
        return Ok(());
    }
    Err(format!(
        "refusing to serve gRPC on {grpc_addr} without caller authentication: configure API keys \
         (auth.api_keys, auth.api_keys_file or IDV_API_KEYS) or client certificates \
         (server.tls_client_ca_file or IDV_TLS_CLIENT_CA_FILE), or accept anyone who can reach \
         the port with auth.allow_unauthenticated = true (IDV_ALLOW_UNAUTHENTICATED=true)"
    ))
}

/// Settings that work but are probably not what was meant, for the start-up log.
pub fn startup_warnings(grpc_addr: SocketAddr, auth: &AuthConfig, tls: &TlsConfig) -> Vec<String> {
    let mut warnings = Vec::new();
    let exposed = !grpc_addr.ip().to_canonical().is_loopback();
    if exposed && auth.has_api_keys() && !tls.enabled() {
        warnings.push(format!(
            "API keys reach {grpc_addr} in clear text: set server.tls_cert_file and server.tls_key_file \
             unless TLS ends in front of the gateway"
        ));
    }
    if exposed && auth.allow_unauthenticated && !auth.has_api_keys() && tls.tls_client_ca_file.is_none() {
        warnings.push(format!(
            "auth.allow_unauthenticated: anyone who reaches {grpc_addr} can call every method"
        ));
    }
    warnings
}

/// `IDV_API_KEYS`: `name:sha256hex` entries separated by commas. Problems name the entry by
/// position only; the digest is checked later with the others in [`AuthConfig::check`].
fn parse_env_keys(list: &str, problems: &mut Vec<String>) -> Vec<ApiKeyConfig> {
    let mut keys = Vec::new();
    for (i, entry) in list.split(',').map(str::trim).enumerate() {
        if entry.is_empty() {
            continue;
        }
        match entry.split_once(':') {
            Some((name, sha256)) => keys.push(ApiKeyConfig {
                name: name.trim().to_owned(),
                sha256: sha256.trim().to_owned(),
                scopes: Vec::new(),
                own_attempts_only: false,
            }),
            None => problems.push(format!("IDV_API_KEYS entry {}: expected name:sha256hex", i + 1)),
        }
    }
    keys
}

/// A caller name: it appears in logs and is stored with the attempts a caller starts, so it
/// is short and plain.
pub(crate) fn check_name(at: &str, name: &str, problems: &mut Vec<String>) {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let valid = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(plain);
    if !valid {
        problems.push(format!(
            "{at}: name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        ));
    }
}

/// Parses a hex SHA-256 digest. The error says what is wrong, never what was there.
pub(crate) fn parse_digest(hex_digest: &str) -> Result<[u8; 32], &'static str> {
    let hex_digest = hex_digest.trim();
    if hex_digest.len() != 64 {
        return Err("must be 64 hex digits (a SHA-256 digest)");
    }
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut digest).map_err(|_| "must hold only hex digits")?;
    Ok(digest)
}

fn redact<S: Serializer>(_: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str("<redacted>")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST_A: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const DIGEST_B: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    fn key(name: &str, sha256: &str) -> ApiKeyConfig {
        ApiKeyConfig { name: name.into(), sha256: sha256.into(), scopes: vec![], own_attempts_only: false }
    }

    fn problems(auth: &AuthConfig, tls: &TlsConfig) -> Vec<String> {
        let mut problems = Vec::new();
        auth.check(tls, &mut problems);
        problems
    }

    #[test]
    fn the_auth_section_parses_from_toml() {
        let text = format!(
            r#"
            api_keys_file = "/etc/idv/keys"
            reload_secs = 2
            [[api_keys]]
            name = "billing"
            sha256 = "{DIGEST_A}"
            scopes = ["read", "idv.baf.v1.ApplicantService"]
            own_attempts_only = true
            [[clients]]
            name = "payments"
            san = "spiffe://cluster.local/ns/payments/sa/api"
            "#
        );
        let auth: AuthConfig = toml::from_str(&text).unwrap();
        assert_eq!(auth.api_keys[0].name, "billing");
        assert!(auth.api_keys[0].own_attempts_only);
        assert_eq!(auth.clients[0].san.as_deref(), Some("spiffe://cluster.local/ns/payments/sa/api"));
        assert_eq!(auth.reload_secs, 2);
        let tls = TlsConfig {
            tls_client_ca_file: Some("ca".into()),
            tls_cert_file: Some("c".into()),
            tls_key_file: Some("k".into()),
        };
        assert_eq!(problems(&auth, &tls), Vec::<String>::new());
        assert!(
            toml::from_str::<AuthConfig>("[[api_keys]]\nname = \"a\"\nsha256 = \"00\"\nscope = []\n")
                .is_err()
        );
        assert!(toml::from_str::<AuthConfig>("allow_unauthenticted = true\n").is_err());
    }

    #[test]
    fn digests_never_print() {
        let mut auth = AuthConfig { api_keys: vec![key("billing", DIGEST_A)], ..AuthConfig::default() };
        auth.apply_env(&env(&[("IDV_API_KEYS", &format!("ops:{DIGEST_B}"))]), &mut Vec::new());
        let printed = format!("{auth:?}{}", toml::to_string(&auth).unwrap());
        assert!(!printed.contains(DIGEST_A) && !printed.contains(DIGEST_B), "{printed}");
        assert!(printed.contains("billing") && printed.contains("<redacted>"), "{printed}");
    }

    #[test]
    fn environment_adds_keys_and_settings() {
        let mut auth = AuthConfig::default();
        let mut tls = TlsConfig::default();
        let mut found = Vec::new();
        let env = env(&[
            ("IDV_API_KEYS", &format!(" ops:{DIGEST_A} , ,ci:{DIGEST_B}")),
            ("IDV_API_KEYS_FILE", "/run/keys"),
            ("IDV_ALLOW_UNAUTHENTICATED", "true"),
            ("IDV_TLS_CERT_FILE", "/tls/tls.crt"),
            ("IDV_TLS_KEY_FILE", "/tls/tls.key"),
            ("IDV_TLS_CLIENT_CA_FILE", "/tls/ca.crt"),
        ]);
        auth.apply_env(&env, &mut found);
        tls.apply_env(&env);
        assert!(found.is_empty(), "{found:?}");
        let names: Vec<&str> = auth.env_api_keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["ops", "ci"]);
        assert_eq!(auth.api_keys_file.as_deref(), Some(std::path::Path::new("/run/keys")));
        assert!(auth.allow_unauthenticated);
        assert_eq!(tls.tls_client_ca_file.as_deref(), Some(std::path::Path::new("/tls/ca.crt")));
        assert_eq!(problems(&auth, &tls), Vec::<String>::new());
    }

    #[test]
    fn every_problem_is_reported_without_the_digest() {
        let mut auth = AuthConfig {
            api_keys: vec![
                key("billing", DIGEST_A),
                key("billing", "abc"),              // duplicate name, short digest
                key("has space", &"zz".repeat(32)), // bad name, non-hex
                ApiKeyConfig {
                    scopes: vec!["idv.baf.v1.ApplicantService/Get-Thing".into(), "wrte".into()],
                    ..key("scoped", DIGEST_B)
                },
            ],
            clients: vec![
                ClientConfig {
                    name: "c".into(),
                    subject_cn: None,
                    san: None,
                    scopes: vec![],
                    own_attempts_only: false,
                },
                ClientConfig {
                    name: "c".into(),
                    subject_cn: Some("a".into()),
                    san: Some("b".into()),
                    scopes: vec![],
                    own_attempts_only: false,
                },
            ],
            reload_secs: 0,
            ..AuthConfig::default()
        };
        let mut found = Vec::new();
        auth.apply_env(
            &env(&[
                ("IDV_API_KEYS", &format!("dup:{DIGEST_A},nocolon")),
                ("IDV_ALLOW_UNAUTHENTICATED", "yes"),
            ]),
            &mut found,
        );
        let tls = TlsConfig {
            tls_cert_file: None,
            tls_key_file: Some("k".into()),
            tls_client_ca_file: Some("ca".into()),
        };
        auth.check(&tls, &mut found);
        let text = found.join("\n");
        for expected in [
            "IDV_API_KEYS entry 2: expected name:sha256hex",
            "IDV_ALLOW_UNAUTHENTICATED: must be true or false",
            "server.tls_key_file: needs server.tls_cert_file",
            "server.tls_client_ca_file: client certificates need TLS",
            "auth.reload_secs: must be at least 1",
            "auth.api_keys[1]: name 'billing' is already used by auth.api_keys[0]",
            "auth.api_keys[1]: sha256 must be 64 hex digits",
            "auth.api_keys[2]: name must be",
            "auth.api_keys[2]: sha256 must hold only hex digits",
            "auth.api_keys[3]: scope 1:",
            "auth.api_keys[3]: scope 2: unknown group",
            "IDV_API_KEYS entry 1: same sha256 as auth.api_keys[0]",
            "auth.clients[0]: set exactly one of subject_cn and san",
            "auth.clients[1]: name 'c' is already used by auth.clients[0]",
            "auth.clients[1]: set exactly one of subject_cn and san",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        assert_eq!(found.len(), 15, "{text}");
        assert!(!text.contains(DIGEST_A) && !text.contains(&"zz".repeat(32)), "{text}");
    }

    /// The gateway's `ServerConfig` embeds `TlsConfig` with `#[serde(flatten)]`; typos in
    /// `[server]` must still be refused.
    #[test]
    fn tls_config_flattens_into_a_strict_server_section() {
        #[derive(Debug, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        struct ServerConfig {
            grpc_addr: String,
            #[serde(flatten)]
            tls: TlsConfig,
        }
        impl Default for ServerConfig {
            fn default() -> Self {
                Self { grpc_addr: "127.0.0.1:50051".into(), tls: TlsConfig::default() }
            }
        }
        let server: ServerConfig =
            toml::from_str("grpc_addr = \"0.0.0.0:1\"\ntls_cert_file = \"c.pem\"\n").unwrap();
        assert_eq!(
            (server.grpc_addr.as_str(), server.tls.tls_cert_file.as_deref()),
            ("0.0.0.0:1", Some(std::path::Path::new("c.pem")))
        );
        assert!(toml::from_str::<ServerConfig>("").unwrap().tls == TlsConfig::default());
        let typo = toml::from_str::<ServerConfig>("tls_cert_fil = \"c.pem\"\n").unwrap_err();
        assert!(typo.to_string().contains("unknown field `tls_cert_fil`"), "{typo}");
    }

    #[test]
    fn clients_need_a_client_ca() {
        let auth = AuthConfig {
            clients: vec![ClientConfig {
                name: "c".into(),
                subject_cn: Some("c".into()),
                san: None,
                scopes: vec![],
                own_attempts_only: false,
            }],
            ..AuthConfig::default()
        };
        let found = problems(&auth, &TlsConfig::default());
        assert_eq!(found, ["auth.clients: needs server.tls_client_ca_file (IDV_TLS_CLIENT_CA_FILE)"]);
    }

    #[test]
    fn startup_check_table() {
        let keys = AuthConfig { api_keys: vec![key("billing", DIGEST_A)], ..AuthConfig::default() };
        let env_keys = AuthConfig { env_api_keys: vec![key("ops", DIGEST_A)], ..AuthConfig::default() };
        let file = AuthConfig { api_keys_file: Some("/keys".into()), ..AuthConfig::default() };
        let open = AuthConfig { allow_unauthenticated: true, ..AuthConfig::default() };
        let none = AuthConfig::default();
        let no_tls = TlsConfig::default();
        let mtls = TlsConfig {
            tls_cert_file: Some("c".into()),
            tls_key_file: Some("k".into()),
            tls_client_ca_file: Some("ca".into()),
        };
        let server_tls_only = TlsConfig { tls_client_ca_file: None, ..mtls.clone() };
        let cases: &[(&str, &AuthConfig, &TlsConfig, bool)] = &[
            ("127.0.0.1:50051", &none, &no_tls, true),
            ("127.8.9.10:50051", &none, &no_tls, true),
            ("[::1]:50051", &none, &no_tls, true),
            ("[::ffff:127.0.0.1]:50051", &none, &no_tls, true),
            ("0.0.0.0:50051", &none, &no_tls, false),
            ("[::]:50051", &none, &no_tls, false),
            ("10.1.2.3:50051", &none, &server_tls_only, false),
            ("0.0.0.0:50051", &keys, &no_tls, true),
            ("0.0.0.0:50051", &env_keys, &no_tls, true),
            ("0.0.0.0:50051", &file, &no_tls, true),
            ("0.0.0.0:50051", &none, &mtls, true),
            ("0.0.0.0:50051", &open, &no_tls, true),
        ];
        for (addr, auth, tls, ok) in cases {
            let result = startup_check(addr.parse().unwrap(), auth, tls);
            assert_eq!(result.is_ok(), *ok, "{addr} {auth:?} {tls:?}: {result:?}");
            if let Err(message) = result {
                for setting in [
                    "auth.api_keys",
                    "auth.api_keys_file",
                    "IDV_API_KEYS",
                    "server.tls_client_ca_file",
                    "IDV_TLS_CLIENT_CA_FILE",
                    "auth.allow_unauthenticated",
                    "IDV_ALLOW_UNAUTHENTICATED",
                ] {
                    assert!(message.contains(setting), "{message}");
                }
            }
        }
    }

    #[test]
    fn warnings_name_clear_text_keys_and_open_listeners() {
        let keys = AuthConfig { api_keys: vec![key("billing", DIGEST_A)], ..AuthConfig::default() };
        let addr: SocketAddr = "0.0.0.0:50051".parse().unwrap();
        assert_eq!(startup_warnings(addr, &keys, &TlsConfig::default()).len(), 1);
        let tls = TlsConfig {
            tls_cert_file: Some("c".into()),
            tls_key_file: Some("k".into()),
            tls_client_ca_file: None,
        };
        assert!(startup_warnings(addr, &keys, &tls).is_empty());
        let open = AuthConfig { allow_unauthenticated: true, ..AuthConfig::default() };
        assert_eq!(startup_warnings(addr, &open, &tls).len(), 1);
        assert!(startup_warnings("127.0.0.1:1".parse().unwrap(), &open, &TlsConfig::default()).is_empty());
    }
}
