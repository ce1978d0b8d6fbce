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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::hash::Rows;
use crate::id::{self, Id};
use crate::pointer::{Pointer, PointerKind};
use crate::repo::Repo;

pub use code::CodeState;
pub use env::Environment;

/// Lockfile format version of a run recorded by `rvc lock`.
pub const VERSION: u32 = 1;
/// Lockfile format version 2: version 1 with the `[process]` and `[system]`
/// tables of `rvc run`, and the installed packages and CUDA versions under
/// `[env]`. It is written only when one of these is present, so a lockfile
/// that needs none keeps version 1; an rvc that reads only version 1 says
/// "upgrade rvc" instead of failing on a key it does not know.
pub const VERSION_RUN: u32 = 2;
/// Lockfile suffix.
pub const SUFFIX: &str = ".lock";

/// A run lockfile.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockfile {
    pub version: u32,
    pub run: RunInfo,
    /// `None` when the run was not in a git repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeState>,
    #[serde(default, rename = "input")]
    pub inputs: Vec<Artifact>,
    #[serde(default, rename = "output")]
    pub outputs: Vec<Artifact>,
    /// Flattened parameters.
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub metrics: Metrics,
    pub env: Environment,
    /// The command `rvc run` ran: how it ended, and its log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
    /// System metrics sampled while `rvc run`'s command ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<System>,
}

/// How a run's command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Exited with status 0.
    Succeeded,
    /// Exited with another status.
    Failed,
    /// Ended by a signal, or after Ctrl-C or SIGTERM reached it.
    Interrupted,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
        })
    }
}

/// The command of a run recorded by `rvc run`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Process {
    /// The program and its arguments, as given.
    pub command: Vec<String>,
    /// Where it ran, relative to the repository root (`.` for the root).
    pub cwd: String,
    pub status: Status,
    /// The exit status, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The signal that ended it (`SIGINT`), when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// Wall time from start to exit, in seconds.
    pub seconds: f64,
    /// The stored object holding its combined stdout and stderr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<Id>,
    #[serde(default)]
    pub log_bytes: u64,
}

/// System metrics sampled while a run's command ran.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct System {
    /// Seconds between samples.
    pub every: u64,
    pub samples: u64,
    /// The GPUs sampled, or why none were (`none found: …`).
    pub gpus: String,
    /// The stored series (`metric,step,value` with the step in seconds
    /// since the start, as [`metrics::encode`] writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Id>,
    /// The mean of each metric over the run.
    #[serde(default)]
    pub mean: BTreeMap<String, f64>,
    /// The highest value of each metric.
    #[serde(default)]
    pub peak: BTreeMap<String, f64>,
}

/// Who the run is.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// RFC 3339 UTC; from `--started`, else the oldest output or metrics file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    /// RFC 3339 UTC; from `--ended`, else the newest output or metrics file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    /// When `rvc lock` ran.
    pub locked: String,
}

/// An input or output of a run: a stored file or directory.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Repository-relative path.
    pub path: String,
    pub kind: PointerKind,
    pub id: Id,
    pub size: u64,
    pub files: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_hash: Option<Id>,
}

impl Artifact {
    pub fn from_pointer(path: &str, p: &Pointer) -> Artifact {
        Artifact {
            path: path.to_string(),
            kind: p.kind,
            id: p.id,
            size: p.size,
            files: p.files,
            rows: p.rows.map(|r| r.count),
            rows_hash: p.rows.map(|r| r.hash),
        }
    }

    /// The pointer this artifact would have at its path.
    pub fn pointer(&self) -> Pointer {
        Pointer {
            path: self
                .path
                .rsplit('/')
                .next()
                .unwrap_or(&self.path)
                .to_string(),
            kind: self.kind,
            id: self.id,
            size: self.size,
            files: self.files,
            rows: match (self.rows, self.rows_hash) {
                (Some(count), Some(hash)) => Some(Rows { count, hash }),
                _ => None,
            },
        }
    }
}

/// Final metric values and where the full series is stored.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// The files the metrics were read from.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The stored object holding every point (see [`metrics::encode`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Id>,
    /// The last step seen.
    #[serde(default)]
    pub steps: u64,
    /// The final value of each metric.
    #[serde(default, rename = "final")]
    pub finals: BTreeMap<String, f64>,
}

