//! Trees: the listing that names a directory's content.
//!
//! A tree is the list of its regular files, sorted by relative path (bytewise
//! on UTF-8, `/` as separator), one line each:
//!
//! ```text
//! <kind> <size> <file id> <path>\n
//! ```
//!
//! `kind` is `file`, or `exec` for a file with any execute bit set. The
//! **tree id** is BLAKE3 in derive-key mode with the context
//! [`TREE_CONTEXT`] over exactly these bytes, so it can never equal a file id
//! and anyone can check it with `b3sum --derive-key "rvc tree v1"`. The same
//! bytes are what the store keeps for a tree. Empty directories are not
//! recorded, as in git.
//!
//! A tree read back from the store is untrusted: [`Tree::parse`] checks the
//! order, the kinds, the ids and that every path stays inside the tree.

use std::io::Write as _;

use crate::error::{Error, Format, FormatError, Result};
use crate::format::hash::Rows;
use crate::format::id::Id;

/// Derive-key context for tree ids.
pub const TREE_CONTEXT: &str = "rvc tree v1";
/// Derive-key context for the combined rows hash of a tree's row files.
pub const TREE_ROWS_CONTEXT: &str = "rvc tree rows v1";

/// File kind within a tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    File,
    Exec,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Exec => "exec",
        }
    }
}

/// One file of a tree.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// Path relative to the tree's root, `/`-separated.
    pub path: String,
    pub kind: Kind,
    pub size: u64,
    pub id: Id,
}

/// A directory listing, always sorted by path with no duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tree {
    entries: Vec<Entry>,
}

impl Tree {
    /// Build a tree from entries in any order. Fails on a duplicate path or
    /// a path that could not be written back safely.
    pub fn from_entries(mut entries: Vec<Entry>) -> Result<Tree> {
        entries.sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        let err = |line: usize, message: String| {
            Error::Format(FormatError::object(
                Format::Tree,
                "(new)",
                Some(line),
                message,
            ))
        };
        for (i, e) in entries.iter().enumerate() {
            check_path(&e.path).map_err(|m| err(i + 1, m.to_string()))?;
            if i > 0 && entries[i - 1].path == e.path {
                return Err(err(i + 1, format!("duplicate path {}", e.path)));
            }
        }
        check_no_file_parent(&entries).map_err(|(line, m)| err(line, m))?;
        Ok(Tree { entries })
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Total bytes of all files.
    pub fn size(&self) -> u64 {
        self.entries
            .iter()
            .fold(0u64, |acc, e| acc.saturating_add(e.size))
    }

    /// The canonical listing, as hashed and stored.
    pub fn encode(&self) -> Vec<u8> {
        // kind, size, 64 hex digits, path, three spaces and a newline.
        let len: usize = self.entries.iter().map(|e| e.path.len() + 96).sum();
        let mut out = Vec::with_capacity(len);
        for e in &self.entries {
            write_line(&mut out, e.kind, e.size, &e.id, &e.path);
        }
        out
    }

    /// The tree id of this listing.
    pub fn id(&self) -> Id {
        id_of_listing(&self.encode())
    }

    /// Find an entry by relative path.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries
            .binary_search_by(|e| e.path.as_bytes().cmp(path.as_bytes()))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// Parse a stored listing. `id` is only used in error messages.
    pub fn parse(bytes: &[u8], id: &str) -> Result<Tree> {
        let err = |line: usize, message: String| {
            Error::Format(FormatError::object(
                Format::Tree,
                id.to_string(),
                Some(line),
                message,
            ))
        };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            err(line, "not valid UTF-8".into())
        })?;
        let body = match text.strip_suffix('\n') {
            Some(body) => body,
            None if text.is_empty() => "",
            None => {
                let last = text.split('\n').count();
                return Err(err(last, "last line is not terminated".into()));
            }
        };
        let lines = body.split('\n').filter(|_| !text.is_empty());
        let mut entries: Vec<Entry> = Vec::new();
        // Split on '\n' only: a '\r' stays in its line and is refused as a
        // control character, so an accepted listing re-encodes to its bytes.
        for (i, line) in lines.enumerate() {
            let n = i + 1;
            let mut parts = line.splitn(4, ' ');
            let (Some(kind), Some(size), Some(fid), Some(path)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(err(n, "expected `<kind> <size> <id> <path>`".into()));
            };
            let kind = match kind {
                "file" => Kind::File,
                "exec" => Kind::Exec,
                other => return Err(err(n, format!("unknown kind `{other}`"))),
            };
            if size.is_empty()
                || !size.bytes().all(|b| b.is_ascii_digit())
                || (size.len() > 1 && size.starts_with('0'))
            {
                return Err(err(n, format!("bad size `{size}`")));
            }
            let size: u64 = size
                .parse()
                .map_err(|_| err(n, format!("bad size `{size}`")))?;
            let fid = Id::parse(fid).map_err(|e| err(n, e.to_string()))?;
            check_path(path).map_err(|m| err(n, m.to_string()))?;
            if let Some(prev) = entries.last() {
                if prev.path.as_bytes() >= path.as_bytes() {
                    return Err(err(n, format!("path {path} is out of order or repeated")));
                }
            }
            entries.push(Entry {
                path: path.to_string(),
                kind,
                size,
                id: fid,
            });
        }
        check_no_file_parent(&entries).map_err(|(line, m)| err(line, m))?;
        Ok(Tree { entries })
    }
}

