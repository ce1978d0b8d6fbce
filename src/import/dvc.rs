//! `rvc import dvc`: move a DVC repository's data and runs to rvc.
//!
//! * Every output of a `.dvc` file and of a `dvc.lock` stage becomes an
//!   rvc pointer. Its bytes come from the workspace when they match the md5
//!   DVC recorded, and otherwise from DVC's cache (`.dvc/cache/files/md5/`,
//!   or `.dvc/cache/` as DVC 2 laid it out), checked against that md5 and
//!   written to the workspace where the file is missing (what `dvc
//!   checkout` would write). A workspace file that differs from what DVC
//!   recorded is never overwritten: that output is not converted, and the
//!   report says why.
//! * Every stage of a `dvc.lock` whose deps, params and outs all match what
//!   DVC recorded becomes an rvc run named after the stage, recorded as
//!   `rvc lock` records one (deps as inputs, outs as outputs, the params
//!   files), tagged `dvc-import`.
//! * DVC's files are left in place.
//!
//! Hashes: DVC 3 (`hash: md5` in the entry) uses the md5 of the bytes; DVC
//! 2 used, for text files, the md5 of the bytes with `\r\n` read as `\n`.
//! An entry without `hash: md5` is accepted under either.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use yaml_rust2::Yaml;

use crate::error::{Error, Format, FormatError, IoContext, Result};
use crate::io::progress::Progress;
use crate::repository::Repo;

