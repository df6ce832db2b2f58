//! Scopes: what a key or client identity may call.
//!
//! A scope is one of
//!
//! | scope | allows |
//! | --- | --- |
//! | `/idv.baf.v1.ApplicantService/GetApplicant` (leading `/` optional) | that method |
//! | `idv.baf.v1.ApplicantService` or `idv.baf.v1.ApplicantService/*` | every method of the service |
//! | `read` | every method whose name starts with `Get`, `List`, `Watch`, `Check` or `Download` (then a capital letter or the end), and server reflection |
//! | `reflection` | server reflection (`grpc.reflection.v1` and `v1alpha`), which `grpcurl` needs |
//!
//! A list allows a method when any of its scopes does; an empty list allows everything.
//! A service always has a package (a `.`), so a bare word is a group and a typo such as
//! `raed` is refused at load instead of silently allowing nothing. Health is outside scopes:
//! it is open to everyone.
//!
//! `read` includes reflection because describing the API changes nothing, and a read-only
//! caller with `grpcurl` needs it to call anything.

use std::fmt;

/// Method-name prefixes of the `read` group: the gateway names every call that changes
/// nothing this way, and every call that changes something otherwise (`Create`, `Update`,
/// `Start`, `Submit`, `Request`...).
const READ_PREFIXES: [&str; 5] = ["Get", "List", "Watch", "Check", "Download"];

/// The reflection services `reflection` allows.
const REFLECTION_SERVICES: [&str; 2] =
    ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];

/// One parsed scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One method of one service.
    Method {
        /// Fully qualified service name.
        service: String,
        /// Method name.
        method: String,
    },
    /// Every method of a service (fully qualified name).
    Service(String),
    /// A named group.
    Group(Group),
}

/// The named groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Methods that change nothing, and reflection.
    Read,
    /// Server reflection.
    Reflection,
}

/// A caller's scopes; empty allows everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Allows every method.
    pub fn everything() -> Self {
        Self(Vec::new())
    }

    /// Parses a list, reporting every bad entry by position (`scope 2: ...`).
    pub fn parse<S: AsRef<str>>(list: &[S]) -> Result<Self, Vec<String>> {
        let mut scopes = Vec::with_capacity(list.len());
        let mut problems = Vec::new();
        for (i, text) in list.iter().enumerate() {
            match Scope::parse(text.as_ref()) {
                Ok(scope) => scopes.push(scope),
                Err(why) => problems.push(format!("scope {}: {why}", i + 1)),
            }
        }
        if problems.is_empty() { Ok(Self(scopes)) } else { Err(problems) }
    }

    /// Whether every method is allowed.
    pub fn is_everything(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the call with this HTTP/2 path (`/package.Service/Method`) is allowed. A path
    /// that is not a gRPC method path is allowed only to callers with every method.
    pub fn allows(&self, path: &str) -> bool {
        if self.is_everything() {
            return true;
        }
        let Some((service, method)) = split_path(path) else { return false };
        self.0.iter().any(|scope| scope.allows(service, method))
    }
}

impl Scope {
    /// Parses one scope (see the module documentation).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bare = text.strip_prefix('/').unwrap_or(text);
        if let Some((service, method)) = bare.split_once('/') {
            check_service(service)?;
            if method == "*" {
                return Ok(Self::Service(service.to_owned()));
            }
            if !is_identifier(method) {
                return Err(format!("'{text}': the method after '/' must be a name or '*'"));
            }
            return Ok(Self::Method { service: service.to_owned(), method: method.to_owned() });
        }
        if text.starts_with('/') {
            return Err(format!("'{text}': a method scope is /package.Service/Method"));
        }
        if text.contains('.') {
            check_service(text)?;
            return Ok(Self::Service(text.to_owned()));
        }
        match text {
            "read" => Ok(Self::Group(Group::Read)),
            "reflection" => Ok(Self::Group(Group::Reflection)),
            _ => Err(format!(
                "unknown group '{text}' (groups: read, reflection; a service needs its package, such as \
                 idv.baf.v1.ApplicantService)"
            )),
        }
    }

    fn allows(&self, service: &str, method: &str) -> bool {
        match self {
            Self::Method { service: s, method: m } => s == service && m == method,
            Self::Service(s) => s == service,
            Self::Group(Group::Read) => is_read(method) || REFLECTION_SERVICES.contains(&service),
            Self::Group(Group::Reflection) => REFLECTION_SERVICES.contains(&service),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Method { service, method } => write!(f, "/{service}/{method}"),
            Self::Service(service) => write!(f, "{service}"),
            Self::Group(Group::Read) => f.write_str("read"),
            Self::Group(Group::Reflection) => f.write_str("reflection"),
        }
    }
}

