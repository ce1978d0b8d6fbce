//! Roots: the content that must be kept. Today these are the pointer files
//! of the workspace and, on request, of every git commit. Run lockfiles
//! will add their inputs and outputs here, and a retention rule (keep the
//! last N checkpoints of a run) will be a filter over those roots.

use std::collections::HashSet;
use std::path::Path;

use crate::error::{Error, Result};
use crate::pointer::{Pointer, PointerKind};
use crate::repo::Repo;
use crate::store::Root;
use crate::workspace::find_pointers;

/// A pointer that keeps content alive, and where it was found.
#[derive(Debug, Clone)]
pub struct Keep {
    /// `data.rvc`, or `<commit>:data.rvc` for a pointer in git history.
    pub source: String,
    pub pointer: Pointer,
}

impl Keep {
    pub fn root(&self) -> Root {
        match self.pointer.kind {
            PointerKind::File => Root::File(self.pointer.id),
            PointerKind::Dir => Root::Tree(self.pointer.id),
        }
    }
}

/// The pointers of the workspace. A malformed pointer is an error: what
/// it referred to cannot be known, so nothing may be deleted.
pub fn workspace(repo: &Repo) -> Result<Vec<Keep>> {
    find_pointers(repo)?
        .into_iter()
        .map(|t| {
            Ok(Keep {
                source: t.pointer_file,
                pointer: t.pointer?,
            })
        })
        .collect()
}

/// The pointers in every commit reachable from any git ref, each distinct
/// pointer once. Pointers that cannot be parsed are reported as warnings:
/// they never named valid content.
pub fn git_history(repo: &Repo) -> Result<(Vec<Keep>, Vec<String>)> {
    let git_err = |e: git2::Error| Error::Git {
        message: e.message().to_string(),
    };
    let git = git2::Repository::discover(repo.root()).map_err(|e| Error::Git {
        message: format!("{} (--all-commits needs a git repository)", e.message()),
    })?;
    let mut walk = git.revwalk().map_err(git_err)?;
    // Every ref (branches, tags, remotes, stash) and a detached HEAD.
    for r in git.references().map_err(git_err)? {
        if let Ok(commit) = r.map_err(git_err)?.peel_to_commit() {
            walk.push(commit.id()).map_err(git_err)?;
        }
    }
    if let Ok(head) = git.head().and_then(|h| h.peel_to_commit()) {
        walk.push(head.id()).map_err(git_err)?;
    }
    let mut seen_trees = HashSet::new();
    let mut seen_blobs = HashSet::new();
    let mut keep = Vec::new();
    let mut warnings = Vec::new();
    for oid in walk {
        let oid = oid.map_err(git_err)?;
        let commit = git.find_commit(oid).map_err(git_err)?;
        let tree = commit.tree().map_err(git_err)?;
        let short = oid.to_string()[..10].to_string();
        let mut stack = vec![(tree, String::new())];
        while let Some((tree, prefix)) = stack.pop() {
            if !seen_trees.insert(tree.id()) {
                continue;
            }
            for entry in tree.iter() {
                let Ok(name) = entry.name() else { continue };
                let path = format!("{prefix}{name}");
                match entry.kind() {
                    Some(git2::ObjectType::Tree) => {
                        let sub = git.find_tree(entry.id()).map_err(git_err)?;
                        stack.push((sub, format!("{path}/")));
                    }
                    Some(git2::ObjectType::Blob) if name.ends_with(crate::pointer::SUFFIX) => {
                        if !seen_blobs.insert(entry.id()) {
                            continue;
                        }
                        let blob = git.find_blob(entry.id()).map_err(git_err)?;
                        let source = format!("{short}:{path}");
                        let parsed = std::str::from_utf8(blob.content())
                            .map_err(|_| "not valid UTF-8".to_string())
                            .and_then(|text| {
                                Pointer::parse(text, Path::new(name)).map_err(|e| e.to_string())
                            });
                        match parsed {
                            Ok(pointer) => keep.push(Keep { source, pointer }),
                            Err(e) => warnings.push(format!("{source}: {e}")),
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok((keep, warnings))
}
