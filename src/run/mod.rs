//! Runs: a lockfile per training run that ties it to its code, data,
//! parameters, outputs, metrics and environment.
//!
//! A run named `run-42` is recorded in `.rvc/runs/run-42.lock`, a TOML file
//! meant to be committed and read in diffs (format: docs/format.md). Its
//! **run id** is the BLAKE3 of the lockfile's bytes; anywhere a run name is
//! accepted, the run id or a unique prefix of it works too. A name may have
//! several segments (`sweep-3/lr-1e-4`); the run is then a child of the run
//! named by the segments before the last.

pub mod code;
pub mod diff;
pub mod env;
pub mod exec;
pub mod metrics;
pub mod params;
pub mod query;
pub mod record;
pub mod rowdiff;
pub mod system;
pub mod table;
pub mod tensorboard;

use std::path::{Path, PathBuf};

use crate::error::{Error, Format, FormatError, LookupError, Result};
use crate::format::id::{self, Id};
use crate::repository::Repo;

// The lockfile's data types live with its codec in `format::lockfile`;
// this module gives them behaviour (capture, record, compare).
pub use crate::format::lockfile::{
    check_name, Artifact, CodeState, Environment, Lockfile, Metrics, Process, Requirements,
    RunInfo, Status, System, SUFFIX, VERSION, VERSION_RUN,
};

/// A lockfile found in `.rvc/runs/`, with its run id.
#[derive(Clone, Debug)]
pub struct Run {
    pub lock: Lockfile,
    pub id: Id,
    /// Repository-relative path of the lockfile.
    pub file: String,
}

/// The parent a name implies: `sweep-3/lr-1e-4` → `sweep-3`.
pub fn implied_parent(name: &str) -> Option<&str> {
    name.rsplit_once('/').map(|(p, _)| p)
}

/// Where the lockfile of `name` lives.
pub fn lockfile_path(repo: &Repo, name: &str) -> PathBuf {
    repo.rvc_dir().join("runs").join(format!("{name}{SUFFIX}"))
}

/// Load one lockfile from disk.
pub fn load(repo: &Repo, path: &Path) -> Result<Run> {
    let shown = path
        .strip_prefix(repo.root())
        .unwrap_or(path)
        .display()
        .to_string();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        op: "read",
        path: path.to_path_buf(),
        source,
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::Format(FormatError::file(
            Format::Lockfile,
            shown.clone(),
            None,
            "not valid UTF-8",
        ))
    })?;
    let lock = Lockfile::parse(text, &shown)?;
    // The name inside must be the one the file's place gives it.
    let runs_dir = repo.rvc_dir().join("runs");
    let expected = path
        .strip_prefix(&runs_dir)
        .ok()
        .and_then(|p| p.to_str())
        .and_then(|p| p.strip_suffix(SUFFIX))
        .map(str::to_string);
    if let Some(expected) = expected {
        if expected != lock.run.name {
            return Err(Error::Format(FormatError::file(Format::Lockfile, shown, None, format!("the run is named `{}` inside, but its file says `{expected}`; rename one to match", lock.run.name))));
        }
    }
    Ok(Run {
        lock,
        id: crate::format::hash::hash_bytes(&bytes),
        file: shown,
    })
}

/// Every run, sorted by name. A malformed lockfile is an error naming it.
pub fn all(repo: &Repo) -> Result<Vec<Run>> {
    let mut files = Vec::new();
    collect(&repo.rvc_dir().join("runs"), &mut files);
    files.sort();
    let mut runs: Vec<Run> = files.iter().map(|f| load(repo, f)).collect::<Result<_>>()?;
    runs.sort_by(|a, b| natural_cmp(&a.lock.run.name, &b.lock.run.name));
    Ok(runs)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "lock") {
            out.push(p);
        }
    }
}

