//! Remote index objects: the codec. Each push ends by writing
//! `index/<name>`, a zstd-compressed text listing of the objects it
//! uploaded (docs/format.md, "Remote index objects"):
//!
//! ```text
//! rvc remote index v1
//! chunk <id>                 a loose chunk
//! manifest <id>              a manifest
//! tree <id>                  a tree
//! pack <pack id> <count>     a pack, followed by its <count> entries:
//! <id> <offset> <length>     one packed chunk (as in the pack's .idx)
//! ```
//!
//! Index objects come from a remote, so [`IndexData::decode`] trusts
//! nothing: every count, offset and length is checked.

use std::fmt::Write as _;

use crate::error::{Format, FormatError};
use crate::format::id::Id;
use crate::store::{Area, ObjectRef};

const HEADER: &str = "rvc remote index v1";
/// The largest index accepted, decoded.
const DECODED_LIMIT: usize = 1 << 30;

/// The largest index object read from a remote, as stored (compressed).
/// Bigger ones are refused from their listed size, before any is read.
pub const STORED_LIMIT: u64 = 256 << 20;

/// The objects one index lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexData {
    pub loose: Vec<ObjectRef>,
    pub packs: Vec<PackListing>,
}

/// A pack on the remote and its entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackListing {
    /// The pack id (64 hex digits), as in `packs/<id>.pack`.
    pub name: String,
    pub entries: Vec<(Id, u64, u32)>,
}

impl IndexData {
    pub fn is_empty(&self) -> bool {
        self.loose.is_empty() && self.packs.is_empty()
    }

    /// The text form, compressed.
    pub fn encode(&self) -> Vec<u8> {
        let entries: usize = self.packs.iter().map(|p| p.entries.len()).sum();
        let mut text = String::with_capacity((self.loose.len() + entries) * 90 + 32);
        text.push_str(HEADER);
        text.push('\n');
        for o in &self.loose {
            let _ = writeln!(text, "{} {}", area_name(o.area), o.id.to_hex());
        }
        for p in &self.packs {
            let _ = writeln!(text, "pack {} {}", p.name, p.entries.len());
            for (id, offset, len) in &p.entries {
                let _ = writeln!(text, "{} {offset} {len}", id.to_hex());
            }
        }
        zstd::bulk::compress(text.as_bytes(), 3).expect("compressing into memory cannot fail")
    }

    /// Parse the index object named `name`; the error says what is wrong
    /// and on which line.
    pub fn decode(bytes: &[u8], name: &str) -> Result<IndexData, FormatError> {
        let bad = |line: Option<usize>, message: String| {
            FormatError::object(Format::RemoteIndex, name, line, message)
        };
        // Streamed, so memory grows with what the frame really holds, up to
        // the limit, not with what its header claims.
        let mut text = Vec::new();
        let decoder = zstd::stream::read::Decoder::new(bytes)
            .map_err(|e| bad(None, format!("not a zstd frame ({e})")))?;
        std::io::Read::read_to_end(
            &mut std::io::Read::take(decoder, DECODED_LIMIT as u64 + 1),
            &mut text,
        )
        .map_err(|e| bad(None, format!("not a zstd frame ({e})")))?;
        if text.len() > DECODED_LIMIT {
            return Err(bad(
                None,
                format!("larger than {} MiB decoded", DECODED_LIMIT >> 20),
            ));
        }
        let text = std::str::from_utf8(&text).map_err(|_| bad(None, "not UTF-8 text".into()))?;
        let mut lines = text.split('\n').enumerate();
        match lines.next() {
            Some((_, HEADER)) => {}
            _ => return Err(bad(Some(1), format!("expected `{HEADER}`"))),
        }
        let mut data = IndexData::default();
        let mut pending: usize = 0;
        let mut ended = false;
        for (i, line) in lines {
            let n = i + 1;
            if ended {
                return Err(bad(Some(n), "text after the final newline".into()));
            }
            if line.is_empty() {
                ended = true;
                continue;
            }
            let fields: Vec<&str> = line.split(' ').collect();
            let id =
                |s: &str| Id::parse(s).map_err(|_| bad(Some(n), format!("`{s}` is not an id")));
            if pending > 0 {
                let [hex, offset, len] = fields[..] else {
                    return Err(bad(Some(n), "expected `<id> <offset> <length>`".into()));
                };
                let offset: u64 = offset
                    .parse()
                    .map_err(|_| bad(Some(n), format!("bad offset `{offset}`")))?;
                let len: u32 = len
                    .parse()
                    .map_err(|_| bad(Some(n), format!("bad length `{len}`")))?;
                if offset < crate::store::PACK_HEADER_LEN || len == 0 {
                    return Err(bad(Some(n), "entry outside the pack's data".into()));
                }
                if u64::from(len) > crate::store::chunk::DECODED_LIMIT as u64 {
                    return Err(bad(
                        Some(n),
                        format!("an entry of {len} bytes, larger than any chunk"),
                    ));
                }
                let pack = data.packs.last_mut().expect("pending implies a pack");
                pack.entries.push((id(hex)?, offset, len));
                pending -= 1;
                continue;
            }
            match fields[..] {
                ["pack", name, count] => {
                    id(name)?;
                    pending = count
                        .parse()
                        .map_err(|_| bad(Some(n), format!("bad entry count `{count}`")))?;
                    if pending == 0 {
                        return Err(bad(Some(n), "a pack with no entries".into()));
                    }
                    data.packs.push(PackListing {
                        name: name.to_string(),
                        entries: Vec::with_capacity(pending.min(1 << 20)),
                    });
                }
                [kind, hex] => {
                    let area = match kind {
                        "chunk" => Area::Chunk,
                        "manifest" => Area::Manifest,
                        "tree" => Area::Tree,
                        _ => return Err(bad(Some(n), format!("unknown object kind `{kind}`"))),
                    };
                    data.loose.push(ObjectRef { area, id: id(hex)? });
                }
                _ => return Err(bad(Some(n), format!("cannot parse `{line}`"))),
            }
        }
        if pending > 0 {
            return Err(bad(None, format!("the last pack lacks {pending} entries")));
        }
        if !ended {
            return Err(bad(
                None,
                "the last line has no newline (truncated?)".into(),
            ));
        }
        Ok(data)
    }
}

fn area_name(a: Area) -> &'static str {
    match a {
        Area::Chunk => "chunk",
        Area::Manifest => "manifest",
        Area::Tree => "tree",
    }
}
