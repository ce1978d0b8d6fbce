//! The JSON that `--json` prints where it is not a library report as it
//! stands: typed views that pick, rename or add fields. docs/json.md is
//! the schema of every command's JSON, and tests/json.rs checks it.

use std::collections::BTreeMap;

use serde::Serialize;

use rvc::format::id::Id;
use rvc::format::lockfile::{Artifact, Lockfile, Status};
use rvc::format::pointer::{Pointer, PointerKind};
use rvc::hooks::{PreCommitReport, Problem};
use rvc::remote::{FetchReport, PushReport};
use rvc::run::record::LockReport;
use rvc::run::Run;
use rvc::store::BatchStats;
use rvc::workspace::{CheckoutReport, StatusItem};

/// `rvc lock --json`.
#[derive(Serialize)]
pub struct Lock<'a> {
    pub run: &'a str,
    pub run_id: Id,
    pub lockfile: &'a str,
    pub stored: &'a BatchStats,
    pub hashed: u64,
    pub warnings: Vec<String>,
    pub for_git: &'a [String],
}

impl<'a> Lock<'a> {
    pub fn of(r: &'a LockReport, warnings: Vec<String>) -> Lock<'a> {
        Lock {
            run: &r.run.lock.run.name,
            run_id: r.run.id,
            lockfile: &r.run.file,
            stored: &r.stored,
            hashed: r.hashed,
            warnings,
            for_git: &r.for_git,
        }
    }
}

/// `rvc run --json`: the lock, and how the command ended.
#[derive(Serialize)]
pub struct RunCommand<'a> {
    #[serde(flatten)]
    pub lock: Lock<'a>,
    pub status: Status,
    pub exit_code: Option<i32>,
    pub signal: Option<String>,
    pub seconds: f64,
}

/// One row of `rvc runs --json`.
#[derive(Serialize)]
pub struct RunRow<'a> {
    pub name: &'a str,
    pub run_id: Id,
    pub parent: &'a Option<String>,
    pub tags: &'a [String],
    pub locked: &'a str,
    pub commit: Option<&'a str>,
    pub dirty: bool,
    pub inputs: &'a [Artifact],
    pub params: &'a BTreeMap<String, toml::Value>,
    pub metrics: &'a BTreeMap<String, f64>,
    pub status: Option<Status>,
}

impl<'a> RunRow<'a> {
    pub fn of(r: &'a Run) -> RunRow<'a> {
        let l = &r.lock;
        RunRow {
            name: &l.run.name,
            run_id: r.id,
            parent: &l.run.parent,
            tags: &l.run.tags,
            locked: &l.run.locked,
            commit: l.code.as_ref().and_then(|c| c.commit.as_deref()),
            dirty: l.code.as_ref().is_some_and(|c| c.dirty),
            inputs: &l.inputs,
            params: &l.params,
            metrics: &l.metrics.finals,
            status: l.process.as_ref().map(|p| p.status),
        }
    }
}

/// `rvc show RUN --json`.
#[derive(Serialize)]
pub struct Show<'a> {
    pub run_id: Id,
    pub lockfile: &'a str,
    pub lock: &'a Lockfile,
}

/// One tracked path in `rvc ls --json`.
#[derive(Serialize)]
pub struct Tracked<'a> {
    pub pointer_file: &'a str,
    pub path: &'a str,
    pub kind: PointerKind,
    pub id: Id,
    pub size: u64,
    pub files: u64,
    pub rows: Option<u64>,
    pub rows_hash: Option<String>,
}

impl<'a> Tracked<'a> {
    pub fn of(pointer_file: &'a str, path: &'a str, p: &Pointer) -> Tracked<'a> {
        Tracked {
            pointer_file,
            path,
            kind: p.kind,
            id: p.id,
            size: p.size,
            files: p.files,
            rows: p.rows.map(|r| r.count),
            rows_hash: p.rows.map(|r| r.hash.to_string()),
        }
    }
}

/// `rvc ls RUN --json`.
#[derive(Serialize)]
pub struct RunArtifacts<'a> {
    pub run: &'a str,
    pub run_id: Id,
    pub inputs: &'a [Artifact],
    pub outputs: &'a [Artifact],
}

/// `rvc ls ID --json`: the files of a stored tree or file.
#[derive(Serialize)]
pub struct Files<'a> {
    pub id: &'a Id,
    pub kind: &'a rvc::store::ObjectKind,
    pub files: &'a [rvc::format::tree::Entry],
}

/// One pointer in `rvc status --json`: its status, or why it is invalid.
#[derive(Serialize)]
pub struct StatusRow<'a> {
    pub pointer_file: &'a str,
    pub path: &'a str,
    #[serde(flatten)]
    pub status: Option<&'a rvc::workspace::PointerStatus>,
    /// `invalid` when the pointer cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl<'a> StatusRow<'a> {
    pub fn of(item: &'a StatusItem) -> StatusRow<'a> {
        let (status, error) = match &item.result {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        };
        StatusRow {
            pointer_file: &item.pointer_file,
            path: &item.path,
            status,
            state: error.map(|_| "invalid"),
            error: error.map(|e| e.to_string()),
            hint: error.and_then(super::errors::hint),
        }
    }
}

/// `rvc push --json`.
#[derive(Serialize)]
pub struct Push<'a> {
    pub push: &'a PushReport,
    pub seconds: f64,
}

/// `rvc fetch --json`.
#[derive(Serialize)]
pub struct Fetch<'a> {
    pub fetch: &'a FetchReport,
    pub seconds: f64,
}

/// `rvc pull --json`.
#[derive(Serialize)]
pub struct Pull<'a> {
    pub fetch: &'a FetchReport,
    pub checkout: &'a CheckoutReport,
    pub seconds: f64,
}

/// `rvc hook pre-commit --json`: the library's report, each problem with
/// the command that fixes it.
#[derive(Serialize)]
pub struct PreCommit<'a> {
    pub staged: usize,
    pub pointers: usize,
    pub problems: Vec<PreCommitProblem<'a>>,
}

#[derive(Serialize)]
pub struct PreCommitProblem<'a> {
    #[serde(flatten)]
    pub problem: &'a Problem,
    pub fix: String,
}

impl<'a> PreCommit<'a> {
    pub fn of(r: &'a PreCommitReport, fix: impl Fn(&Problem) -> String) -> PreCommit<'a> {
        PreCommit {
            staged: r.staged,
            pointers: r.pointers,
            problems: r
                .problems
                .iter()
                .map(|problem| PreCommitProblem {
                    problem,
                    fix: fix(problem),
                })
                .collect(),
        }
    }
}
