//! `rvc diff A B`: what changed between two runs, in code, data, params,
//! environment and metrics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::query::pair_artifacts;
use super::rowdiff::{self, RowCounts};
use super::{code, Artifact, Run};
use crate::error::Result;
use crate::format::id::Id;
use crate::format::pointer::PointerKind;
use crate::format::tree::Tree;
use crate::repository::Repo;

/// One side of the comparison.
#[derive(Debug, serde::Serialize)]
pub struct Side {
    pub name: String,
    pub run_id: Id,
    pub commit: Option<String>,
    pub dirty: bool,
    /// The uncommitted patch of a dirty run, when it is stored.
    pub patch: Option<String>,
}

/// Code changes between the two runs' commits.
#[derive(Debug, Default, serde::Serialize)]
pub struct CodeChanges {
    pub same_commit: bool,
    /// Commits in B's history that are not in A's, oldest first.
    pub commits: Vec<String>,
    /// Files changed between the commits (rvc's own files left out).
    pub files: Vec<code::FileChange>,
    /// Why the commits could not be compared (no git, unknown commit…).
    pub note: Option<String>,
}

/// How an input or output differs.
#[derive(Debug, serde::Serialize)]
pub struct DataChange {
    /// The path in the later run (or the earlier, if the later lacks it).
    pub path: String,
    /// The path in the earlier run, when it differs.
    pub path_before: Option<String>,
    /// `input` or `output`.
    pub role: &'static str,
    pub before: Option<Artifact>,
    pub after: Option<Artifact>,
    pub rows_before: Option<u64>,
    pub rows_after: Option<u64>,
    /// Row-level changes of a row file (or of the row files of a directory).
    pub rows: Option<RowCounts>,
    /// With `--key`: rows matched by the key column, per file compared.
    pub keyed: Vec<rowdiff::KeyedDiff>,
    /// For directories: files added, removed and modified (paths inside it).
    pub files_added: Vec<String>,
    pub files_removed: Vec<String>,
    pub files_modified: Vec<String>,
    /// Why rows could not be compared, if they could not.
    pub note: Option<String>,
}

/// A value that differs.
#[derive(Debug, serde::Serialize)]
pub struct Change<T> {
    pub before: Option<T>,
    pub after: Option<T>,
}

/// A metric in both runs.
#[derive(Debug, serde::Serialize)]
pub struct MetricChange {
    pub name: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
    pub delta: Option<f64>,
    /// Whether the final value differs (or is in one run only).
    pub changed: bool,
}

/// How the two runs' commands ran, when either was recorded by `rvc run`.
#[derive(Debug, serde::Serialize)]
pub struct ProcessDiff {
    pub status: Change<super::Status>,
    /// The command lines, joined with spaces.
    pub command: Change<String>,
    /// Wall time in seconds.
    pub seconds: Change<f64>,
}

/// The mean and peak of one system metric in the two runs.
#[derive(Debug, serde::Serialize)]
pub struct SystemChange {
    pub name: String,
    pub mean: Change<f64>,
    pub peak: Change<f64>,
}

/// The whole comparison.
#[derive(Debug, serde::Serialize)]
pub struct RunDiff {
    pub a: Side,
    pub b: Side,
    pub code: CodeChanges,
    pub data: Vec<DataChange>,
    pub params: BTreeMap<String, Change<toml::Value>>,
    /// Package pins that differ, `package` → versions.
    pub packages: BTreeMap<String, Change<String>>,
    /// Installed versions that differ, when both runs recorded what was
    /// installed: what actually ran, whatever the requirement files said.
    pub installed: BTreeMap<String, Change<String>>,
    /// rvc, python, os, gpus… that differ.
    pub environment: BTreeMap<String, Change<String>>,
    pub metrics: Vec<MetricChange>,
    pub process: Option<ProcessDiff>,
    /// System metrics sampled by `rvc run`, by name.
    pub system: Vec<SystemChange>,
}

/// One version of an input, output or tracked path, for [`data_change`].
#[derive(Clone, Copy)]
pub(crate) struct Version<'a> {
    pub artifact: &'a Artifact,
    /// A directory's listing when it is known without the store: the
    /// workspace's current data, which need not be stored.
    pub tree: Option<&'a Tree>,
    /// Where the path is on disk, when this version is what the workspace
    /// holds now: its rows are read from there instead of the store.
    pub on_disk: Option<&'a Path>,
}

