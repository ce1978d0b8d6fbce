//! `rvc lock NAME`: record a run.
//!
//! Inputs are hashed through the stat cache and stored (so `rvc checkout
//! NAME` can always restore them), outputs are stored, the uncommitted patch
//! and the metrics series are stored as objects, and the lockfile is
//! written last, atomically, once everything it names is durable.

use std::collections::BTreeMap;
use std::path::Path;

use super::{
    check_name, code, env, implied_parent, lockfile_path, metrics, params, Artifact, Lockfile,
    Metrics, Run, RunInfo, VERSION,
};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::{self, Repo};
use crate::store::BatchStats;
use crate::workspace::store_path;

/// What to record. Paths given here are relative to `cwd`; empty lists
/// fall back to `[run]` in the config.
#[derive(Clone, Debug, Default)]
pub struct LockOptions {
    pub name: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub params: Vec<String>,
    pub metrics: Vec<String>,
    pub parent: Option<String>,
    pub tags: Vec<String>,
    pub started: Option<String>,
    pub ended: Option<String>,
    /// Replace an existing lockfile of the same name.
    pub force: bool,
}

/// What `lock` did.
#[derive(Debug)]
pub struct LockReport {
    pub run: Run,
    pub stored: BatchStats,
    /// Files that had to be read (the rest came from the stat cache).
    pub hashed: u64,
    pub warnings: Vec<String>,
}

