//! Tracked directories checked out in part: `rvc checkout data/images/cat`
//! or `rvc pull data/train/shard-003` on a directory that is not there.
//!
//! The parts are recorded in `.rvc/state/partial.toml` (local state, never
//! committed), one list of paths inside the directory per tracked path:
//!
//! ```toml
//! [parts]
//! data = ["images/cat", "train/shard-003"]
//! ```
//!
//! The record is what keeps a partial checkout safe:
//! * `status` reports the files outside the parts as not checked out, not
//!   as removed, and checks only the parts against the store;
//! * `add` of the directory keeps the files outside the parts as the
//!   pointer names them, instead of dropping them from the new tree;
//! * `checkout` and `pull` without arguments restore only the parts;
//!   naming the directory itself restores all of it and ends the record.
//!
//! A record that cannot be read is an error, never "no record": treating
//! it as absent would make `add` drop what is not checked out.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Format, FormatError, IoContext, Result};
use crate::repository::Repo;

const FILE: &str = "partial.toml";

/// Which parts of which tracked directories are checked out.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Partial {
    #[serde(default)]
    parts: BTreeMap<String, BTreeSet<String>>,
}

impl Partial {
    fn path(repo: &Repo) -> std::path::PathBuf {
        repo.rvc_dir().join("state").join(FILE)
    }

    /// The record of `repo` (empty when there is none).
    pub fn load(repo: &Repo) -> Result<Partial> {
        let path = Self::path(repo);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Partial::default()),
            Err(source) => {
                return Err(Error::Io {
                    op: "read",
                    path,
                    source,
                })
            }
        };
        let bad = |message: String| {
            Error::Format(FormatError::file(
                Format::Partial,
                path.clone(),
                None,
                message,
            ))
        };
        let p: Partial = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
        for (dir, parts) in &p.parts {
            for part in parts {
                let joined = format!("{dir}/{part}");
                crate::format::tree::check_path(&joined)
                    .map_err(|e| bad(format!("{joined:?}: {e}")))?;
            }
        }
        Ok(p)
    }

    /// Write the record atomically (or remove it when it is empty).
    pub fn save(&self, repo: &Repo) -> Result<()> {
        let path = Self::path(repo);
        if self.parts.is_empty() {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io {
                    op: "remove",
                    path,
                    source: e,
                }),
                _ => Ok(()),
            };
        }
        let mut text = String::from(
            "# Written by rvc: the parts of tracked directories that are checked out.\n",
        );
        text.push_str(&toml::to_string(self).expect("a map of strings serializes"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).at("create directory", dir)?;
        }
        crate::io::atomic::write_atomic(&path, text.as_bytes())
    }

    /// The parts of the tracked directory `dir` that are checked out, or
    /// `None` when it is checked out whole.
    pub fn parts(&self, dir: &str) -> Option<&BTreeSet<String>> {
        self.parts.get(dir)
    }

    /// Record `part` of `dir` as checked out. A part inside one already
    /// recorded adds nothing; parts inside the new one are folded into it.
    pub fn include(&mut self, dir: &str, part: &str) {
        let parts = self.parts.entry(dir.to_string()).or_default();
        if parts.iter().any(|p| within(part, p)) {
            return;
        }
        parts.retain(|p| !within(p, part));
        parts.insert(part.to_string());
    }

    /// `dir` is checked out whole again.
    pub fn clear(&mut self, dir: &str) -> bool {
        self.parts.remove(dir).is_some()
    }
}

/// Whether the path `rel` (inside a directory) is `part` or below it.
pub fn within(rel: &str, part: &str) -> bool {
    rel == part || (rel.starts_with(part) && rel.as_bytes().get(part.len()) == Some(&b'/'))
}

/// Whether `rel` is in any of `parts`.
pub fn in_parts(rel: &str, parts: &BTreeSet<String>) -> bool {
    parts.iter().any(|p| within(rel, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_fold_into_each_other() {
        let mut p = Partial::default();
        p.include("data", "images/cat/1.png");
        p.include("data", "images/cat");
        p.include("data", "images/cat/2.png");
        p.include("data", "images/catalog");
        let parts: Vec<&str> = p
            .parts("data")
            .unwrap()
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(parts, ["images/cat", "images/catalog"]);
        assert!(in_parts("images/cat/x", p.parts("data").unwrap()));
        assert!(!in_parts("images/ca", p.parts("data").unwrap()));
        assert!(p.clear("data"));
        assert_eq!(p, Partial::default());
    }
}