impl<'a> Version<'a> {
    /// A version whose content is in the store.
    pub fn stored(artifact: &'a Artifact) -> Version<'a> {
        Version {
            artifact,
            tree: None,
            on_disk: None,
        }
    }
}

/// Compare run `a` (before) with run `b` (after).
/// `key`, when given, is a column by which rows of row files and tables
/// are matched (see [`rowdiff::compare_keyed`]).
pub fn diff(repo: &Repo, a: &Run, b: &Run, key: Option<&str>) -> Result<RunDiff> {
    let side = |r: &Run| Side {
        name: r.lock.run.name.clone(),
        run_id: r.id,
        commit: r.lock.code.as_ref().and_then(|c| c.commit.clone()),
        dirty: r.lock.code.as_ref().is_some_and(|c| c.dirty),
        patch: r
            .lock
            .code
            .as_ref()
            .and_then(|c| c.patch)
            .and_then(|id| repo.store().read_file(&id).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
    };
    let (sa, sb) = (side(a), side(b));
    let code = match (&sa.commit, &sb.commit) {
        (Some(x), Some(y)) if x == y => CodeChanges {
            same_commit: true,
            ..Default::default()
        },
        (Some(x), Some(y)) => match code::diff_commits(repo.root(), x, y) {
            Ok(d) => CodeChanges {
                same_commit: false,
                commits: d.commits,
                files: d.files,
                note: None,
            },
            Err(e) => CodeChanges {
                note: Some(e.to_string()),
                ..Default::default()
            },
        },
        _ => CodeChanges {
            note: Some("a run has no commit recorded".into()),
            ..Default::default()
        },
    };

    let mut data = Vec::new();
    for (role, before, after) in [
        ("input", &a.lock.inputs, &b.lock.inputs),
        ("output", &a.lock.outputs, &b.lock.outputs),
    ] {
        for (x, y) in pair_artifacts(before, &a.lock.run.name, after, &b.lock.run.name) {
            if x.map(|x| x.id) == y.map(|y| y.id) {
                continue;
            }
            data.push(data_change(
                repo,
                role,
                x.map(Version::stored),
                y.map(Version::stored),
                key,
            ));
        }
    }

    let mut params = BTreeMap::new();
    let keys: BTreeSet<&String> = a.lock.params.keys().chain(b.lock.params.keys()).collect();
    for k in keys {
        let (x, y) = (a.lock.params.get(k), b.lock.params.get(k));
        if x != y {
            params.insert(
                k.clone(),
                Change {
                    before: x.cloned(),
                    after: y.cloned(),
                },
            );
        }
    }

    let pins = |r: &Run| -> BTreeMap<String, String> {
        r.lock
            .env
            .requirements
            .iter()
            .flat_map(|f| f.pins.clone())
            .collect()
    };
    let (pa, pb) = (pins(a), pins(b));
    let mut packages = BTreeMap::new();
    for k in pa.keys().chain(pb.keys()).collect::<BTreeSet<_>>() {
        let (x, y) = (pa.get(k), pb.get(k));
        if x != y {
            packages.insert(
                k.clone(),
                Change {
                    before: x.cloned(),
                    after: y.cloned(),
                },
            );
        }
    }
    let (ea, eb) = (&a.lock.env, &b.lock.env);
    let mut installed = BTreeMap::new();
    if !ea.installed.is_empty() && !eb.installed.is_empty() {
        for k in ea
            .installed
            .keys()
            .chain(eb.installed.keys())
            .collect::<BTreeSet<_>>()
        {
            let (x, y) = (ea.installed.get(k), eb.installed.get(k));
            if x != y {
                installed.insert(
                    k.clone(),
                    Change {
                        before: x.cloned(),
                        after: y.cloned(),
                    },
                );
            }
        }
    }
    let mut environment = BTreeMap::new();
    for (k, x, y) in [
        ("rvc", ea.rvc.clone(), eb.rvc.clone()),
        ("python", ea.python.clone(), eb.python.clone()),
        ("os", ea.os.clone(), eb.os.clone()),
        ("cpu", ea.cpu.clone(), eb.cpu.clone()),
        ("gpus", ea.gpus.join("; "), eb.gpus.join("; ")),
        (
            "cuda driver",
            ea.cuda_driver.clone(),
            eb.cuda_driver.clone(),
        ),
        (
            "cuda runtime",
            ea.cuda_runtime.clone(),
            eb.cuda_runtime.clone(),
        ),
    ] {
        if x != y {
            environment.insert(
                k.to_string(),
                Change {
                    before: Some(x),
                    after: Some(y),
                },
            );
        }
    }

    let names: BTreeSet<&String> = a
        .lock
        .metrics
        .finals
        .keys()
        .chain(b.lock.metrics.finals.keys())
        .collect();
    let metrics = names
        .into_iter()
        .map(|n| {
            let (x, y) = (
                a.lock.metrics.finals.get(n).copied(),
                b.lock.metrics.finals.get(n).copied(),
            );
            let same = match (x, y) {
                (Some(x), Some(y)) => x == y || (x.is_nan() && y.is_nan()),
                _ => false,
            };
            MetricChange {
                name: n.clone(),
                before: x,
                after: y,
                delta: x.zip(y).map(|(x, y)| y - x),
                changed: !same,
            }
        })
        .collect::<Vec<_>>();
    // Changed metrics first, each group by name.
    let mut metrics = metrics;
    metrics.sort_by_key(|m| !m.changed);

    let process = (a.lock.process.is_some() || b.lock.process.is_some()).then(|| {
        let (pa, pb) = (a.lock.process.as_ref(), b.lock.process.as_ref());
        ProcessDiff {
            status: Change {
                before: pa.map(|p| p.status),
                after: pb.map(|p| p.status),
            },
            command: Change {
                before: pa.map(|p| p.command.join(" ")),
                after: pb.map(|p| p.command.join(" ")),
            },
            seconds: Change {
                before: pa.map(|p| p.seconds),
                after: pb.map(|p| p.seconds),
            },
        }
    });
    let (ya, yb) = (a.lock.system.as_ref(), b.lock.system.as_ref());
    let names: BTreeSet<&String> = ya
        .into_iter()
        .chain(yb)
        .flat_map(|s| s.mean.keys())
        .collect();
    let system = names
        .into_iter()
        .map(|n| {
            let get = |s: Option<&super::System>, peak: bool| {
                s.and_then(|s| if peak { s.peak.get(n) } else { s.mean.get(n) })
                    .copied()
            };
            SystemChange {
                name: n.clone(),
                mean: Change {
                    before: get(ya, false),
                    after: get(yb, false),
                },
                peak: Change {
                    before: get(ya, true),
                    after: get(yb, true),
                },
            }
        })
        .collect();
    Ok(RunDiff {
        process,
        system,
        a: sa,
        b: sb,
        code,
        data,
        params,
        packages,
        installed,
        environment,
        metrics,
    })
}

/// How the version `x` of a path became `y` (either may be absent): ids,
/// rows, and for directories the files added, removed and modified. With
/// `key`, rows of files on both sides are also matched by that column.
pub(crate) fn data_change(
    repo: &Repo,
    role: &'static str,
    vx: Option<Version<'_>>,
    vy: Option<Version<'_>>,
    key: Option<&str>,
) -> DataChange {
    let (x, y) = (vx.map(|v| v.artifact), vy.map(|v| v.artifact));
    let path = y.or(x).map(|a| a.path.clone()).unwrap_or_default();
    let path_before = x.map(|x| x.path.clone()).filter(|p| *p != path);
    let mut c = DataChange {
        path,
        path_before,
        role,
        before: x.cloned(),
        after: y.cloned(),
        rows_before: x.and_then(|x| x.rows),
        rows_after: y.and_then(|y| y.rows),
        rows: None,
        keyed: Vec::new(),
        files_added: Vec::new(),
        files_removed: Vec::new(),
        files_modified: Vec::new(),
        note: None,
    };
    let (Some(vx), Some(vy)) = (vx, vy) else {
        return c;
    };
    let (x, y) = (vx.artifact, vy.artifact);
    let store = repo.store();
    let listing = |v: Version<'_>| match v.tree {
        Some(t) => Ok(t.clone()),
        None => store.get_tree(&v.artifact.id),
    };
    // Pairs of (name, before id, after id) of row files to compare.
    // Row files to compare: (name, before, after); a file only on one side
    // counts all its rows as added or removed.
    let mut pairs: Vec<(String, Option<Id>, Option<Id>)> = Vec::new();
    match (x.kind, y.kind) {
        (PointerKind::File, PointerKind::File) => {
            pairs.push((c.path.clone(), Some(x.id), Some(y.id)))
        }
        (PointerKind::Dir, PointerKind::Dir) => match (listing(vx), listing(vy)) {
            (Ok(tx), Ok(ty)) => {
                for e in tx.entries() {
                    match ty.get(&e.path) {
                        None => {
                            c.files_removed.push(e.path.clone());
                            pairs.push((e.path.clone(), Some(e.id), None));
                        }
                        Some(f) if f.id != e.id => {
                            c.files_modified.push(e.path.clone());
                            pairs.push((e.path.clone(), Some(e.id), Some(f.id)));
                        }
                        Some(_) => {}
                    }
                }
                for e in ty.entries().iter().filter(|e| tx.get(&e.path).is_none()) {
                    c.files_added.push(e.path.clone());
                    pairs.push((e.path.clone(), None, Some(e.id)));
                }
            }
            _ => c.note = Some("a version of this directory is not in the local store".into()),
        },
        _ => c.note = Some("changed between a file and a directory".into()),
    }
    // A file of a directory is `name` below it; a file pointer is itself.
    let rows_of = |v: Version<'_>, id: Option<Id>, name: &str| match (id, v.on_disk) {
        (None, _) => Ok(None),
        (Some(_), Some(disk)) if v.artifact.kind == PointerKind::Dir => {
            rowdiff::disk_rows(&disk.join(name), name)
        }
        (Some(_), Some(disk)) => rowdiff::disk_rows(disk, name),
        (Some(id), None) => rowdiff::stored_rows(store, &id, name),
    };
    let mut total: Option<RowCounts> = None;
    let mut add = |r: RowCounts| {
        let t = total.get_or_insert_with(RowCounts::default);
        t.added += r.added;
        t.removed += r.removed;
        t.changed += r.changed;
        t.approximate |= r.approximate;
    };
    for (name, before, after) in pairs {
        // A file on one side only: all its rows are added or removed.
        let counted = |v: Version<'_>, id: Option<Id>| match id {
            None => Ok(None),
            Some(_) => rows_of(v, id, &name),
        };
        let (ra, rb) = match rayon::join(|| counted(vx, before), || counted(vy, after)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                c.note = Some(format!("rows of {name} not compared: {e}"));
                continue;
            }
        };
        match (ra, rb) {
            (Some(ra), Some(rb)) => {
                // Matched by key, the counts are the key's; by position
                // only when there is no key or it does not fit the file.
                if let Some(key) = key {
                    match rowdiff::compare_keyed(&ra, &rb, key, &name) {
                        Ok(k) => {
                            add(RowCounts {
                                added: k.added,
                                removed: k.removed,
                                changed: k.changed,
                                approximate: false,
                            });
                            c.keyed.push(k);
                            continue;
                        }
                        Err(e) => c.note = Some(format!("rows of {name} not matched by key: {e}")),
                    }
                }
                match rowdiff::compare(&ra, &rb) {
                    Ok(Some(r)) => add(r),
                    Ok(None) => {}
                    Err(e) => c.note = Some(format!("rows of {name} not compared: {e}")),
                }
            }
            (None, Some(r)) | (Some(r), None) => {
                let n = match rowdiff::count(&r) {
                    Ok(n) => n,
                    Err(e) => {
                        c.note = Some(format!("rows of {name} not counted: {e}"));
                        continue;
                    }
                };
                if before.is_none() {
                    add(RowCounts {
                        added: n,
                        ..Default::default()
                    });
                } else {
                    add(RowCounts {
                        removed: n,
                        ..Default::default()
                    });
                }
            }
            (None, None) => {}
        }
    }
    c.rows = total;
    c
}