impl Lockfile {
    /// The lockfile's text. The same lockfile always gives the same bytes.
    pub fn encode(&self) -> Result<String> {
        let body = toml::to_string(self).map_err(|e| Error::Input {
            path: format!("{}{SUFFIX}", self.run.name),
            line: None,
            message: format!("cannot render the lockfile: {e}"),
        })?;
        Ok(format!(
            "# rvc run lockfile: commit it. `rvc show {0}` prints it, `rvc diff {0} OTHER` compares it.\n{body}",
            self.run.name
        ))
    }

    /// Parse a lockfile; `shown` names it in errors.
    pub fn parse(text: &str, shown: &str) -> Result<Lockfile> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let syntax = |e: toml::de::Error| Error::Input {
            path: shown.to_string(),
            line: e.span().map(|s| line_of(s.start)),
            message: e.message().trim().replace('\n', "; "),
        };
        let table: toml::Table = toml::from_str(text).map_err(syntax)?;
        match table.get("version").and_then(toml::Value::as_integer) {
            Some(v) if v == i64::from(VERSION) || v == i64::from(VERSION_RUN) => {}
            Some(v) => {
                return Err(Error::Input {
                    path: shown.to_string(),
                    line: None,
                    message: format!("lockfile version {v} is not supported by this rvc (it reads {VERSION} and {VERSION_RUN}); upgrade rvc"),
                })
            }
            None => {
                let message = if table.contains_key("version") {
                    "`version` must be an integer, such as 1".to_string()
                } else {
                    "no `version` key: not an rvc lockfile".to_string()
                };
                return Err(Error::Input { path: shown.to_string(), line: None, message });
            }
        }
        let lock: Lockfile = toml::from_str(text).map_err(syntax)?;
        check_name(&lock.run.name).map_err(|m| Error::Input {
            path: shown.to_string(),
            line: None,
            message: m,
        })?;
        for a in lock.inputs.iter().chain(&lock.outputs) {
            let bad = |m: String| Error::Input {
                path: shown.to_string(),
                line: None,
                message: format!("artifact path {}: {m}", a.path),
            };
            crate::tree::check_path(&a.path).map_err(bad)?;
            if a.path.split('/').next() == Some(crate::repo::RVC_DIR) {
                return Err(bad(
                    "rvc's own directory cannot be a run's input or output".into()
                ));
            }
        }

        Ok(lock)
    }
}

/// A lockfile found in `.rvc/runs/`, with its run id.
#[derive(Clone, Debug)]
pub struct Run {
    pub lock: Lockfile,
    pub id: Id,
    /// Repository-relative path of the lockfile.
    pub file: String,
}

/// A run name is one or more `/`-separated segments of letters, digits,
/// `.`, `_` and `-`, each starting with a letter or digit.
pub fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() || name.len() > 200 {
        return Err("a run name has 1 to 200 characters".into());
    }
    for seg in name.split('/') {
        let ok = seg
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(format!(
                "run name `{name}`: each `/`-separated part must start with a letter or digit and use only letters, digits, `.`, `_` and `-`"
            ));
        }
    }
    Ok(())
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
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::Input {
        path: shown.clone(),
        line: None,
        message: "not valid UTF-8".into(),
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
            return Err(Error::Input {
                path: shown,
                line: None,
                message: format!("the run is named `{}` inside, but its file says `{expected}`; rename one to match", lock.run.name),
            });
        }
    }
    Ok(Run {
        lock,
        id: crate::hash::hash_bytes(&bytes),
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
    let unknown = |runs: &[Run]| Error::UnknownRun {
        name: name_or_id.to_string(),
        similar: similar_names(runs, name_or_id),
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
        return Err(Error::PrefixTooShort {
            prefix: name_or_id.to_string(),
            min: id::MIN_PREFIX,
            candidates: matching,
        });
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
        _ => Err(Error::AmbiguousId {
            prefix,
            candidates: found
                .iter()
                .map(|r| format!("{} (run {})", r.id.short(), r.lock.run.name))
                .collect(),
        }),
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