/// Splits `/package.Service/Method` into its service and method.
pub(crate) fn split_path(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    (!service.is_empty() && !method.is_empty() && !method.contains('/')).then_some((service, method))
}

fn is_read(method: &str) -> bool {
    READ_PREFIXES.iter().any(|prefix| {
        method
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_uppercase()))
    })
}

fn check_service(service: &str) -> Result<(), String> {
    let parts: Vec<&str> = service.split('.').collect();
    if parts.len() < 2 || !parts.iter().all(|p| is_identifier(p)) {
        return Err(format!(
            "'{service}': a service is package.Service, such as idv.baf.v1.ApplicantService"
        ));
    }
    Ok(())
}

/// A protobuf identifier: a letter or `_`, then letters, digits or `_`.
fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: &str = "/idv.baf.v1.ApplicantService/GetApplicant";
    const CREATE: &str = "/idv.baf.v1.ApplicantService/CreateApplicant";
    const WATCH: &str = "/idv.attempts.v1.AttemptService/WatchAttempt";
    const START: &str = "/idv.ableid.v1.AbleIdService/StartResidentCheck";
    const REFLECT: &str = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";

    fn scopes(list: &[&str]) -> Scopes {
        Scopes::parse(list).unwrap()
    }

    #[test]
    fn empty_allows_everything() {
        let all = Scopes::everything();
        for path in [GET, CREATE, START, REFLECT, "/not-grpc"] {
            assert!(all.allows(path), "{path}");
        }
    }

    #[test]
    fn read_allows_reads_and_reflection_only() {
        let read = scopes(&["read"]);
        for path in [
            GET,
            WATCH,
            REFLECT,
            "/idv.baf.v1.ApplicantService/ListApplicants",
            "/idv.baf.v1.ApplicantService/CheckApplicantCompleted",
            "/idv.baf.v1.ApplicantService/DownloadAttemptVideo",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ] {
            assert!(read.allows(path), "{path}");
        }
        for path in [
            CREATE,
            START,
            "/idv.baf.v1.ApplicantService/DeleteApplicant",
            "/idv.ableid.v1.AbleIdService/RequestPassport",
            "/x.Y/Getaway",
            "/x.Y/Listen",
            "/not-grpc",
            "/x.Y/GetA/B",
        ] {
            assert!(!read.allows(path), "{path}");
        }
    }

    #[test]
    fn services_methods_and_reflection() {
        let baf = scopes(&["idv.baf.v1.ApplicantService"]);
        assert!(baf.allows(GET) && baf.allows(CREATE) && !baf.allows(START) && !baf.allows(REFLECT));
        assert_eq!(baf, scopes(&["idv.baf.v1.ApplicantService/*"]));
        let one = scopes(&["/idv.ableid.v1.AbleIdService/StartResidentCheck", "reflection"]);
        assert!(one.allows(START) && one.allows(REFLECT) && !one.allows(GET));
        assert_eq!(one, scopes(&["idv.ableid.v1.AbleIdService/StartResidentCheck", "reflection"]));
        // A service of the same name in another package is another service.
        assert!(!scopes(&["idv.baf.v2.ApplicantService"]).allows(GET));
    }

    #[test]
    fn bad_scopes_are_all_reported() {
        let errors = Scopes::parse(&[
            "raed",
            "ApplicantService",
            "/idv.baf.v1.ApplicantService",
            "idv.baf.v1.ApplicantService/Get-Applicant",
            "idv..v1.X",
            "idv.baf.v1.ApplicantService/Get/Applicant",
            "",
            "read",
        ])
        .unwrap_err();
        assert_eq!(errors.len(), 7, "{errors:#?}");
        assert!(errors[0].starts_with("scope 1: unknown group 'raed'"), "{}", errors[0]);
        assert!(errors[6].starts_with("scope 7:"), "{}", errors[6]);
    }

    #[test]
    fn display_round_trips() {
        for text in ["/a.B/C", "a.b.C", "read", "reflection"] {
            let scope = Scope::parse(text).unwrap();
            assert_eq!(Scope::parse(&scope.to_string()).unwrap(), scope);
        }
    }
}
