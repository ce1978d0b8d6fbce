//! Pointer files: the small TOML file `PATH.rvc` committed beside each
//! tracked path, naming the content it should hold.
//!
//! ```toml
//! # rvc pointer: commit this file. `rvc checkout` restores the data it names.
//! version = 1
//! path = "data"
//! kind = "dir"
//! id = "<64 hex digits: file id or tree id>"
//! size = 123456
//! files = 20000
//! rows = 1000000
//! rows_hash = "<64 hex digits>"
//! ```
//!
//! Pointer files are untrusted: they may be hand-edited or merged badly.
//! [`Pointer::parse`] refuses unknown keys, bad ids and any `path` other than
//! the pointer's own name without `.rvc`, so a pointer can never point
//! outside its own directory.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Format, FormatError, Result};
use crate::format::hash::Rows;
use crate::format::id::Id;

/// Suffix of pointer files.
pub const SUFFIX: &str = ".rvc";
/// Current pointer format version.
pub const VERSION: u32 = 1;

/// Whether a pointer names a single file or a directory tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PointerKind {
    File,
    Dir,
}

/// The parsed content of a pointer file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Pointer {
    /// The tracked path's file name (the pointer sits in the same directory).
    pub path: String,
    pub kind: PointerKind,
    pub id: Id,
    pub size: u64,
    pub files: u64,
    pub rows: Option<Rows>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    /// Checked before deserialising, see [`Pointer::parse`].
    #[serde(rename = "version")]
    _version: u32,
    path: String,
    kind: PointerKind,
    id: Id,
    size: u64,
    files: u64,
    rows: Option<u64>,
    rows_hash: Option<Id>,
}

impl Pointer {
    /// Render the pointer. The same pointer always gives the same bytes.
    pub fn encode(&self) -> String {
        let kind = match self.kind {
            PointerKind::File => "file",
            PointerKind::Dir => "dir",
        };
        let mut out = format!(
            "# rvc pointer: commit this file. `rvc checkout` restores the data it names.\n\
             version = {VERSION}\npath = {}\nkind = \"{kind}\"\nid = \"{}\"\nsize = {}\nfiles = {}\n",
            toml_string(&self.path),
            self.id,
            self.size,
            self.files
        );
        if let Some(r) = self.rows {
            out.push_str(&format!("rows = {}\nrows_hash = \"{}\"\n", r.count, r.hash));
        }
        out
    }

    /// Parse the pointer file at `file` from its `text`.
    pub fn parse(text: &str, file: &Path) -> Result<Pointer> {
        let syntax = |e: toml::de::Error| {
            Error::Format(FormatError::file(
                Format::Pointer,
                file.to_path_buf(),
                e.span().map(|s| line_of(text, s.start)),
                e.message().trim().replace('\n', "; "),
            ))
        };
        let bad = |key: &str, message: String| {
            Error::Format(FormatError::file(
                Format::Pointer,
                file.to_path_buf(),
                key_line(text, key),
                message,
            ))
        };
        // Check the version first: a newer format may have keys this rvc
        // does not know, and "upgrade rvc" is the useful message then.
        let table: toml::Table = toml::from_str(text).map_err(syntax)?;
        if let Some(v) = table.get("version").and_then(toml::Value::as_integer) {
            if v != i64::from(VERSION) {
                return Err(bad(
                    "version",
                    format!("version {v} is not supported by this rvc (it reads version {VERSION}); upgrade rvc"),
                ));
            }
        }
        let raw: Raw = toml::from_str(text).map_err(syntax)?;
        let expected = pointed_name(file)
            .ok_or_else(|| bad("path", "pointer file names must end in .rvc".into()))?;
        if raw.path != expected {
            return Err(bad(
                "path",
                format!("path is \"{}\", but this pointer can only name \"{expected}\" (the file beside it)", raw.path),
            ));
        }
        let rows = match (raw.rows, raw.rows_hash) {
            (Some(count), Some(hash)) => Some(Rows { count, hash }),
            (None, None) => None,
            _ => {
                let key = if raw.rows.is_some() {
                    "rows"
                } else {
                    "rows_hash"
                };
                return Err(bad(key, "rows and rows_hash must be given together".into()));
            }
        };
        if raw.kind == PointerKind::File && raw.files != 1 {
            return Err(bad(
                "files",
                format!("a file pointer has files = 1, not {}", raw.files),
            ));
        }
        Ok(Pointer {
            path: raw.path,
            kind: raw.kind,
            id: raw.id,
            size: raw.size,
            files: raw.files,
            rows,
        })
    }

    /// Read and parse a pointer file.
    pub fn load(file: &Path) -> Result<Pointer> {
        let text = std::fs::read(file).map_err(|source| Error::Io {
            op: "read pointer file",
            path: file.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(text).map_err(|e| {
            Error::Format(FormatError::file(
                Format::Pointer,
                file.to_path_buf(),
                Some(line_of_bytes(e.as_bytes(), e.utf8_error().valid_up_to())),
                "not valid UTF-8",
            ))
        })?;
        Pointer::parse(&text, file)
    }
}

/// The name a pointer file stands for: `data.rvc` → `data`.
pub fn pointed_name(pointer_file: &Path) -> Option<String> {
    let name = pointer_file.file_name()?.to_str()?;
    let stem = name.strip_suffix(SUFFIX)?;
    (!stem.is_empty() && stem != "." && stem != "..").then(|| stem.to_string())
}

/// The pointer file for a tracked path: `a/data` → `a/data.rvc`.
pub fn pointer_path_for(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(SUFFIX);
    PathBuf::from(s)
}

/// A TOML basic string. rvc escapes by itself, rather than through the
/// `toml` crate, so pointer bytes never depend on a library version.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn line_of(text: &str, offset: usize) -> usize {
    line_of_bytes(text.as_bytes(), offset)
}

fn line_of_bytes(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The line on which `key` is set, for error messages.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Pointer {
        Pointer {
            path: "data".into(),
            kind: PointerKind::Dir,
            id: blake3::hash(b"x").into(),
            size: 10,
            files: 2,
            rows: Some(Rows {
                count: 3,
                hash: blake3::hash(b"y").into(),
            }),
        }
    }

    #[test]
    fn round_trip() {
        let p = sample();
        let text = p.encode();
        assert_eq!(Pointer::parse(&text, Path::new("data.rvc")).unwrap(), p);
    }

    #[test]
    fn errors_name_file_and_line() {
        let text = sample().encode().replace("size = 10", "size = ten");
        let e = Pointer::parse(&text, Path::new("sub/data.rvc")).unwrap_err();
        assert!(e.to_string().starts_with("sub/data.rvc:6:"), "{e}");

        let text = sample()
            .encode()
            .replace("path = \"data\"", "path = \"../etc\"");
        let e = Pointer::parse(&text, Path::new("data.rvc")).unwrap_err();
        assert!(e.to_string().starts_with("data.rvc:3:"), "{e}");

        let text = sample().encode() + "extra = 1\n";
        assert!(Pointer::parse(&text, Path::new("data.rvc")).is_err());

        let text = sample().encode().replace("rows = 3\n", "");
        assert!(Pointer::parse(&text, Path::new("data.rvc")).is_err());
    }
}
