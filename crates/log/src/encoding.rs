//! The two textual encodings every C2SP format in this crate shares: strict
//! decimal numbers and base64 SHA-256 hashes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::Hash;

/// Parses an ASCII decimal with no sign and no leading zeros ("0" itself is
/// fine), as the C2SP formats require; anything else, including overflow, is
/// `None`.
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    let canonical = match s.as_bytes() {
        [] => false,
        [b'0'] => true,
        [b'0', ..] => false,
        digits => digits.iter().all(u8::is_ascii_digit),
    };
    if canonical {
        s.parse().ok()
    } else {
        None
    }
}

/// Standard base64 with padding, canonical encodings only.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok()
}

/// Decodes a base64 SHA-256 hash; any other length is `None`.
pub(crate) fn decode_hash(s: &str) -> Option<Hash> {
    decode_base64(s)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_is_strict() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("10"), Some(10));
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "00",
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1a",
            "18446744073709551616",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hashes_are_32_bytes_of_canonical_base64() {
        let hash = [7u8; 32];
        let text = encode_base64(&hash);
        assert_eq!(decode_hash(&text), Some(hash));
        assert_eq!(
            decode_hash(text.trim_end_matches('=')),
            None,
            "padding is required"
        );
        assert_eq!(decode_hash(&encode_base64(&[7u8; 31])), None);
        assert_eq!(decode_hash(&encode_base64(&[7u8; 33])), None);
        assert_eq!(decode_hash("ZG9uJ3QgY2FyZSAx"), None);
        assert_eq!(decode_hash(""), None);
        // The last character of a 32-byte hash carries 2 unused bits; they must be zero.
        let mut noncanonical = text.clone().into_bytes();
        noncanonical[42] = b'9';
        assert_ne!(noncanonical, text.as_bytes());
        assert_eq!(
            decode_hash(std::str::from_utf8(&noncanonical).unwrap()),
            None
        );
    }
}