/// Refuse a file that is also used as a directory (`a` and `a/b`): such a
/// tree cannot exist on disk. Entries must be sorted; errors carry the
/// 1-based line of the offending entry.
fn check_no_file_parent(entries: &[Entry]) -> std::result::Result<(), (usize, String)> {
    let files: std::collections::HashSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    for (i, e) in entries.iter().enumerate() {
        for (pos, _) in e.path.match_indices('/') {
            let parent = &e.path[..pos];
            if files.contains(parent) {
                return Err((i + 1, format!("{} is inside the file {parent}", e.path)));
            }
        }
    }
    Ok(())
}

/// Append one listing line: `<kind> <size> <file id> <path>\n`.
fn write_line(out: &mut Vec<u8>, kind: Kind, size: u64, id: &Id, path: &str) {
    out.extend_from_slice(kind.as_str().as_bytes());
    out.push(b' ');
    let _ = write!(out, "{size}");
    out.push(b' ');
    id.write_hex(out);
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.push(b'\n');
}

/// The tree id of entries already sorted by path and known to be valid
/// (as a directory scan gives them), streamed into the hasher without
/// building a [`Tree`]. Equal to `Tree::from_entries(..).id()`.
pub fn id_of_sorted<'a>(entries: impl Iterator<Item = (&'a str, Kind, u64, Id)>) -> Id {
    let mut h = blake3::Hasher::new_derive_key(TREE_CONTEXT);
    let mut buf = Vec::with_capacity(64 << 10);
    for (path, kind, size, id) in entries {
        write_line(&mut buf, kind, size, &id, path);
        if buf.len() >= 60 << 10 {
            h.update(&buf);
            buf.clear();
        }
    }
    h.update(&buf);
    h.finalize().into()
}

/// The tree id of raw listing bytes.
pub fn id_of_listing(listing: &[u8]) -> Id {
    let mut h = blake3::Hasher::new_derive_key(TREE_CONTEXT);
    h.update(listing);
    h.finalize().into()
}

/// The combined rows of a tree's row files: the row counts added up, and a
/// derive-key hash over `<count> <rows hash> <path>\n` lines sorted by path.
/// `None` when the tree holds no row file.
pub fn combined_rows<'a>(rows: impl IntoIterator<Item = (&'a str, Rows)>) -> Option<Rows> {
    let mut items: Vec<(&str, Rows)> = rows.into_iter().collect();
    if items.is_empty() {
        return None;
    }
    items.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut h = blake3::Hasher::new_derive_key(TREE_ROWS_CONTEXT);
    let mut count = 0u64;
    for (path, r) in items {
        count += r.count;
        h.update(format!("{} {} {}\n", r.count, r.hash, path).as_bytes());
    }
    Some(Rows {
        count,
        hash: h.finalize().into(),
    })
}

