//! End-to-end tests of the git hooks, through real git (commit, push,
//! checkout) and through the real pre-commit framework.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{noise, Workspace};

fn repo() -> Workspace {
    let ws = Workspace::new();
    ws.git(&["checkout", "-q", "-b", "main"]);
    ws
}

/// `git ARGS` in `dir`, returning its output whatever the exit status.
fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .unwrap()
}

fn both(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn install_chains_existing_hooks_is_idempotent_and_uninstalls_cleanly() {
    let ws = repo();
    let hooks = ws.path(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let mine = "#!/bin/sh\necho \"my own hook ran\" >&2\n";
    std::fs::write(hooks.join("pre-commit"), mine).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        hooks.join("pre-commit"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();

    let first = ws.json(&["hooks", "install"]);
    let actions: Vec<&str> = first
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["chained", "installed", "installed"]);
    let snapshot = |dir: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
            .collect();
        v.sort();
        v
    };
    let before = snapshot(&hooks);
    let again = ws.json(&["hooks", "install"]);
    assert!(again
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["action"] == "unchanged"));
    assert_eq!(snapshot(&hooks), before, "a second install changed files");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit.pre-rvc")).unwrap(),
        mine
    );

    // Both hooks run: the user's first, then rvc's.
    ws.write("a.txt", "a\n");
    ws.rvc(&["add", "a.txt"]).assert().success();
    ws.git(&["add", "-A"]);
    let out = git(ws.root(), &["commit", "-qm", "one"]);
    assert!(out.status.success(), "{}", both(&out));
    assert!(both(&out).contains("my own hook ran"));

    // A failing hook of the user's still stops the commit.
    std::fs::write(hooks.join("pre-commit.pre-rvc"), "#!/bin/sh\nexit 3\n").unwrap();
    let out = git(ws.root(), &["commit", "--allow-empty", "-qm", "two"]);
    assert!(!out.status.success());
    std::fs::write(hooks.join("pre-commit.pre-rvc"), mine).unwrap();

    let gone = ws.json(&["hooks", "install", "--uninstall"]);
    let actions: Vec<&str> = gone
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["restored", "removed", "removed"]);
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).unwrap(),
        mine
    );
    assert!(!hooks.join("pre-push").exists());
    assert!(!hooks.join("pre-commit.pre-rvc").exists());

    // A hook replaced by someone else since is left alone.
    ws.rvc(&["hooks", "install"]).assert().success();
    std::fs::write(hooks.join("post-checkout"), "#!/bin/sh\n").unwrap();
    let gone = ws.json(&["hooks", "install", "--uninstall"]);
    assert_eq!(gone[2]["action"], "not_ours");
    assert!(hooks.join("post-checkout").exists());
}

