//! Run lockfiles: `.rvc/runs/NAME.lock`, TOML meant to be committed and
//! read in diffs (docs/format.md, "Run lockfiles"). This module holds the
//! data and its codec; [`crate::run`] captures, records and compares runs.
//! A lockfile is untrusted on reading: keys, versions, names and artifact
//! paths are all checked.

use std::collections::BTreeMap;

use crate::error::{Error, Format, FormatError, Result, RunError};
use crate::format::hash::Rows;
use crate::format::id::Id;
use crate::format::pointer::{Pointer, PointerKind};

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
        let body = toml::to_string(self).map_err(|e| {
            Error::Format(FormatError::file(
                Format::Lockfile,
                format!("{}{SUFFIX}", self.run.name),
                None,
                format!("cannot render the lockfile: {e}"),
            ))
        })?;
        Ok(format!(
            "# rvc run lockfile: commit it. `rvc show {0}` prints it, `rvc diff {0} OTHER` compares it.\n{body}",
            self.run.name
        ))
    }

    /// Parse a lockfile; `shown` names it in errors.
    pub fn parse(text: &str, shown: &str) -> Result<Lockfile> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let syntax = |e: toml::de::Error| {
            Error::Format(FormatError::file(
                Format::Lockfile,
                shown.to_string(),
                e.span().map(|s| line_of(s.start)),
                e.message().trim().replace('\n', "; "),
            ))
        };
        let table: toml::Table = toml::from_str(text).map_err(syntax)?;
        match table.get("version").and_then(toml::Value::as_integer) {
            Some(v) if v == i64::from(VERSION) || v == i64::from(VERSION_RUN) => {}
            Some(v) => {
                return Err(Error::Format(FormatError::file(Format::Lockfile, shown.to_string(), None, format!("lockfile version {v} is not supported by this rvc (it reads {VERSION} and {VERSION_RUN}); upgrade rvc"))))
            }
            None => {
                let message = if table.contains_key("version") {
                    "`version` must be an integer, such as 1".to_string()
                } else {
                    "no `version` key: not an rvc lockfile".to_string()
                };
                return Err(Error::Format(FormatError::file(Format::Lockfile, shown.to_string(), None, message)));
            }
        }
        let lock: Lockfile = toml::from_str(text).map_err(syntax)?;
        check_name(&lock.run.name).map_err(|e| {
            Error::Format(FormatError::file(
                Format::Lockfile,
                shown,
                None,
                e.to_string(),
            ))
        })?;
        for a in lock.inputs.iter().chain(&lock.outputs) {
            let bad = |m: String| {
                Error::Format(FormatError::file(
                    Format::Lockfile,
                    shown.to_string(),
                    None,
                    format!("artifact path {}: {m}", a.path),
                ))
            };
            crate::format::tree::check_path(&a.path).map_err(|e| bad(e.to_string()))?;
            if a.path.split('/').next() == Some(crate::repository::RVC_DIR) {
                return Err(bad(
                    "rvc's own directory cannot be a run's input or output".into()
                ));
            }
        }

        Ok(lock)
    }
}

/// A run name is one or more `/`-separated segments of letters, digits,
/// `.`, `_` and `-`, each starting with a letter or digit.
pub fn check_name(name: &str) -> std::result::Result<(), RunError> {
    let bad = |reason: &str| RunError::BadName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() || name.len() > 200 {
        return Err(bad("a run name has 1 to 200 characters"));
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
            return Err(bad(
                "each `/`-separated part must start with a letter or digit and use only letters, digits, `.`, `_` and `-`",
            ));
        }
    }
    Ok(())
}

/// The git state at lock time.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeState {
    /// HEAD's commit; `None` in a repository with no commit yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    pub dirty: bool,
    /// Files that differ from HEAD (modified, added, deleted, untracked).
    #[serde(default)]
    pub changed: Vec<String>,
    /// The stored object holding the uncommitted patch, when dirty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<crate::format::id::Id>,
}

/// What was found about the machine and software.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub rvc: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub arch: String,
    #[serde(default)]
    pub cpu: String,
    #[serde(default)]
    pub cpus: u64,
    /// Total memory in bytes.
    #[serde(default)]
    pub memory: u64,
    /// One line per GPU, from `nvidia-smi`; empty without one.
    #[serde(default)]
    pub gpus: Vec<String>,
    #[serde(default)]
    pub python: String,
    /// The CUDA driver version, from `nvidia-smi`; empty without one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cuda_driver: String,
    /// The CUDA runtime (toolkit) version, from the toolkit's version file
    /// or the `nvidia-cuda-runtime-cu*` package; empty when neither is found.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cuda_runtime: String,
    /// The Python environment whose packages are listed in `installed`:
    /// its prefix (a venv, a conda environment, or the system's).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub python_env: String,
    /// What was installed there, read from `*.dist-info/METADATA`:
    /// package name (lowercase, `-` for `_` and `.`) → version.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub installed: BTreeMap<String, String>,
    /// Requirement and lock files, with their id and parsed pins.
    #[serde(default, rename = "requirements")]
    pub requirements: Vec<Requirements>,
}

/// One requirement or lock file.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    pub path: String,
    pub id: Id,
    /// Package name (lowercase) → version or specifier.
    #[serde(default)]
    pub pins: BTreeMap<String, String>,
}
