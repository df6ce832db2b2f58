//! Base64 as the vendors' JSON carries images.
//!
//! BAF is an ASP.NET service: its `Convert.FromBase64String` reads the standard alphabet
//! with padding and skips white space, and nothing else (no URL-safe alphabet, no
//! `data:` prefix). The sandbox reads the same, so a gateway that sent anything else
//! would be caught here rather than by the real vendor.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Standard, padded base64.
pub(crate) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Standard, padded base64, white space ignored; `None` when it is not that.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_padded_base64_round_trips() {
        assert_eq!(encode(b"hi"), "aGk=");
        assert_eq!(encode(&[0xff, 0xef]), "/+8=");
        assert_eq!(decode("aGk=").unwrap(), b"hi");
        assert_eq!(decode("a G\nk=").unwrap(), b"hi", "white space is skipped, as .NET does");
    }

    #[test]
    fn other_forms_are_refused() {
        assert_eq!(decode("aGk"), None, "padding is required");
        assert_eq!(decode("_-8="), None, "the URL-safe alphabet is not read");
        assert_eq!(decode("data:image/jpeg;base64,aGk="), None);
        assert_eq!(decode("not base64!"), None);
    }
}
