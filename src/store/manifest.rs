//! Manifests: the ordered chunk list of a file stored in pieces.
//!
//! A manifest is stored under the file id of the file it describes. It is
//! text, one line per chunk in file order:
//!
//! ```text
//! <chunk id> <chunk size>\n
//! ```
//!
//! Manifests are untrusted: [`Manifest::parse`] checks every line, and the
//! file they describe is verified against its id whenever it is rebuilt.

use std::fmt::Write as _;

use crate::error::{Error, Format, FormatError, Result};
use crate::format::id::Id;

/// One piece of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    pub id: Id,
    pub size: u64,
}

/// The chunks of one file, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub pieces: Vec<Piece>,
}

impl Manifest {
    /// The file's size.
    pub fn size(&self) -> u64 {
        self.pieces.iter().map(|p| p.size).sum()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.pieces.len() * 80);
        for p in &self.pieces {
            let _ = writeln!(out, "{} {}", p.id, p.size);
        }
        out.into_bytes()
    }

    /// Parse a stored manifest; `id` (the file id) names it in errors.
    pub fn parse(bytes: &[u8], id: &Id) -> Result<Manifest> {
        let err = |line: usize, message: String| {
            Error::Format(FormatError::object(
                Format::Manifest,
                id.to_hex(),
                Some(line),
                message,
            ))
        };
        let text = std::str::from_utf8(bytes).map_err(|_| err(1, "not valid UTF-8".into()))?;
        let Some(body) = text.strip_suffix('\n') else {
            return Err(err(1, "empty, or the last line is not terminated".into()));
        };
        let mut pieces = Vec::new();
        let mut total = 0u64;
        for (i, line) in body.split('\n').enumerate() {
            let n = i + 1;
            let (chunk, size) = line
                .split_once(' ')
                .ok_or_else(|| err(n, "expected `<chunk id> <size>`".into()))?;
            let chunk = Id::parse(chunk).map_err(|e| err(n, e.to_string()))?;
            let size: u64 = match size.parse() {
                Ok(s)
                    if s > 0
                        && s as usize <= super::chunk::DECODED_LIMIT
                        && !size.starts_with('0') =>
                {
                    s
                }
                _ => return Err(err(n, format!("bad chunk size `{size}`"))),
            };
            total = total
                .checked_add(size)
                .ok_or_else(|| err(n, "sizes overflow".into()))?;
            pieces.push(Piece { id: chunk, size });
        }
        Ok(Manifest { pieces })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let m = Manifest {
            pieces: vec![
                Piece {
                    id: blake3::hash(b"a").into(),
                    size: 5,
                },
                Piece {
                    id: blake3::hash(b"b").into(),
                    size: 7,
                },
            ],
        };
        let id: Id = blake3::hash(b"f").into();
        assert_eq!(Manifest::parse(&m.encode(), &id).unwrap(), m);
        assert_eq!(m.size(), 12);
        let good = m.encode();
        let text = String::from_utf8(good).unwrap();
        for bad in [
            String::new(),
            text.trim_end().to_string(),
            text.replace(" 5\n", " 0\n"),
            text.replace(" 5\n", " 05\n"),
            text.replace(" 5\n", " -5\n"),
            text.replace(" 5\n", " 99999999999\n"),
            text.replace(" 5\n", "\n"),
            text.replace('\n', "\r\n"),
        ] {
            assert!(Manifest::parse(bad.as_bytes(), &id).is_err(), "{bad:?}");
        }
    }
}
