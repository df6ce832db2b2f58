//! URLs under a base, keeping whatever path the base already has.

use url::Url;

use crate::Error;

/// `base` with `path`'s segments appended, without query or fragment. Unlike
/// [`Url::join`], which replaces a last segment that has no trailing slash, this keeps
/// `https://host/prefix` as the root of `https://host/prefix/sandbox/...`.
pub(crate) fn under(base: &Url, path: &str) -> Result<Url, Error> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| Error::BaseUrl(base.clone()))?
        .pop_if_empty()
        .extend(path.split('/').filter(|s| !s.is_empty()));
    Ok(url)
}

/// `base` with `segments` appended, each percent-encoded as one segment. `base` is one
/// of the sandbox's own URLs, built by [`under`], so it can always take segments.
pub(crate) fn with_segments(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_appended_not_replaced() {
        let base = Url::parse("http://127.0.0.1:8081").unwrap();
        assert_eq!(under(&base, "sandbox/ableid").unwrap().as_str(), "http://127.0.0.1:8081/sandbox/ableid");
        let base = Url::parse("https://idv.example.com/gw?x=1").unwrap();
        assert_eq!(under(&base, "hooks/ableid").unwrap().as_str(), "https://idv.example.com/gw/hooks/ableid");
        let base = Url::parse("https://idv.example.com/gw/").unwrap();
        assert_eq!(
            under(&base, "/sandbox/b2core").unwrap().as_str(),
            "https://idv.example.com/gw/sandbox/b2core"
        );
        assert!(under(&Url::parse("mailto:someone@example.com").unwrap(), "x").is_err());
    }

    #[test]
    fn segments_are_encoded() {
        let base = Url::parse("http://h/sandbox/ableid").unwrap();
        assert_eq!(
            with_segments(&base, &["session", "a/b c"]).as_str(),
            "http://h/sandbox/ableid/session/a%2Fb%20c"
        );
    }
}
