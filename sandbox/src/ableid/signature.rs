//! The `hash` that signs every AbleID hook (`upstreams.md`, "Hook authenticity"):
//! `UPPER(SHA1(UPPER(SHA1(projectId + secret)) + attemptId))`, 40 hexadecimal digits.
//! It covers the attempt id only, not the body.

use sha1::{Digest, Sha1};

/// The signature of the hooks about `attempt_id` for the project `project_id`.
pub(super) fn hook_hash(project_id: &str, secret: &str, attempt_id: &str) -> String {
    let project_key = upper_sha1(&[project_id, secret]);
    upper_sha1(&[&project_key, attempt_id])
}

/// SHA-1 of the concatenated `parts`, as upper-case hexadecimal.
fn upper_sha1(parts: &[&str]) -> String {
    let mut sha1 = Sha1::new();
    for part in parts {
        sha1.update(part.as_bytes());
    }
    hex::encode_upper(sha1.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_an_independent_computation() {
        // python3 -c "import hashlib;s=lambda x:hashlib.sha1(x.encode()).hexdigest().upper();
        //   print(s(s('sandbox-project'+'sandbox-secret')+'3HQVkBm_zCZqKFbTWVrhf'))"
        assert_eq!(
            hook_hash("sandbox-project", "sandbox-secret", "3HQVkBm_zCZqKFbTWVrhf"),
            "EEA520BFB7A1B948AB1785D37100734C7C8C316C"
        );
    }

    #[test]
    fn depends_on_every_input() {
        let base = hook_hash("p", "s", "a");
        assert_eq!(base.len(), 40);
        assert!(base.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        assert_ne!(hook_hash("p", "s", "b"), base);
        assert_ne!(hook_hash("p", "t", "a"), base);
        assert_ne!(hook_hash("q", "s", "a"), base);
    }
}