/// What the import did.
#[derive(Debug, Default, serde::Serialize)]
pub struct ImportReport {
    /// DVC outputs now tracked by rvc pointers.
    pub converted: Vec<Converted>,
    /// dvc.lock stages now recorded as rvc runs.
    pub runs: Vec<ImportedRun>,
    /// What was not converted, and why.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, serde::Serialize)]
pub struct Converted {
    /// Repository-relative path of the output.
    pub path: String,
    pub pointer_file: String,
    /// The DVC file that listed it (`data.dvc`, `dvc.lock`).
    pub dvc_file: String,
    pub files: u64,
    /// Files written to the workspace from DVC's cache (they were missing).
    pub from_cache: u64,
}

#[derive(Debug, serde::Serialize)]
pub struct ImportedRun {
    pub stage: String,
    /// The stage's command, as dvc.lock recorded it.
    pub command: String,
    pub run: String,
    pub lockfile: String,
    /// The run was recorded by an earlier import (or has that name
    /// already), and was left as it is.
    pub existing: bool,
}

#[derive(Debug, serde::Serialize)]
pub struct Skipped {
    /// An output's path, or `stage NAME` for a run.
    pub what: String,
    pub dvc_file: String,
    pub reason: String,
}

/// One output or dependency as DVC recorded it.
#[derive(Clone, Debug)]
struct Out {
    /// Repository-relative.
    path: String,
    md5: String,
    /// DVC 3 (`hash: md5`): plain md5 only.
    plain_only: bool,
}

/// A stage of a dvc.lock.
struct Stage {
    name: String,
    cmd: String,
    deps: Vec<Out>,
    outs: Vec<Out>,
    /// Params file → flattened key → value, as DVC recorded them.
    params: BTreeMap<String, BTreeMap<String, toml::Value>>,
}

/// Import the DVC repository at the root of `repo`.
pub fn import(repo: &Repo, progress: &dyn Progress) -> Result<ImportReport> {
    let root = repo.root().to_path_buf();
    let dvc_dir = root.join(".dvc");
    if !dvc_dir.is_dir() {
        return Err(Error::Format(FormatError::file(
            Format::Dvc,
            dvc_dir,
            None,
            "no DVC repository here: run `rvc import dvc` at the top of a DVC project (where .dvc/ is)",
        )));
    }
    let cache = cache_dir(&root)?;
    let mut report = ImportReport::default();

    // Outputs, each with the DVC file that lists it.
    let mut outs: Vec<(Out, String)> = Vec::new();
    let mut stages: Vec<(Stage, String)> = Vec::new();
    for file in dvc_files(&root)? {
        let rel = rel_of(&root, &file);
        let text = std::fs::read_to_string(&file).at("read", &file)?;
        let base = rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        if rel == "dvc.lock" || rel.ends_with("/dvc.lock") {
            for stage in parse_lock(&text, base, &rel)? {
                for o in &stage.outs {
                    outs.push((o.clone(), rel.clone()));
                }
                stages.push((stage, rel.clone()));
            }
        } else {
            for o in parse_outs(&text, base, &rel)? {
                outs.push((o, rel.clone()));
            }
        }
    }

    // Outputs: make the workspace hold exactly what DVC recorded, then add.
    let mut converted_paths = BTreeSet::new();
    let mut failed_paths = BTreeSet::new();
    for (out, dvc_file) in &outs {
        if converted_paths.contains(&out.path) || failed_paths.contains(&out.path) {
            continue;
        }
        let skip = |reason: String| Skipped {
            what: out.path.clone(),
            dvc_file: dvc_file.clone(),
            reason,
        };
        let staged = match materialize(&root, &cache, out) {
            Ok(s) => s,
            Err(Unconverted(reason)) => {
                report.skipped.push(skip(reason));
                failed_paths.insert(out.path.clone());
                continue;
            }
        };
        let added =
            crate::workspace::add(repo, &root, &[PathBuf::from(&out.path)], false, progress);
        match added {
            Ok(r) => {
                for o in r.paths {
                    report.converted.push(Converted {
                        path: out.path.clone(),
                        pointer_file: o.pointer_file,
                        dvc_file: dvc_file.clone(),
                        files: o.pointer.files,
                        from_cache: staged.from_cache,
                    });
                }
                converted_paths.insert(out.path.clone());
            }
            Err(e) => {
                report.skipped.push(skip(format!("rvc add failed: {e}")));
                failed_paths.insert(out.path.clone());
            }
        }
    }

    // Stages: recorded as runs when everything matches dvc.lock.
    for (stage, dvc_file) in stages {
        let what = format!("stage {}", stage.name);
        let skip = |reason: String| Skipped {
            what: what.clone(),
            dvc_file: dvc_file.clone(),
            reason,
        };
        match import_stage(
            repo,
            &root,
            &cache,
            &stage,
            &dvc_file,
            &failed_paths,
            progress,
        ) {
            Ok(run) => report.runs.push(run),
            Err(Unconverted(reason)) => report.skipped.push(skip(reason)),
        }
    }
    Ok(report)
}

/// Why one output or stage was not converted.
struct Unconverted(String);

impl From<Error> for Unconverted {
    fn from(e: Error) -> Unconverted {
        let mut s = e.to_string();
        for c in e.causes() {
            s.push_str(": ");
            s.push_str(&c);
        }
        Unconverted(s)
    }
}

struct Staged {
    from_cache: u64,
}

/// Make `out` in the workspace hold what DVC recorded: check what is
/// there, and write what is missing from DVC's cache.
fn materialize(root: &Path, cache: &Path, out: &Out) -> std::result::Result<Staged, Unconverted> {
    let abs = root.join(&out.path);
    let mut from_cache = 0;
    if let Some(dir_md5) = out.md5.strip_suffix(".dir") {
        let listing = dir_listing(cache, dir_md5, &out.path)?;
        let listed: BTreeSet<&str> = listing.iter().map(|(p, _)| p.as_str()).collect();
        if abs.is_dir() {
            let extra = files_below(&abs)?
                .into_iter()
                .filter(|p| !listed.contains(p.as_str()))
                .collect::<Vec<_>>();
            if !extra.is_empty() {
                return Err(Unconverted(format!(
                    "the directory holds {} file(s) DVC does not list (first: {}/{}); remove them or `dvc add` it again first",
                    extra.len(),
                    out.path,
                    extra[0]
                )));
            }
        }
        for (rel, md5) in &listing {
            let file = Out {
                path: format!("{}/{rel}", out.path),
                md5: md5.clone(),
                plain_only: out.plain_only,
            };
            if restore_file(root, cache, &file)? {
                from_cache += 1;
            }
        }
    } else if restore_file(root, cache, out)? {
        from_cache += 1;
    }
    Ok(Staged { from_cache })
}

/// Check one file against its md5; write it from the cache when it is
/// missing. Returns whether it was written.
fn restore_file(root: &Path, cache: &Path, out: &Out) -> std::result::Result<bool, Unconverted> {
    let abs = root.join(&out.path);
    match std::fs::symlink_metadata(&abs) {
        Ok(m) if m.is_file() || m.file_type().is_symlink() => {
            if matches(&abs, out)? {
                return Ok(false);
            }
            return Err(Unconverted(format!(
                "{} differs from what DVC recorded (md5 {}); `dvc status` shows the change: `dvc add` or `dvc checkout` it, then import again",
                out.path, out.md5
            )));
        }
        Ok(_) => return Err(Unconverted(format!("{} is not a regular file", out.path))),
        Err(_) => {}
    }
    let Some(object) = cache_object(cache, &out.md5) else {
        return Err(Unconverted(format!(
            "{} is not in the workspace and DVC's cache lacks it (md5 {}): `dvc pull` it first",
            out.path, out.md5
        )));
    };
    if !matches(&object, out)? {
        return Err(Unconverted(format!(
            "DVC's cache object {} for {} does not match its md5: the cache is damaged",
            object.display(),
            out.path
        )));
    }
    if let Some(parent) = abs.parent() {
        std::fs::create_dir_all(parent).at("create directory", parent)?;
    }
    // rvc's own temporary name: scans skip it, and a later checkout
    // removes it if this process is killed before the rename.
    let dir = abs.parent().unwrap_or(root);
    let (tmp, mut file) = crate::io::atomic::create_temp(dir, 0o666)?;
    let copied = std::fs::File::open(&object)
        .and_then(|mut from| std::io::copy(&mut from, &mut file))
        .at("copy from DVC's cache", &object)
        .and_then(|_| std::fs::rename(&tmp, &abs).at("write", &abs));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    Ok(true)
}

/// Whether the file at `path` has the md5 `out` records (either md5 for
/// an entry of DVC 2).
fn matches(path: &Path, out: &Out) -> Result<bool> {
    let (plain, unix) = md5s(path)?;
    Ok(plain == out.md5 || (!out.plain_only && unix.as_deref() == Some(out.md5.as_str())))
}

/// The md5 of a file, and for a text file (no NUL in its first 8 KiB, as
/// DVC 2 decided) the md5 with each `\r\n` read as `\n`.
fn md5s(path: &Path) -> Result<(String, Option<String>)> {
    let mut f = std::fs::File::open(path).at("open", path)?;
    let mut plain = Md5::new();
    let mut unix = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut text = None;
    let mut pending_cr = false;
    loop {
        let n = f.read(&mut buf).at("read", path)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        plain.update(chunk);
        if text.is_none() {
            text = Some(!chunk[..chunk.len().min(8192)].contains(&0));
        }
        if text == Some(true) {
            let mut start = 0;
            if pending_cr && chunk[0] != b'\n' {
                unix.update(b"\r");
            }
            let (body, cr) = match chunk.last() {
                Some(b'\r') => (&chunk[..chunk.len() - 1], true),
                _ => (chunk, false),
            };
            for pos in memchr::memmem::find_iter(body, b"\r\n") {
                unix.update(&body[start..pos]);
                start = pos + 1;
            }
            unix.update(&body[start..]);
            pending_cr = cr;
        }
    }
    if pending_cr {
        unix.update(b"\r");
    }
    let hex = |d: md5::digest::Output<Md5>| d.iter().map(|b| format!("{b:02x}")).collect();
    let text = text.unwrap_or(true);
    Ok((hex(plain.finalize()), text.then(|| hex(unix.finalize()))))
}

/// Where DVC keeps the object with this md5 (DVC 3's layout, then 2's).
fn cache_object(cache: &Path, md5: &str) -> Option<PathBuf> {
    let hex = md5.strip_suffix(".dir").unwrap_or(md5);
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let (head, tail) = md5.split_at(2);
    [
        cache.join("files").join("md5").join(head).join(tail),
        cache.join(head).join(tail),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// A directory's listing from DVC's cache: (path inside it, md5).
fn dir_listing(
    cache: &Path,
    md5: &str,
    path: &str,
) -> std::result::Result<Vec<(String, String)>, Unconverted> {
    let Some(object) = cache_object(cache, &format!("{md5}.dir")) else {
        return Err(Unconverted(format!(
            "the listing of {path} (md5 {md5}.dir) is not in DVC's cache: `dvc pull` it first"
        )));
    };
    let text = std::fs::read(&object).map_err(|e| Unconverted(e.to_string()))?;
    let bad = |why: &str| {
        Unconverted(format!(
            "DVC's listing {} is damaged: {why}",
            object.display()
        ))
    };
    let value: serde_json::Value = serde_json::from_slice(&text).map_err(|_| bad("not JSON"))?;
    let entries = value.as_array().ok_or_else(|| bad("not a list"))?;
    let mut out = Vec::new();
    for e in entries {
        let rel = e["relpath"]
            .as_str()
            .ok_or_else(|| bad("an entry has no relpath"))?;
        let md5 = e["md5"]
            .as_str()
            .ok_or_else(|| bad("an entry has no md5"))?;
        let rel = rel.replace('\\', "/");
        crate::format::tree::check_path(&rel)
            .map_err(|_| bad("an entry's path is not a relative path"))?;
        out.push((rel, md5.to_string()));
    }
    Ok(out)
}

/// Files below `dir`, relative to it, `/`-separated.
fn files_below(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).at("list", &d)? {
            let e = e.at("list", &d)?;
            let p = e.path();
            if e.file_type().at("stat", &p)?.is_dir() {
                stack.push(p);
            } else if crate::io::atomic::is_temp_name(&e.file_name().to_string_lossy()) {
                // Left by a killed rvc: not data, and not listed by DVC.
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(out)
}

/// DVC's cache directory: `cache.dir` of `.dvc/config` (relative to
/// `.dvc/`), else `.dvc/cache`.
fn cache_dir(root: &Path) -> Result<PathBuf> {
    let dvc = root.join(".dvc");
    let mut dir = None;
    for name in ["config", "config.local"] {
        let Ok(text) = std::fs::read_to_string(dvc.join(name)) else {
            continue;
        };
        let mut section = String::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line
                    .trim_matches(|c| c == '[' || c == ']')
                    .trim()
                    .to_string();
            } else if section == "cache" {
                if let Some((k, v)) = line.split_once('=') {
                    if k.trim() == "dir" {
                        dir = Some(dvc.join(v.trim()));
                    }
                }
            }
        }
    }
    Ok(dir.unwrap_or_else(|| dvc.join("cache")))
}

/// `.dvc` files and `dvc.lock` files of the repository, sorted.
fn dvc_files(root: &Path) -> Result<Vec<PathBuf>> {
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(false)
        .git_global(false)
        .git_exclude(false)
        .ignore(false)
        .parents(false)
        .filter_entry(|e| {
            let n = e.file_name();
            !(e.depth() > 0
                && e.file_type().is_some_and(|t| t.is_dir())
                && (n == ".git" || n == ".dvc" || n == ".rvc"))
        })
        .build();
    let mut out = Vec::new();
    for e in walker.flatten() {
        if !e.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let name = e.file_name().to_string_lossy();
        if name == "dvc.lock" || (name.ends_with(".dvc") && name != ".dvc") {
            out.push(e.into_path());
        }
    }
    out.sort();
    Ok(out)
}

fn rel_of(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

fn yaml(text: &str, file: &str) -> Result<Yaml> {
    let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| {
        Error::Format(FormatError::file(
            Format::Dvc,
            file,
            Some(e.marker().line() + 1),
            e.to_string(),
        ))
    })?;
    Ok(docs.into_iter().next().unwrap_or(Yaml::Null))
}

/// An `outs`/`deps` entry, its path joined to the DVC file's directory.
fn entry(e: &Yaml, base: &str, file: &str) -> Result<Option<Out>> {
    let bad = |m: String| Error::Format(FormatError::file(Format::Dvc, file, None, m));
    let Some(path) = e["path"].as_str() else {
        return Err(bad("an entry has no `path`".into()));
    };
    let Some(md5) = e["md5"].as_str() else {
        // Not cached or not computed (a dep on a URL, `cache: false`):
        // nothing to import.
        return Ok(None);
    };
    let joined = normalize(&if base.is_empty() {
        path.to_string()
    } else {
        format!("{base}/{path}")
    })
    .ok_or_else(|| bad(format!("the path {path:?} leaves the repository")))?;
    Ok(Some(Out {
        path: joined,
        md5: md5.to_string(),
        plain_only: e["hash"].as_str() == Some("md5"),
    }))
}

/// Resolve `.` and `..` in a `/`-separated relative path.
fn normalize(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.trim_end_matches('/').split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    let s = parts.join("/");
    crate::format::tree::check_path(&s).ok().map(|_| s)
}

fn parse_outs(text: &str, base: &str, file: &str) -> Result<Vec<Out>> {
    let doc = yaml(text, file)?;
    let mut out = Vec::new();
    for e in doc["outs"].as_vec().map(Vec::as_slice).unwrap_or_default() {
        out.extend(entry(e, base, file)?);
    }
    Ok(out)
}

fn parse_lock(text: &str, base: &str, file: &str) -> Result<Vec<Stage>> {
    let doc = yaml(text, file)?;
    let Some(stages) = doc["stages"].as_hash() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, s) in stages {
        let Some(name) = name.as_str() else { continue };
        let list = |key: &str| -> Result<Vec<Out>> {
            let mut v = Vec::new();
            for e in s[key].as_vec().map(Vec::as_slice).unwrap_or_default() {
                v.extend(entry(e, base, file)?);
            }
            Ok(v)
        };
        let cmd = match &s["cmd"] {
            Yaml::String(c) => c.clone(),
            Yaml::Array(cs) => cs
                .iter()
                .filter_map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(" && "),
            _ => String::new(),
        };
        let mut params = BTreeMap::new();
        if let Some(files) = s["params"].as_hash() {
            for (pf, values) in files {
                let Some(pf) = pf.as_str() else { continue };
                let pf = normalize(&if base.is_empty() {
                    pf.to_string()
                } else {
                    format!("{base}/{pf}")
                })
                .unwrap_or_default();
                let mut flat = BTreeMap::new();
                crate::run::params::flatten_yaml("", values, &mut flat);
                params.insert(pf, flat);
            }
        }
        out.push(Stage {
            name: name.to_string(),
            cmd,
            deps: list("deps")?,
            outs: list("outs")?,
            params,
        });
    }
    Ok(out)
}

/// An rvc run name for a DVC stage (`prepare@en` → `prepare-en`), below
/// the dvc.lock's directory when it is not at the top.
fn run_name(stage: &str, dvc_file: &str) -> String {
    let clean: String = stage
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let clean = clean.trim_start_matches(['.', '_', '-']).to_string();
    let clean = if clean.is_empty() {
        "stage".into()
    } else {
        clean
    };
    match dvc_file.rsplit_once('/') {
        Some((dir, _)) => format!("{}/{clean}", run_name(dir, "")),
        None => clean,
    }
}

fn import_stage(
    repo: &Repo,
    root: &Path,
    cache: &Path,
    stage: &Stage,
    dvc_file: &str,
    failed: &BTreeSet<String>,
    progress: &dyn Progress,
) -> std::result::Result<ImportedRun, Unconverted> {
    if let Some(o) = stage.outs.iter().find(|o| failed.contains(&o.path)) {
        return Err(Unconverted(format!(
            "its output {} was not converted (see above)",
            o.path
        )));
    }
    // Deps: what the run read must be what DVC recorded.
    for d in &stage.deps {
        materialize(root, cache, d).map_err(|Unconverted(why)| {
            Unconverted(format!("its dependency does not match dvc.lock: {why}"))
        })?;
    }
    for (file, values) in &stage.params {
        let now = crate::run::params::read(&root.join(file), file)?;
        for (k, v) in values {
            if now.get(k) != Some(v) {
                return Err(Unconverted(format!(
                    "the param {k} in {file} is {} now, but dvc.lock recorded {v}",
                    now.get(k)
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "absent".into())
                )));
            }
        }
    }
    let name = run_name(&stage.name, dvc_file);
    let path = crate::run::lockfile_path(repo, &name);
    if path.exists() {
        return Ok(ImportedRun {
            stage: stage.name.clone(),
            command: stage.cmd.clone(),
            run: name,
            lockfile: rel_of(root, &path),
            existing: true,
        });
    }
    let opts = crate::run::record::LockOptions {
        name: name.clone(),
        inputs: stage.deps.iter().map(|d| d.path.clone()).collect(),
        outputs: stage.outs.iter().map(|o| o.path.clone()).collect(),
        params: stage.params.keys().cloned().collect(),
        tags: vec!["dvc-import".into()],
        ..Default::default()
    };
    let r = crate::run::record::lock(repo, root, &opts, progress)?;
    Ok(ImportedRun {
        stage: stage.name.clone(),
        command: stage.cmd.clone(),
        run: name,
        lockfile: r.run.file,
        existing: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_names() {
        assert_eq!(normalize("a/./b/../c/").as_deref(), Some("a/c"));
        assert_eq!(normalize("../x"), None);
        assert_eq!(run_name("prepare@en", ""), "prepare-en");
        assert_eq!(run_name("train", "sub/dvc.lock"), "sub/train");
    }

    #[test]
    fn md5_of_crlf_text_has_a_dvc2_twin() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.txt");
        std::fs::write(&p, b"a\r\nb\r\n").unwrap();
        let (plain, unix) = md5s(&p).unwrap();
        assert_eq!(plain, "59b0d7772f0561efb95518f3cb8abc60");
        // md5("a\nb\n"), as DVC 2 hashed text files.
        assert_eq!(unix.as_deref(), Some("dd8c6a395b5dd36c56d23275028f526c"));
        std::fs::write(&p, b"\0bin\r\n").unwrap();
        assert_eq!(md5s(&p).unwrap().1, None);
    }
}
