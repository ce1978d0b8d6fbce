//! Scanning the workspace: what is at a tracked path right now.

use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, IoContext, PathError, Result};
use crate::io::stamp::Stamp;

/// A regular file found in the workspace.
#[derive(Clone, Debug)]
pub struct FileEntry {
    /// Path relative to the scanned root (empty for a single file).
    pub rel: String,
    /// Where to read it.
    pub abs: PathBuf,
    pub stamp: Stamp,
    pub exec: bool,
}

/// What a path holds.
#[derive(Debug)]
pub enum Scanned {
    Missing,
    File(FileEntry),
    /// A directory's files, sorted by relative path.
    Dir(Vec<FileEntry>),
}

/// Scan `path`. Symlinks are followed only to files inside `boundary`.
pub fn scan(path: &Path, boundary: &Path) -> Result<Scanned> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Scanned::Missing),
        Err(source) => {
            return Err(Error::Io {
                op: "stat",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if meta.is_dir() {
        let mut files = Vec::new();
        walk_dir(path, String::new(), boundary, &mut files)?;
        files.sort_unstable_by(|a, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
        return Ok(Scanned::Dir(files));
    }
    Ok(Scanned::File(file_entry(
        path,
        String::new(),
        meta,
        boundary,
    )?))
}

fn walk_dir(dir: &Path, rel: String, boundary: &Path, out: &mut Vec<FileEntry>) -> Result<()> {
    let mut subdirs = Vec::new();
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).at("read directory", dir)? {
        let entry = entry.at("read directory", dir)?;
        let abs = entry.path();
        let name = entry.file_name().into_string().map_err(|_| {
            Error::Path(PathError::UnsupportedName {
                path: abs.clone(),
                reason: "the name is not valid UTF-8",
            })
        })?;
        if name.chars().any(char::is_control) {
            return Err(Error::Path(PathError::UnsupportedName {
                path: abs,
                reason: "the name contains a control character",
            }));
        }
        if name.eq_ignore_ascii_case(".git") {
            return Err(Error::Path(PathError::UnsupportedName {
                path: abs,
                reason: "rvc does not track .git directories",
            }));
        }
        if crate::io::atomic::is_temp_name(&name) {
            // A file rvc is writing (or a leftover of a killed checkout).
            continue;
        }
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let ft = entry.file_type().at("stat", &abs)?;
        if ft.is_dir() {
            subdirs.push((abs, child));
        } else {
            files.push((entry, abs, child));
        }
    }
    // Stat files (relative to the open directory, which spares a path
    // lookup each) and descend into subdirectories, on all cores.
    let stated: Vec<FileEntry> = files
        .into_par_iter()
        .map(|(entry, abs, child)| {
            let meta = entry.metadata().at("stat", &abs)?;
            file_entry(&abs, child, meta, boundary)
        })
        .collect::<Result<_>>()?;
    out.extend(stated);
    let nested: Vec<Vec<FileEntry>> = subdirs
        .into_par_iter()
        .map(|(abs, child)| {
            let mut v = Vec::new();
            walk_dir(&abs, child, boundary, &mut v).map(|()| v)
        })
        .collect::<Result<_>>()?;
    out.extend(nested.into_iter().flatten());
    Ok(())
}

/// Describe a non-directory at `path`, whose lstat is `meta`.
fn file_entry(path: &Path, rel: String, meta: Metadata, boundary: &Path) -> Result<FileEntry> {
    let meta = if meta.file_type().is_symlink() {
        let target = fs::canonicalize(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => Error::Path(PathError::NotFound {
                path: path.to_path_buf(),
            }),
            _ => Error::Io {
                op: "follow symlink",
                path: path.to_path_buf(),
                source,
            },
        })?;
        if !target.starts_with(boundary) {
            return Err(Error::Path(PathError::SymlinkEscapes {
                path: path.to_path_buf(),
                target,
            }));
        }
        let m = fs::metadata(&target).at("stat", &target)?;
        if m.is_dir() {
            return Err(Error::Path(PathError::SymlinkedDir {
                path: path.to_path_buf(),
            }));
        }
        m
    } else {
        meta
    };
    if !meta.is_file() {
        return Err(Error::Path(PathError::SpecialFile {
            path: path.to_path_buf(),
        }));
    }
    Ok(FileEntry {
        rel,
        abs: path.to_path_buf(),
        stamp: Stamp::of(&meta),
        exec: meta.permissions().mode() & 0o111 != 0,
    })
}
