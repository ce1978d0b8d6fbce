//! End-to-end: `rvc import dvc` on repositories made by the real `dvc`
//! (from the PATH, or installed from PyPI into a venv under target/):
//! `dvc add` of a file and of a directory, a `dvc.yaml` stage run by
//! `dvc repro`, and a DVC cache with objects missing. After the import,
//! `rvc status` is clean and `rvc checkout` restores the bytes `dvc
//! checkout` does.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{stderr, stdout, Workspace};

/// The tests of this file run on threads at once: one install.
fn dvc() -> PathBuf {
    static DVC: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DVC.get_or_init(|| common::python_tool("dvc", "dvc"))
        .clone()
}

/// Run `dvc ARGS` in `ws`, without analytics or network.
fn run_dvc(ws: &Workspace, args: &[&str]) {
    let out = Command::new(dvc())
        .args(args)
        .current_dir(ws.root())
        .env("DVC_NO_ANALYTICS", "1")
        .env("DVC_NOSCM", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dvc {args:?} failed: {}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// A git repository with DVC: a CSV with CRLF endings and a binary file
/// added one by one, a directory added whole, and a pipeline stage run by
/// `dvc repro` (deps: the directory, the script, two params; out: a
/// directory). Then `rvc init`.
fn dvc_project() -> Workspace {
    let ws = Workspace::bare();
    ws.git(&["init", "-q"]);
    ws.committer();
    run_dvc(&ws, &["init", "-q"]);
    run_dvc(&ws, &["config", "core.analytics", "false"]);
    ws.write("data/raw/a.csv", "id,text\r\n1,alpha\r\n2,beta\r\n");
    ws.write("data/raw/nested/b.jsonl", "{\"x\":1}\n");
    ws.write("model0.bin", common::noise(300_000, 7));
    run_dvc(&ws, &["add", "-q", "data/raw", "model0.bin"]);
    ws.write("params.yaml", "lr: 0.1\ntrain:\n  epochs: 3\n");
    ws.write(
        "train.py",
        "import os\nos.makedirs('out', exist_ok=True)\n\
         open('out/model.txt', 'w').write(open('data/raw/a.csv').read().upper())\n",
    );
    ws.write(
        "dvc.yaml",
        "stages:\n  train:\n    cmd: python3 train.py\n    deps:\n    - data/raw\n    - train.py\n    \
         params:\n    - lr\n    - train.epochs\n    outs:\n    - out\n",
    );
    run_dvc(&ws, &["repro", "-q"]);
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "dvc project"]);
    ws.rvc(&["init"]).assert().success();
    ws
}