#[test]
fn pre_commit_stops_changed_data_unstaged_pointers_big_files_and_missing_content() {
    let ws = repo();
    ws.write("data/a.csv", "id,x\r\n1,2\r\n");
    ws.write("data/b.bin", noise(4096, 1));
    ws.rvc(&["add", "data"]).assert().success();
    ws.rvc(&["hooks", "install"]).assert().success();
    ws.git(&["add", "-A"]);
    let out = git(ws.root(), &["commit", "-qm", "data"]);
    assert!(out.status.success(), "{}", both(&out));

    // 1. Data changed, pointer not updated: the hook names the files, the
    // first few of each kind, then how many more.
    ws.write("data/a.csv", "id,x\r\n1,3\r\n");
    std::fs::remove_file(ws.path("data/b.bin")).unwrap();
    for i in 0..7 {
        ws.write(&format!("data/new/{i}.txt"), format!("{i}\n"));
    }
    let out = git(ws.root(), &["commit", "--allow-empty", "-qm", "x"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let text = both(&out);
    assert!(
        text.contains("data changed since data.rvc was written (1 modified, 7 added, 1 removed)"),
        "{text}"
    );
    for line in [
        "modified  data/a.csv",
        "removed   data/b.bin",
        "added     data/new/0.txt",
        "added     data/new/4.txt",
        "added     ... and 2 more (rvc status)",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    assert!(!text.contains("data/new/5.txt"), "{text}");
    assert!(text.contains("rvc add data && git add data.rvc"), "{text}");
    let json = ws.json(&["hook", "pre-commit"]);
    let changes = &json["problems"][0]["changes"];
    assert_eq!(changes["modified"], serde_json::json!(["a.csv"]), "{json}");
    assert_eq!(changes["removed"], serde_json::json!(["b.bin"]), "{json}");
    assert_eq!(changes["added"].as_array().unwrap().len(), 7, "{json}");
    std::fs::remove_dir_all(ws.path("data/new")).unwrap();
    ws.write("data/b.bin", noise(4096, 1));
    // 2. Pointer updated, not staged.
    ws.rvc(&["add", "data"]).assert().success();
    let out = git(ws.root(), &["commit", "--allow-empty", "-qm", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(both(&out).contains("git add data.rvc"), "{}", both(&out));
    ws.git(&["add", "data.rvc"]);
    let out = git(ws.root(), &["commit", "-qm", "new rows"]);
    assert!(out.status.success(), "{}", both(&out));

    // 3. A big file straight into git; the limit is configurable.
    ws.write("weights.bin", noise(11_000_000, 2));
    ws.git(&["add", "weights.bin"]);
    let out = git(ws.root(), &["commit", "-qm", "oops"]);
    assert_eq!(out.status.code(), Some(1));
    let text = both(&out);
    assert!(text.contains("weights.bin is 11.0 MB"), "{text}");
    assert!(
        text.contains("git rm --cached weights.bin && rvc add weights.bin"),
        "{text}"
    );
    let mut cfg = std::fs::read_to_string(ws.path(".rvc/config.toml")).unwrap();
    cfg = cfg.replace("# max_file_size = \"10MB\"", "max_file_size = \"20MB\"");
    std::fs::write(ws.path(".rvc/config.toml"), &cfg).unwrap();
    let report = ws.json(&["hook", "pre-commit"]);
    assert_eq!(report["problems"].as_array().unwrap().len(), 0, "{report}");
    ws.git(&["rm", "-q", "--cached", "weights.bin"]);
    std::fs::remove_file(ws.path("weights.bin")).unwrap();

    // 4. A staged pointer naming content that is nowhere.
    ws.write("other.bin", "other\n");
    ws.rvc(&["add", "other.bin"]).assert().success();
    let ptr = std::fs::read_to_string(ws.path("other.bin.rvc")).unwrap();
    let fake = common::b3(b"never stored anywhere");
    let real = common::b3(b"other\n");
    std::fs::write(ws.path("other.bin.rvc"), ptr.replace(&real, &fake)).unwrap();
    ws.git(&["add", "other.bin.rvc"]);
    let out = git(ws.root(), &["commit", "-qm", "bad pointer"]);
    assert_eq!(out.status.code(), Some(1));
    let text = both(&out);
    assert!(text.contains("other.bin.rvc names 1 object"), "{text}");
    assert!(
        text.contains("neither in the local store nor on any remote"),
        "{text}"
    );
    // A malformed staged pointer is named too.
    std::fs::write(ws.path("other.bin.rvc"), "not a pointer\n").unwrap();
    ws.git(&["add", "other.bin.rvc"]);
    let out = git(ws.root(), &["commit", "-qm", "bad pointer"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(both(&out).contains("other.bin.rvc"), "{}", both(&out));
    assert!(!both(&out).contains("panicked"));
}

#[test]
fn pre_commit_accepts_content_that_is_only_on_the_remote() {
    let remote = tempfile::tempdir().unwrap();
    let a = repo();
    a.write("m.bin", noise(5000, 9));
    a.rvc(&["add", "m.bin"]).assert().success();
    a.rvc(&[
        "remote",
        "add",
        "origin",
        remote.path().to_str().unwrap(),
        "--default",
    ])
    .assert()
    .success();
    a.rvc(&["push"]).assert().success();
    a.git(&["add", "-A"]);
    a.git(&["commit", "-qm", "m"]);
    // New content, pushed but not committed.
    a.write("m2.bin", noise(7000, 10));
    a.rvc(&["add", "m2.bin"]).assert().success();
    a.rvc(&["push", "m2.bin"]).assert().success();
    // A clone that never pulled: the content is not local, but it is on
    // the remote, so committing a pointer that names it is fine.
    let b = Workspace::bare();
    let out = Command::new("git")
        .arg("clone")
        .arg("-q")
        .arg(a.root())
        .arg(b.root())
        .output()
        .unwrap();
    assert!(out.status.success());
    b.committer();
    b.rvc(&["hooks", "install"]).assert().success();
    std::fs::copy(a.path("m2.bin.rvc"), b.path("m2.bin.rvc")).unwrap();
    b.git(&["add", "m2.bin.rvc"]);
    // Without the remote, the commit is refused...
    b.rvc(&["remote", "remove", "origin"]).assert().success();
    let out = git(b.root(), &["commit", "-qm", "m2"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(both(&out).contains("none is configured"), "{}", both(&out));
    // ...and with it, accepted.
    b.rvc(&[
        "remote",
        "add",
        "origin",
        remote.path().to_str().unwrap(),
        "--default",
    ])
    .assert()
    .success();
    let out = git(b.root(), &["commit", "-qm", "m2"]);
    assert!(out.status.success(), "{}", both(&out));
}

#[test]
fn pre_push_pushes_the_data_of_the_pushed_commits_or_stops_the_push() {
    let bare = tempfile::tempdir().unwrap();
    let store = tempfile::tempdir().unwrap();
    assert!(git(bare.path(), &["init", "-q", "--bare"]).status.success());
    let ws = repo();
    ws.git(&["remote", "add", "origin", bare.path().to_str().unwrap()]);
    ws.write("data/x.bin", noise(3 << 20, 4));
    ws.rvc(&["add", "data"]).assert().success();
    ws.rvc(&["hooks", "install"]).assert().success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "data"]);

    // No rvc remote yet: the push cannot carry the data, so it stops.
    let out = git(ws.root(), &["push", "-q", "origin", "main"]);
    assert_ne!(out.status.code(), Some(0), "{}", both(&out));
    assert!(both(&out).contains("rvc remote add"), "{}", both(&out));
    assert!(!git(bare.path(), &["rev-parse", "-q", "--verify", "main"])
        .status
        .success());

    ws.rvc(&[
        "remote",
        "add",
        "store",
        store.path().to_str().unwrap(),
        "--default",
    ])
    .assert()
    .success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "remote"]);
    let out = git(ws.root(), &["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        both(&out).contains("rvc pre-push: pushed"),
        "{}",
        both(&out)
    );
    assert!(store.path().join("rvc-remote").is_file());

    // A pointer whose content this machine lost: the push fails.
    ws.write("gone.bin", "soon gone\n");
    ws.rvc(&["add", "gone.bin"]).assert().success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "gone"]);
    // Lose it: clear the local store (a fresh machine would be the same).
    std::fs::remove_dir_all(ws.path(".rvc/cache")).unwrap();
    let out = git(ws.root(), &["push", "-q", "origin", "main"]);
    assert_ne!(out.status.code(), Some(0));
    let text = both(&out);
    assert!(text.contains("missing"), "{text}");
    assert!(text.contains("gone.bin.rvc"), "{text}");
    assert!(text.contains("git push stops here"), "{text}");
}

#[test]
fn post_checkout_follows_the_branch_and_keeps_modified_data() {
    let ws = repo();
    ws.write("data/a.txt", "version one\n");
    ws.write("data/b.txt", "bee\n");
    ws.rvc(&["add", "data"]).assert().success();
    ws.rvc(&["hooks", "install"]).assert().success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "v1"]);
    ws.git(&["checkout", "-q", "-b", "v2"]);
    ws.write("data/a.txt", "version two\n");
    ws.write("data/c.txt", "new in v2\n");
    ws.rvc(&["add", "data"]).assert().success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "v2"]);

    let out = git(ws.root(), &["checkout", "-q", "main"]);
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(ws.read("data/a.txt"), b"version one\n");
    assert!(!ws.path("data/c.txt").exists());
    let out = git(ws.root(), &["checkout", "-q", "v2"]);
    assert!(out.status.success());
    assert_eq!(ws.read("data/a.txt"), b"version two\n");
    assert_eq!(ws.read("data/c.txt"), b"new in v2\n");

    // An edit whose bytes are in no store survives a branch switch.
    ws.write("data/b.txt", "precious unsaved edit\n");
    let out = git(ws.root(), &["checkout", "-q", "main"]);
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(ws.read("data/b.txt"), b"precious unsaved edit\n");
    assert!(both(&out).contains("kept data/b.txt"), "{}", both(&out));
    assert_eq!(ws.read("data/a.txt"), b"version one\n");
    // A file checkout (flag 0) does nothing.
    ws.rvc(&["hook", "post-checkout", "x", "y", "0"])
        .assert()
        .success();
}