/// Compare names so that numbers inside them sort by value:
/// `run-2` before `run-10`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let nx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let ny = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let trim = |d: &[u8]| -> Vec<u8> {
                    d.iter().skip_while(|&&c| c == b'0').copied().collect()
                };
                let (tx, ty) = (trim(&x[..nx]), trim(&y[..ny]));
                let o = tx.len().cmp(&ty.len()).then_with(|| tx.cmp(&ty));
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
                x = &x[nx..];
                y = &y[ny..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

/// Find a run by name, or by its run id or a unique prefix of it. An
/// unknown name comes back with the nearest existing names; a hex prefix
/// too short to be used, with the runs it would match.
pub fn resolve(repo: &Repo, name_or_id: &str) -> Result<Run> {
    if check_name(name_or_id).is_ok() {
        let path = lockfile_path(repo, name_or_id);
        if path.is_file() {
            return load(repo, &path);
        }
    }
    let runs = all(repo)?;
    let unknown = |runs: &[Run]| {
        Error::Lookup(LookupError::UnknownRun {
            name: name_or_id.to_string(),
            similar: similar_names(runs, name_or_id),
        })
    };
    let lower = name_or_id.to_ascii_lowercase();
    let is_hex = !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex && lower.len() < id::MIN_PREFIX {
        let matching: Vec<String> = runs
            .iter()
            .filter(|r| r.id.to_hex().starts_with(&lower))
            .map(|r| format!("{} (run {})", r.id.short(), r.lock.run.name))
            .collect();
        if matching.is_empty() {
            return Err(unknown(&runs));
        }
        return Err(Error::Lookup(LookupError::PrefixTooShort {
            prefix: name_or_id.to_string(),
            min: id::MIN_PREFIX,
            candidates: matching,
        }));
    }
    let Ok(prefix) = id::parse_prefix(name_or_id) else {
        return Err(unknown(&runs));
    };
    let found: Vec<&Run> = runs
        .iter()
        .filter(|r| r.id.to_hex().starts_with(&prefix))
        .collect();
    match found.len() {
        0 => Err(unknown(&runs)),
        1 => Ok(found[0].clone()),
        _ => Err(Error::Lookup(LookupError::AmbiguousId {
            prefix,
            candidates: found
                .iter()
                .map(|r| format!("{} (run {})", r.id.short(), r.lock.run.name))
                .collect(),
        })),
    }
}

/// Names of `runs` close to `name` (a typo, another number), nearest
/// first, at most three.
pub fn similar_names(runs: &[Run], name: &str) -> Vec<String> {
    let limit = (name.chars().count() / 3).max(2);
    let mut near: Vec<(usize, &str)> = runs
        .iter()
        .map(|r| r.lock.run.name.as_str())
        .map(|n| (strsim::levenshtein(n, name), n))
        .filter(|(d, _)| *d <= limit)
        .collect();
    near.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| natural_cmp(a.1, b.1)));
    near.into_iter()
        .take(3)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// Now, as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    rfc3339(std::time::SystemTime::now())
}

/// Format a time as RFC 3339 UTC (`2026-11-22T14:05:00Z`).
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Check that `text` is an RFC 3339 UTC time as rvc writes it.
pub fn check_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["run-42", "sweep-3/lr-1e-4", "a.b_c", "0"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "../x", "a//b", "-x", ".hidden", "a/", "a b", "a\\b", "/abs",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert_eq!(implied_parent("sweep-3/lr-1e-4"), Some("sweep-3"));
    }

    #[test]
    fn natural_order() {
        let mut names = vec!["run-10", "run-2", "run-1", "run-100", "a", "run-02"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            ["a", "run-1", "run-02", "run-2", "run-10", "run-100"]
        );
    }

    #[test]
    fn times() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_356_300);
        assert_eq!(rfc3339(t), "2026-11-22T14:05:00Z");
        assert_eq!(rfc3339(std::time::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert!(check_rfc3339("2026-11-22T14:05:00Z"));
        assert!(!check_rfc3339("2026-11-22 14:05:00"));
    }
}
