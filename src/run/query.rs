//! Finding runs: which runs consumed or produced an artefact.

use std::collections::HashMap;
use std::path::Path;

use super::{Artifact, Run};
use crate::error::{Error, PathError, Result};
use crate::format::id::{self, Id};
use crate::format::pointer::PointerKind;
use crate::format::tree::Tree;
use crate::io::progress::Silent;
use crate::repository::Repo;

/// Whether a run read or wrote an artefact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Input,
    Output,
}

/// One run that used the artefact.
#[derive(Debug, serde::Serialize)]
pub struct Hit {
    pub run: String,
    pub run_id: Id,
    pub role: Role,
    /// The run's input or output path.
    pub artifact: String,
    /// The matching file inside it (`artifact/…`), when the match is a file
    /// inside a stored directory.
    pub file: Option<String>,
    pub id: Id,
    pub commit: Option<String>,
    pub dirty: bool,
    pub locked: String,
}

/// What `which` looked for.
#[derive(Debug, serde::Serialize)]
pub struct Which {
    /// The id searched for (full), or the prefix given.
    pub query: String,
    pub hits: Vec<Hit>,
}

/// Find the runs whose inputs or outputs are, or contain, `arg`: a path in
/// the workspace (matched by its content id) or an id or id prefix.
pub fn which(repo: &Repo, runs: &[Run], cwd: &Path, arg: &str) -> Result<Which> {
    let abs = cwd.join(arg);
    // For a path: its id, and where it sits in the repository, so a
    // directory inside a stored output can be matched by its subtree.
    let (query, rel) = if std::fs::symlink_metadata(&abs).is_ok() {
        let boundary = repo.root().to_path_buf();
        let id = crate::workspace::hash_path(&abs, &boundary, &Silent)?
            .id
            .to_hex();
        (id, repo.relative(cwd, Path::new(arg)).ok())
    } else {
        (
            id::parse_prefix(arg)
                .map_err(|_| Error::Path(PathError::NotFound { path: arg.into() }))?,
            None,
        )
    };
    let store = repo.store();
    let mut trees: HashMap<Id, Option<Tree>> = HashMap::new();
    let mut hits = Vec::new();
    for run in runs {
        let artifacts = run
            .lock
            .inputs
            .iter()
            .map(|a| (Role::Input, a))
            .chain(run.lock.outputs.iter().map(|a| (Role::Output, a)));
        for (role, a) in artifacts {
            let hit = |file: Option<String>, id: Id| Hit {
                run: run.lock.run.name.clone(),
                run_id: run.id,
                role,
                artifact: a.path.clone(),
                file,
                id,
                commit: run.lock.code.as_ref().and_then(|c| c.commit.clone()),
                dirty: run.lock.code.as_ref().is_some_and(|c| c.dirty),
                locked: run.lock.run.locked.clone(),
            };
            if a.id.to_hex().starts_with(&query) {
                hits.push(hit(None, a.id));
                continue;
            }
            if a.kind == PointerKind::Dir {
                let tree = trees
                    .entry(a.id)
                    .or_insert_with(|| store.get_tree(&a.id).ok());
                if let Some(tree) = tree {
                    for e in tree
                        .entries()
                        .iter()
                        .filter(|e| e.id.to_hex().starts_with(&query))
                    {
                        hits.push(hit(Some(format!("{}/{}", a.path, e.path)), e.id));
                    }
                    // A directory inside the artefact: compare its subtree.
                    let inside = rel
                        .as_deref()
                        .and_then(|r| r.strip_prefix(a.path.as_str())?.strip_prefix('/'));
                    if let Some(sub) = inside {
                        if let Some(id) = subtree_id(tree, sub).filter(|id| id.to_hex() == query) {
                            hits.push(hit(Some(format!("{}/{sub}", a.path)), id));
                        }
                    }
                }
            }
        }
    }
    Ok(Which { query, hits })
}

/// `path` with the run name replaced by `{name}` where it stands as whole
/// path segments (`out/run-1/ckpt` → `out/{name}/ckpt`, but `out/run-10`
/// is not `run-1`).
fn name_as_segments(path: &str, name: &str) -> String {
    let wrapped = format!("/{path}/");
    let needle = format!("/{name}/");
    match wrapped.find(&needle) {
        Some(at) => {
            let replaced = format!(
                "{}/{{name}}/{}",
                &wrapped[..at],
                &wrapped[at + needle.len()..]
            );
            replaced.trim_matches('/').to_string()
        }
        None => path.to_string(),
    }
}

/// The tree id of the directory `sub` inside `tree`, if it has files.
fn subtree_id(tree: &Tree, sub: &str) -> Option<Id> {
    let prefix = format!("{sub}/");
    let entries: Vec<crate::format::tree::Entry> = tree
        .entries()
        .iter()
        .filter_map(|e| {
            let rest = e.path.strip_prefix(&prefix)?;
            Some(crate::format::tree::Entry {
                path: rest.to_string(),
                ..e.clone()
            })
        })
        .collect();
    if entries.is_empty() {
        return None;
    }
    Tree::from_entries(entries).ok().map(|t| t.id())
}

/// The artefacts of two runs, paired: by path, where a run's own name in a
/// path counts as the same (`out/run-41` pairs with `out/run-42`).
/// Unpaired ones come with `None` on the other side.
pub fn pair_artifacts<'a>(
    a: &'a [Artifact],
    a_name: &str,
    b: &'a [Artifact],
    b_name: &str,
) -> Vec<(Option<&'a Artifact>, Option<&'a Artifact>)> {
    let key = |x: &Artifact, name: &str| name_as_segments(&x.path, name);
    let mut out: Vec<(Option<&Artifact>, Option<&Artifact>)> = Vec::new();
    for x in a {
        let partner = b
            .iter()
            .find(|y| y.path == x.path)
            .or_else(|| b.iter().find(|y| key(y, b_name) == key(x, a_name)));
        out.push((Some(x), partner));
    }
    for y in b {
        if !out
            .iter()
            .any(|(_, p)| p.is_some_and(|p| std::ptr::eq(p, y)))
        {
            out.push((None, Some(y)));
        }
    }
    // One artefact left on each side (say checkpoint-200 and
    // checkpoint-2000): they are the same role, compare them.
    let lone_a: Vec<usize> = (0..out.len()).filter(|&i| out[i].1.is_none()).collect();
    let lone_b: Vec<usize> = (0..out.len()).filter(|&i| out[i].0.is_none()).collect();
    if let ([i], [j]) = (lone_a.as_slice(), lone_b.as_slice()) {
        if out[*i].0.map(|x| x.kind) == out[*j].1.map(|y| y.kind) {
            out[*i].1 = out[*j].1;
            out.remove(*j);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::name_as_segments;

    #[test]
    fn run_names_are_replaced_only_as_whole_segments() {
        assert_eq!(name_as_segments("out/run-1", "run-1"), "out/{name}");
        assert_eq!(
            name_as_segments("out/run-1/ckpt", "run-1"),
            "out/{name}/ckpt"
        );
        assert_eq!(name_as_segments("out/run-10", "run-1"), "out/run-10");
        assert_eq!(name_as_segments("a1/b", "1"), "a1/b");
        assert_eq!(
            name_as_segments("runs/sweep/lr-1/x", "sweep/lr-1"),
            "runs/{name}/x"
        );
    }
}
