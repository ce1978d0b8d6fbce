//! Content ids: 32-byte BLAKE3 outputs, written as 64 lowercase hex digits.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, LookupError, Result};

/// Length of an id in hex digits.
pub const HEX_LEN: usize = 64;
/// Shortest prefix accepted on the command line.
pub const MIN_PREFIX: usize = 4;

/// A BLAKE3 output naming a file, a tree or a rows stream.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id([u8; 32]);

impl Id {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Id(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The full lowercase hex form, as written in every file.
    pub fn to_hex(&self) -> String {
        let mut s = Vec::with_capacity(HEX_LEN);
        self.write_hex(&mut s);
        String::from_utf8(s).expect("hex digits are ASCII")
    }

    /// Append the 64 lowercase hex digits to `out`, without allocating.
    pub fn write_hex(&self, out: &mut Vec<u8>) {
        for b in self.0 {
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        }
    }

    /// The first 12 hex digits, for human output.
    pub fn short(&self) -> String {
        self.to_hex()[..12].to_string()
    }

    /// Parse exactly 64 lowercase hex digits. Uppercase is refused so that
    /// every id has one spelling in committed files.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason| {
            Error::Lookup(LookupError::BadId {
                text: text.to_string(),
                reason,
            })
        };
        if text.len() != HEX_LEN {
            return Err(bad("an id has exactly 64 hex digits"));
        }
        let mut out = [0u8; 32];
        let bytes = text.as_bytes();
        for (i, o) in out.iter_mut().enumerate() {
            let hi = hex_val(bytes[2 * i]).ok_or_else(|| bad("only 0-9 and a-f are allowed"))?;
            let lo =
                hex_val(bytes[2 * i + 1]).ok_or_else(|| bad("only 0-9 and a-f are allowed"))?;
            *o = (hi << 4) | lo;
        }
        Ok(Id(out))
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Check that `text` can be an id prefix typed by a user, and normalise it
/// to lowercase.
pub fn parse_prefix(text: &str) -> Result<String> {
    let lower = text.to_ascii_lowercase();
    if lower.len() < MIN_PREFIX || lower.len() > HEX_LEN {
        return Err(Error::Lookup(LookupError::BadId {
            text: text.to_string(),
            reason: "a prefix has 4 to 64 hex digits",
        }));
    }
    if !lower.bytes().all(|c| hex_val(c).is_some()) {
        return Err(Error::Lookup(LookupError::BadId {
            text: text.to_string(),
            reason: "only 0-9 and a-f are allowed",
        }));
    }
    Ok(lower)
}

impl From<blake3::Hash> for Id {
    fn from(h: blake3::Hash) -> Self {
        Id(*h.as_bytes())
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.short())
    }
}

impl FromStr for Id {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Id::parse(s)
    }
}

impl serde::Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Id::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let id = Id::from(blake3::hash(b"abc"));
        assert_eq!(Id::parse(&id.to_hex()).unwrap(), id);
        assert_eq!(id.short().len(), 12);
    }

    #[test]
    fn rejects_uppercase_short_and_non_hex() {
        let hex = Id::from(blake3::hash(b"abc")).to_hex();
        assert!(Id::parse(&hex.to_uppercase()).is_err());
        assert!(Id::parse(&hex[..63]).is_err());
        assert!(Id::parse(&format!("{}g", &hex[..63])).is_err());
        // Multi-byte UTF-8 of the right byte length must not panic.
        assert!(Id::parse(&"é".repeat(32)).is_err());
    }

    #[test]
    fn prefixes() {
        assert_eq!(parse_prefix("ABCD").unwrap(), "abcd");
        assert!(parse_prefix("abc").is_err());
        assert!(parse_prefix("xyz1").is_err());
    }
}