/// The `pre-commit` command: from the PATH, or installed from PyPI.
fn pre_commit_tool() -> PathBuf {
    common::python_tool("pre-commit", "pre-commit")
}

#[test]
fn the_pre_commit_framework_runs_rvcs_hooks_from_this_repository() {
    let tool = pre_commit_tool();
    let this_repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rvc_dir = assert_cmd::cargo::cargo_bin("rvc")
        .parent()
        .unwrap()
        .to_path_buf();
    let ws = repo();
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| -> Output {
        let path = format!(
            "{}:{}",
            rvc_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new(&tool)
            .args(args)
            .current_dir(ws.root())
            .env("PATH", path)
            .env("PRE_COMMIT_HOME", home.path())
            .env("HOME", home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap()
    };
    let out = run(&[
        "validate-manifest",
        this_repo.join(".pre-commit-hooks.yaml").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", both(&out));

    ws.write("data/rows.jsonl", "{\"a\": 1}\n");
    ws.rvc(&["add", "data"]).assert().success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "data"]);
    let try_repo =
        |hook: &str| run(&["try-repo", this_repo.to_str().unwrap(), hook, "--all-files"]);
    let out = try_repo("rvc-pre-commit");
    assert!(out.status.success(), "{}", both(&out));

    ws.write("data/rows.jsonl", "{\"a\": 2}\n");
    let out = try_repo("rvc-pre-commit");
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        both(&out).contains("data changed since data.rvc was written"),
        "{}",
        both(&out)
    );
    ws.rvc(&["add", "data"]).assert().success();
    ws.git(&["add", "data.rvc"]);
    let out = try_repo("rvc-pre-commit");
    assert!(out.status.success(), "{}", both(&out));
}

#[test]
fn hooks_work_when_the_rvc_repository_is_below_the_top_of_the_git_work_tree() {
    let ws = Workspace::bare();
    ws.git(&["init", "-q"]);
    ws.committer();
    std::fs::create_dir_all(ws.path("ml")).unwrap();
    ws.rvc(&["-C", "ml", "init"]).assert().success();
    ws.write("ml/data/a.txt", "one\n");
    ws.rvc(&["-C", "ml", "add", "data"]).assert().success();
    ws.rvc(&["-C", "ml", "hooks", "install"]).assert().success();
    ws.git(&["add", "-A"]);
    let out = git(ws.root(), &["commit", "-qm", "ml data"]);
    assert!(out.status.success(), "{}", both(&out));
    ws.write("ml/data/a.txt", "two\n");
    let out = git(ws.root(), &["commit", "--allow-empty", "-qm", "x"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        both(&out).contains("data changed since data.rvc"),
        "{}",
        both(&out)
    );
}