/// Every regular file below `dir` with its bytes, sorted by path.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn import_converts_dvc_add_outputs_and_repro_stages_and_checkout_matches_dvc() {
    if !common::have_tool("python3", "rvc import dvc tests (dvc from PyPI)") {
        return;
    }
    let ws = dvc_project();
    // What dvc checkout writes, for comparison.
    let want_raw = snapshot(&ws.path("data/raw"));
    let want_out = snapshot(&ws.path("out"));
    let want_model = ws.read("model0.bin");
    // Some outputs are missing from the workspace: they come from DVC's cache.
    std::fs::remove_file(ws.path("model0.bin")).unwrap();
    std::fs::remove_file(ws.path("data/raw/nested/b.jsonl")).unwrap();

    let out = ws.rvc(&["import", "dvc", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let converted: Vec<&str> = r["converted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(converted, ["data/raw", "out", "model0.bin"], "{r}");
    assert_eq!(r["converted"][0]["from_cache"], 1, "{r}");
    assert_eq!(r["converted"][2]["from_cache"], 1, "{r}");
    assert_eq!(r["skipped"], serde_json::json!([]), "{r}");
    let run = &r["runs"][0];
    assert_eq!(
        (&run["stage"], &run["run"]),
        (&"train".into(), &"train".into())
    );
    assert_eq!(run["command"], "python3 train.py");

    // The workspace is clean and the run records what dvc.lock did.
    ws.rvc(&["status", "--check"]).assert().success();
    let show = ws.json(&["show", "train"]);
    let paths = |k: &str| -> Vec<String> {
        show["lock"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["path"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(paths("input"), ["data/raw", "train.py"], "{show}");
    assert_eq!(paths("output"), ["out"], "{show}");
    assert_eq!(show["lock"]["params"]["lr"], 0.1, "{show}");
    assert_eq!(show["lock"]["params"]["train.epochs"], 3, "{show}");
    // DVC's files are left in place.
    assert!(ws.path("data/raw.dvc").is_file() && ws.path("dvc.lock").is_file());

    // rvc checkout restores exactly what dvc checkout does.
    for p in ["data/raw", "out", "model0.bin"] {
        let p = ws.path(p);
        if p.is_dir() {
            std::fs::remove_dir_all(&p).unwrap();
        } else {
            std::fs::remove_file(&p).unwrap();
        }
    }
    ws.rvc(&["checkout"]).assert().success();
    assert_eq!(snapshot(&ws.path("data/raw")), want_raw);
    assert_eq!(snapshot(&ws.path("out")), want_out);
    assert_eq!(ws.read("model0.bin"), want_model);

    // A second import changes nothing and keeps the run.
    let again = ws.json(&["import", "dvc"]);
    assert_eq!(again["runs"][0]["existing"], true, "{again}");
    assert_eq!(again["skipped"], serde_json::json!([]), "{again}");
}

#[test]
fn missing_cache_objects_and_edited_files_are_reported_and_nothing_is_overwritten() {
    if !common::have_tool("python3", "rvc import dvc tests (dvc from PyPI)") {
        return;
    }
    let ws = dvc_project();
    // model0.bin: gone from the workspace and from DVC's cache.
    std::fs::remove_file(ws.path("model0.bin")).unwrap();
    let md5 = std::fs::read_to_string(ws.path("model0.bin.dvc")).unwrap();
    let md5 = md5
        .lines()
        .find_map(|l| l.trim().strip_prefix("- md5: "))
        .unwrap()
        .to_string();
    std::fs::remove_file(ws.path(&format!(".dvc/cache/files/md5/{}/{}", &md5[..2], &md5[2..])))
        .unwrap();
    // data/raw/a.csv: edited after dvc add (not added again).
    ws.write("data/raw/a.csv", "id,text\r\n1,EDITED\r\n");

    let out = ws.rvc(&["import", "dvc"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        "not converted: model0.bin [from model0.bin.dvc]: model0.bin is not in the workspace and DVC's cache lacks it",
        "not converted: data/raw [from data/raw.dvc]: data/raw/a.csv differs from what DVC recorded",
        "not converted: stage train [from dvc.lock]",
        "converted out (1 file) -> out.rvc",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    // The edit is still there, and no pointer names what was not converted.
    assert_eq!(ws.read("data/raw/a.csv"), b"id,text\r\n1,EDITED\r\n");
    assert!(!ws.path("data/raw.rvc").exists() && !ws.path("model0.bin.rvc").exists());
    assert!(ws.path("out.rvc").is_file());
}

#[test]
fn outside_a_dvc_repository_the_import_says_where_to_run_it() {
    let ws = Workspace::new();
    let out = ws.rvc(&["import", "dvc"]).output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("no DVC repository here"), "{err}");
}

#[test]
fn a_killed_import_leaves_a_sound_repository_and_the_rerun_completes() {
    if !common::have_tool("python3", "rvc import dvc tests (dvc from PyPI)") {
        return;
    }
    // A project whose bytes are only in DVC's cache: the import copies
    // 600 small files and two 8 MB checkpoints back, then adds them.
    let ws = Workspace::bare();
    ws.git(&["init", "-q"]);
    ws.committer();
    run_dvc(&ws, &["init", "-q"]);
    for i in 0..600 {
        ws.write(
            &format!("data/shards/{:02}/{i}.txt", i % 12),
            format!("row {i}\n"),
        );
    }
    ws.write("ckpt/a.bin", common::noise(8 << 20, 1));
    ws.write("ckpt/b.bin", common::noise(8 << 20, 2));
    run_dvc(&ws, &["add", "-q", "data/shards", "ckpt"]);
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "dvc project"]);
    let want_data = snapshot(&ws.path("data/shards"));
    let want_ckpt = snapshot(&ws.path("ckpt"));
    std::fs::remove_dir_all(ws.path("data/shards")).unwrap();
    std::fs::remove_dir_all(ws.path("ckpt")).unwrap();
    ws.rvc(&["init"]).assert().success();

    for ms in [2, 15, 40, 80, 150, 250, 400, 650] {
        common::kill_after(ws.rvc_process(&["import", "dvc"]), ms);
        common::assert_sound(&ws, &format!("import killed after {ms} ms"));
        // A pointer, when written, is whole and names what the store holds.
        for p in ["data/shards.rvc", "ckpt.rvc"] {
            if ws.path(p).exists() {
                ws.rvc(&["ls", p]).assert().success();
            }
        }
    }
    // A copy from DVC's cache cut short, as a kill mid-copy leaves it: not
    // data, and not a file DVC does not list.
    ws.write("ckpt/.rvc-tmp-4242-0-1f", common::noise(1 << 20, 3));
    let out = ws.rvc(&["import", "dvc"]).output().unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    common::assert_sound(&ws, "after the re-run");
    let listing = stdout(&ws.rvc(&["ls", "ckpt.rvc"]).output().unwrap());
    assert!(!listing.contains("rvc-tmp"), "{listing}");
    let status = ws.rvc(&["status"]).output().unwrap();
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(
        stdout(&status).contains("2 tracked paths up to date"),
        "{}",
        stdout(&status)
    );
    // Nothing the killed runs left behind is in the data, and checkout
    // restores every byte.
    std::fs::remove_dir_all(ws.path("data/shards")).unwrap();
    std::fs::remove_dir_all(ws.path("ckpt")).unwrap();
    ws.rvc(&["checkout"]).assert().success();
    assert!(snapshot(&ws.path("data/shards")) == want_data);
    assert!(snapshot(&ws.path("ckpt")) == want_ckpt);
}