/// Record the run described by `opts`.
pub fn lock(
    repo: &Repo,
    cwd: &Path,
    opts: &LockOptions,
    progress: &dyn Progress,
) -> Result<LockReport> {
    let name = opts.name.as_str();
    check_name(name).map_err(|m| Error::Input {
        path: "run name".into(),
        line: None,
        message: m,
    })?;
    for (flag, t) in [("--started", &opts.started), ("--ended", &opts.ended)] {
        if let Some(t) = t {
            if !super::check_rfc3339(t) {
                return Err(Error::Input {
                    path: flag.into(),
                    line: None,
                    message: format!("`{t}` is not a UTC time like 2026-11-22T14:05:00Z"),
                });
            }
        }
    }
    let _lock = repo.lock(true)?;
    let path = lockfile_path(repo, name);
    let rel_lockfile = path
        .strip_prefix(repo.root())
        .unwrap_or(&path)
        .display()
        .to_string();
    if path.exists() && !opts.force {
        return Err(Error::RunExists {
            name: name.to_string(),
            path: rel_lockfile,
        });
    }
    let defaults = &repo.config().run;
    // Paths from flags must exist; defaults from [run] that do not exist
    // here (a parent run has no checkpoints) are skipped with a warning.
    let mut skipped = Vec::new();
    let mut pick = |given: &[String], default: &[String]| -> Result<Vec<String>> {
        if !given.is_empty() {
            return given
                .iter()
                .map(|p| repo.relative(cwd, Path::new(p)))
                .collect();
        }
        let mut out = Vec::new();
        for p in default {
            let p = p.replace("{name}", name);
            match repo.relative(repo.root(), Path::new(&p)) {
                Ok(rel) if std::fs::symlink_metadata(repo.abs(&rel)).is_ok() => out.push(rel),
                Ok(_) | Err(Error::PathNotFound { .. }) => skipped.push(format!(
                    "{p} (from [run] in .rvc/config.toml) does not exist; not recorded"
                )),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    };
    let inputs = pick(&opts.inputs, &defaults.inputs)?;
    let outputs = pick(&opts.outputs, &defaults.outputs)?;
    let params_files = pick(&opts.params, &defaults.params)?;
    let metrics_files = pick(&opts.metrics, &defaults.metrics)?;
    let mut warnings = skipped;

    // Parse params and metrics before storing anything: a bad file fails fast.
    let mut all_params = params::Params::new();
    let mut origin = BTreeMap::new();
    for f in &params_files {
        let p = params::read(&repo.abs(f), f)?;
        params::merge(&mut all_params, &mut origin, p, f)?;
    }
    let mut series = metrics::Series::new();
    for f in &metrics_files {
        for (k, mut pts) in metrics::read(&repo.abs(f), f)? {
            series.entry(k).or_default().append(&mut pts);
        }
    }

    let skip: Vec<String> = std::iter::once(rel_lockfile.clone())
        .chain(inputs.iter().cloned())
        .chain(outputs.iter().cloned())
        .collect();
    let code = match code::capture(repo.root(), &skip)? {
        Some(c) => Some(c),
        None => {
            warnings.push("not inside a git repository: the run records no code state".into());
            None
        }
    };

    let parent = opts
        .parent
        .clone()
        .or_else(|| implied_parent(name).map(str::to_string));
    if let Some(p) = &parent {
        if !lockfile_path(repo, p).is_file() {
            warnings.push(format!("parent run `{p}` has no lockfile (yet)"));
        }
    }

    let mut cache = repo.stat_cache();
    let store = repo.store();
    let _store_lock = store.lock(false, repo.lock_timeout())?;
    let batch = store.batch();
    let mut hashed = 0;
    let mut artifacts = |paths: &[String]| -> Result<Vec<Artifact>> {
        paths
            .iter()
            .map(|rel| {
                let (pointer, n) = store_path(repo, &mut cache, &batch, rel, progress)?;
                hashed += n;
                Ok(Artifact::from_pointer(rel, &pointer))
            })
            .collect()
    };
    let input_artifacts = artifacts(&inputs)?;
    let output_artifacts = artifacts(&outputs)?;
    let code = match code {
        Some((mut state, patch)) => {
            if state.dirty && !patch.is_empty() {
                state.patch = Some(batch.put_bytes(&patch)?);
            }
            Some(state)
        }
        None => None,
    };
    let metrics = Metrics {
        sources: metrics_files.clone(),
        series: if series.is_empty() {
            None
        } else {
            Some(batch.put_bytes(metrics::encode(&series).as_bytes())?)
        },
        steps: series
            .values()
            .flat_map(|pts| pts.iter().map(|p| p.0))
            .max()
            .unwrap_or(0),
        finals: metrics::finals(&series),
    };
    let (started, ended) = file_times(repo, outputs.iter().chain(&metrics_files));
    let lock = Lockfile {
        version: VERSION,
        run: RunInfo {
            name: name.to_string(),
            parent,
            tags: opts.tags.clone(),
            started: opts.started.clone().or(started),
            ended: opts.ended.clone().or(ended),
            locked: super::now_rfc3339(),
        },
        code,
        inputs: input_artifacts,
        outputs: output_artifacts,
        params: all_params,
        metrics,
        env: env::capture(repo.root()),
    };
    let text = lock.encode()?;
    // Everything the lockfile names is durable before the lockfile exists.
    let stored = batch.commit()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            op: "create directory",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    repo::write_atomic(&path, text.as_bytes())?;
    for out in &outputs {
        repo.ignore_in_git(out)?;
    }
    cache.save()?;
    let run = Run {
        id: crate::hash::hash_bytes(text.as_bytes()),
        lock,
        file: rel_lockfile,
    };
    Ok(LockReport {
        run,
        stored,
        hashed,
        warnings,
    })
}

/// The oldest and newest times of the given paths (a directory counts by
/// its own times and those of its direct entries): a run's outputs and
/// metrics are written while it runs.
fn file_times<'a>(
    repo: &Repo,
    paths: impl Iterator<Item = &'a String>,
) -> (Option<String>, Option<String>) {
    let mut oldest = None;
    let mut newest = None;
    let mut see = |m: &std::fs::Metadata| {
        let modified = m.modified().ok();
        let born = m.created().ok().or(modified);
        if let Some(b) = born {
            oldest = Some(oldest.map_or(b, |o: std::time::SystemTime| o.min(b)));
        }
        if let Some(t) = modified {
            newest = Some(newest.map_or(t, |n: std::time::SystemTime| n.max(t)));
        }
    };
    for p in paths {
        let abs = repo.abs(p);
        let Ok(m) = std::fs::metadata(&abs) else {
            continue;
        };
        see(&m);
        if m.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&abs) {
                for e in rd.flatten() {
                    if let Ok(m) = e.metadata() {
                        see(&m);
                    }
                }
            }
        }
    }
    (oldest.map(super::rfc3339), newest.map(super::rfc3339))
}