/// A path inside a tree must be relative, `/`-separated, with no empty,
/// `.`, `..` or `.git` component, and no control characters such as
/// newlines. (`.git` is refused as git itself refuses it: a checkout must
/// never write into a git directory.)
pub fn check_path(path: &str) -> std::result::Result<(), BadPath> {
    if path.is_empty() {
        return Err(BadPath::Empty);
    }
    if path.chars().any(|c| c.is_control()) {
        return Err(BadPath::ControlCharacter(path.into()));
    }
    if path.starts_with('/') {
        return Err(BadPath::Absolute(path.into()));
    }
    for comp in path.split('/') {
        if comp.is_empty() || comp == "." || comp == ".." {
            return Err(BadPath::DotOrEmptyComponent(path.into()));
        }
        if comp.eq_ignore_ascii_case(".git") {
            return Err(BadPath::GitComponent(path.into()));
        }
    }
    Ok(())
}

/// Why [`check_path`] refuses a path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadPath {
    #[error("empty path")]
    Empty,
    #[error("path {0:?} contains a control character")]
    ControlCharacter(String),
    #[error("path {0} is absolute")]
    Absolute(String),
    #[error("path {0} has an empty, `.` or `..` component")]
    DotOrEmptyComponent(String),
    #[error("path {0} has a .git component")]
    GitComponent(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, data: &[u8]) -> Entry {
        Entry {
            path: path.into(),
            kind: Kind::File,
            size: data.len() as u64,
            id: blake3::hash(data).into(),
        }
    }

    #[test]
    fn encode_parse_round_trip_and_order() {
        let t = Tree::from_entries(vec![
            entry("b/x", b"2"),
            entry("a", b"1"),
            entry("a.b", b"3"),
        ])
        .unwrap();
        let paths: Vec<_> = t.entries().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a", "a.b", "b/x"]);
        let back = Tree::parse(&t.encode(), "t").unwrap();
        assert_eq!(back, t);
        assert_ne!(t.id(), Id::from(blake3::hash(&t.encode())));
    }

    #[test]
    fn parse_rejects_hostile_listings() {
        let id = Id::from(blake3::hash(b"")).to_hex();
        for bad in [
            format!("file 1 {id} ../etc/passwd\n"),
            format!("file 1 {id} /abs\n"),
            format!("file 1 {id} a//b\n"),
            format!("file 1 {id} x/.GIT/hooks/pre-commit\n"),
            format!("file 1 {id} b\nfile 1 {id} a\n"),
            format!("file 1 {id} a\nfile 1 {id} a\n"),
            format!("file 1 {id} a\nfile 1 {id} a/b\n"),
            format!("link 1 {id} a\n"),
            format!("file -1 {id} a\n"),
            format!("file 01 {id} a\n"),
            format!("file 1 {id} a"),
            "file 1 abc a\n".to_string(),
        ] {
            let e = Tree::parse(bad.as_bytes(), "t").unwrap_err();
            assert!(e.to_string().contains("line"), "{e}");
        }
    }

    #[test]
    fn streamed_id_equals_the_built_tree_id() {
        let t = Tree::from_entries(
            (0..3000)
                .map(|i| entry(&format!("d{}/f{i}", i % 7), format!("{i}").as_bytes()))
                .collect(),
        )
        .unwrap();
        let streamed = id_of_sorted(
            t.entries()
                .iter()
                .map(|e| (e.path.as_str(), e.kind, e.size, e.id)),
        );
        assert_eq!(streamed, t.id());
    }

    #[test]
    fn combined_rows_is_order_free() {
        let r = |n| Rows {
            count: n,
            hash: blake3::hash(&[n as u8]).into(),
        };
        let a = combined_rows([("a.csv", r(1)), ("b.csv", r(2))]).unwrap();
        let b = combined_rows([("b.csv", r(2)), ("a.csv", r(1))]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.count, 3);
        assert!(combined_rows(std::iter::empty()).is_none());
    }
}
