//! Installing rvc's git hooks next to the ones a repository already has.
//!
//! Each hook is a small `sh` script that runs `rvc hook NAME`. A hook that
//! was there before is renamed `NAME.pre-rvc` and still runs, first, with
//! the same arguments and input; its failure stops the commit or push as
//! before. Installing twice changes nothing; `--uninstall` puts the old
//! hooks back.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, HookError, IoContext, RepoError, Result};

/// The hooks rvc installs.
pub const HOOKS: [&str; 3] = ["pre-commit", "pre-push", "post-checkout"];
/// The line that marks a hook script as rvc's.
const MARKER: &str = "# rvc-hook: installed by `rvc hooks install`";
/// The suffix of a hook that rvc's hook chains to.
pub const CHAINED: &str = ".pre-rvc";

/// What happened to one hook.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Installed,
    /// Installed, and the existing hook now runs from `NAME.pre-rvc`.
    Chained,
    Unchanged,
    Removed,
    /// Removed, and `NAME.pre-rvc` is back in place.
    Restored,
    /// Not rvc's hook: left alone.
    NotOurs,
    Absent,
}

/// One hook's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HookOutcome {
    pub hook: String,
    pub path: PathBuf,
    pub action: Action,
}

/// The hooks directory of the git repository holding `root`, honouring
/// `core.hooksPath` and linked worktrees, and where `root` is below the
/// top of the work tree (`/`-separated, "" at the top).
pub fn hooks_dir(root: &Path) -> Result<(PathBuf, String)> {
    let git = git2::Repository::discover(root).map_err(|e| {
        Error::Repo(RepoError::NoGit {
            path: root.to_path_buf(),
            message: e.message().to_string(),
        })
    })?;
    let configured = git
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok());
    let top = git.workdir().unwrap_or(git.path()).to_path_buf();
    let subdir = std::fs::canonicalize(root)
        .ok()
        .zip(std::fs::canonicalize(&top).ok())
        .and_then(|(r, t)| {
            r.strip_prefix(&t)
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let dir = match configured {
        Some(p) if p.is_absolute() => p,
        Some(p) => top.join(p),
        None => git.commondir().join("hooks"),
    };
    Ok((dir, subdir))
}

/// Quote `s` for `sh`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The hook script. Git runs hooks at the top of the work tree; `subdir`
/// is where the rvc repository is below it ("" when it is the top).
fn script(hook: &str, rvc: &Path, subdir: &str) -> String {
    let rvc = quote(&rvc.display().to_string());
    let at = if subdir.is_empty() {
        String::new()
    } else {
        format!(" -C {}", quote(subdir))
    };
    let chained = format!("\"$(dirname \"$0\")/{hook}{CHAINED}\"");
    let run = if hook == "pre-push" {
        // Both hooks read the refs being pushed from standard input.
        format!(
            "input=$(cat)\n\
             if [ -x {chained} ]; then\n    printf '%s\\n' \"$input\" | {chained} \"$@\" || exit $?\nfi\n\
             printf '%s\\n' \"$input\" | \"$RVC\"{at} hook {hook} \"$@\"\n"
        )
    } else {
        format!(
            "if [ -x {chained} ]; then\n    {chained} \"$@\" || exit $?\nfi\n\
             exec \"$RVC\"{at} hook {hook} \"$@\"\n"
        )
    };
    format!(
        "#!/bin/sh\n{MARKER}; `rvc hooks install --uninstall` removes it.\n\
         # A hook that was here before runs first, from {hook}{CHAINED}.\n\
         RVC={rvc}\n[ -x \"$RVC\" ] || RVC=rvc\n{run}"
    )
}

fn is_ours(path: &Path) -> bool {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).contains(MARKER))
        .unwrap_or(false)
}

/// Install (or with `uninstall`, remove) the hooks. `rvc` is the binary
/// the hooks run (falling back to `rvc` on the PATH when it is gone).
pub fn install(root: &Path, rvc: &Path, uninstall: bool) -> Result<Vec<HookOutcome>> {
    let (dir, subdir) = hooks_dir(root)?;
    fs::create_dir_all(&dir).at("create directory", &dir)?;
    let mut out = Vec::new();
    for hook in HOOKS {
        let path = dir.join(hook);
        let chained = dir.join(format!("{hook}{CHAINED}"));
        let exists = path.symlink_metadata().is_ok();
        let action = if uninstall {
            if !exists {
                Action::Absent
            } else if !is_ours(&path) {
                Action::NotOurs
            } else {
                fs::remove_file(&path).at("remove", &path)?;
                if chained.symlink_metadata().is_ok() {
                    fs::rename(&chained, &path).at("restore", &chained)?;
                    Action::Restored
                } else {
                    Action::Removed
                }
            }
        } else {
            let text = script(hook, rvc, &subdir);
            if exists && is_ours(&path) {
                if fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
                    Action::Unchanged
                } else {
                    write_script(&path, &text)?;
                    Action::Installed
                }
            } else if exists {
                if chained.symlink_metadata().is_ok() {
                    return Err(Error::Hook(HookError::TwoForeignHooks {
                        first: path,
                        second: chained,
                    }));
                }
                fs::rename(&path, &chained).at("move aside", &path)?;
                write_script(&path, &text)?;
                Action::Chained
            } else {
                write_script(&path, &text)?;
                Action::Installed
            }
        };
        out.push(HookOutcome {
            hook: hook.to_string(),
            path,
            action,
        });
    }
    Ok(out)
}

fn write_script(path: &Path, text: &str) -> Result<()> {
    crate::io::atomic::write_atomic(path, text.as_bytes())?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).at("make executable", path)
}
