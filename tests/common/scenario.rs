//! Ready-made repositories for end-to-end tests, so that each test file
//! does not grow its own set-up.

#![allow(dead_code)]

use super::Workspace;

/// The rows and files of the scenario, fixed so that ids and sizes are
/// the same on every machine.
pub fn data(ws: &Workspace) {
    ws.write("data/rows.csv", "a,b\n1,2\n3,4\n");
    ws.write("data/notes/readme.txt", "hello\n");
    ws.write("model.bin", super::noise(300_000, 7));
    ws.write("params.yaml", "lr: 0.1\nepochs: 2\n");
    ws.write(
        "metrics.jsonl",
        "{\"step\":1,\"loss\":2.0}\n{\"step\":2,\"loss\":1.5}\n{\"step\":3,\"loss\":1.25}\n",
    );
}

/// `rvc lock NAME` with the scenario's inputs, outputs, params and
/// metrics, and no Python environment (so the lockfile does not depend on
/// what is installed on the machine).
pub fn lock_args(name: &str) -> Vec<&str> {
    vec![
        "lock",
        name,
        "--input",
        "data",
        "--output",
        "model.bin",
        "--params",
        "params.yaml",
        "--metrics",
        "metrics.jsonl",
        "--python",
        "/nonexistent",
        "--started",
        "2026-11-22T14:00:00Z",
        "--ended",
        "2026-11-22T15:00:00Z",
    ]
}

/// A repository with data tracked and committed, and two runs: `run-1`,
/// then a change to the params and a row, then `run-2`, each committed.
pub fn two_runs() -> Workspace {
    let ws = Workspace::new();
    data(&ws);
    ws.rvc(&["add", "data", "model.bin"]).assert().success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "data"]);
    ws.rvc(&lock_args("run-1")).assert().success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "run-1"]);
    ws.write("params.yaml", "lr: 0.2\nepochs: 2\n");
    ws.write("data/rows.csv", "a,b\n1,2\n3,5\n");
    ws.rvc(&["add", "data"]).assert().success();
    ws.rvc(&lock_args("run-2")).assert().success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "run-2"]);
    ws
}

/// A second clone of `ws` (after committing everything), with its own
/// store.
pub fn clone_of(ws: &Workspace) -> Workspace {
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "snapshot", "--allow-empty"]);
    let b = Workspace::bare();
    let status = std::process::Command::new("git")
        .args(["clone", "-q"])
        .arg(ws.root())
        .arg(b.root())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .unwrap();
    assert!(status.success());
    b.committer();
    b
}
