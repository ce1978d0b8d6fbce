//! `kill -9` at spread-out moments during `lock`, `run` and `gc` (`add`
//! and `checkout` have theirs in tests/store.rs and tests/cli.rs). After
//! every kill: fsck finds nothing corrupt or missing, so no lockfile names
//! an object that is not there, and the re-run completes. docs/reliability.md
//! counts these kill points.

mod common;

use common::{assert_sound as sound, kill_after, noise, Workspace};

/// The kill points, in milliseconds after the start: from before the
/// command has opened the repository to after it would have finished.
const KILL_AT_MS: [u64; 12] = [1, 3, 8, 15, 25, 40, 60, 90, 130, 180, 260, 400];

/// Outputs big enough that storing them takes a while: checkpoints and
/// many small files.
fn outputs(ws: &Workspace, dir: &str, seed: u64) {
    ws.write(&format!("{dir}/ckpt-a.bin"), noise(12 << 20, seed));
    ws.write(&format!("{dir}/ckpt-b.bin"), noise(12 << 20, seed + 1));
    for i in 0..400 {
        ws.write(&format!("{dir}/logs/{i}.txt"), format!("{seed} {i}\n"));
    }
    ws.write(
        &format!("{dir}/trainer_state.json"),
        r#"{"log_history": [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.5}]}"#,
    );
}

#[test]
fn sigkill_during_lock_leaves_no_lockfile_naming_missing_objects() {
    let ws = Workspace::new();
    ws.write("data/rows.csv", "a,b\n1,2\n".repeat(50_000));
    outputs(&ws, "out", 1);
    let lock = |ws: &Workspace| {
        ws.rvc_process(&[
            "lock",
            "run-1",
            "--input",
            "data",
            "--output",
            "out",
            "--metrics",
            "out/trainer_state.json",
            "--python",
            "/nonexistent",
            "--force",
        ])
    };
    for ms in KILL_AT_MS {
        kill_after(lock(&ws), ms);
        sound(&ws, &format!("lock killed after {ms} ms"));
        // A lockfile, if one was written, is whole: it parses.
        if ws.path(".rvc/runs/run-1.lock").exists() {
            ws.rvc(&["show", "run-1"]).assert().success();
        }
    }
    let out = lock(&ws).output().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    sound(&ws, "after the re-run");
    std::fs::remove_dir_all(ws.path("out")).unwrap();
    ws.rvc(&["checkout", "run-1", "--outputs"])
        .assert()
        .success();
    assert_eq!(ws.read("out/ckpt-a.bin"), noise(12 << 20, 1));
}

#[test]
fn sigkill_during_run_leaves_a_consistent_store_and_the_rerun_completes() {
    let ws = Workspace::new();
    // The command writes its outputs, then rvc stores them: kills land in
    // the command, in the sampling, and in the recording.
    let script = "mkdir -p out && head -c 20000000 /dev/urandom > out/model.bin && \
                  for i in $(seq 1 200); do echo $i > out/f$i.txt; done && echo done";
    let run = |ws: &Workspace| {
        ws.rvc_process(&[
            "run",
            "run-1",
            "--output",
            "out",
            "--python",
            "/nonexistent",
            "--force",
            "--",
            "sh",
            "-c",
            script,
        ])
    };
    for ms in KILL_AT_MS.iter().chain(&[600, 900]) {
        kill_after(run(&ws), *ms);
        sound(&ws, &format!("run killed after {ms} ms"));
        if ws.path(".rvc/runs/run-1.lock").exists() {
            ws.rvc(&["show", "run-1"]).assert().success();
        }
    }
    let out = run(&ws).output().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    sound(&ws, "after the re-run");
    let model = ws.read("out/model.bin");
    std::fs::remove_dir_all(ws.path("out")).unwrap();
    ws.rvc(&["checkout", "run-1", "--outputs"])
        .assert()
        .success();
    assert_eq!(ws.read("out/model.bin"), model);
}

#[test]
fn sigkill_during_gc_deletes_nothing_still_named_and_the_rerun_completes() {
    let ws = Workspace::new();
    for (round, &ms) in KILL_AT_MS.iter().enumerate() {
        // Garbage of every kind for this round's gc: a replaced large file
        // (manifest and chunks), replaced small files (packed chunks, so
        // packs are rewritten) and a replaced directory (a tree).
        for i in 0..300 {
            ws.write(
                &format!("data/small/{i}.txt"),
                format!("round {round} file {i}\n"),
            );
        }
        ws.write("data/big.bin", noise(8 << 20, round as u64));
        ws.rvc(&["add", "data"]).assert().success();
        kill_after(ws.rvc_process(&["gc"]), ms);
        sound(&ws, &format!("gc killed after {ms} ms"));
        ws.rvc(&["status", "--check"]).assert().success();
    }
    ws.rvc(&["gc"]).assert().success();
    sound(&ws, "after the re-run");
    let big = ws.read("data/big.bin");
    std::fs::remove_dir_all(ws.path("data")).unwrap();
    ws.rvc(&["checkout"]).assert().success();
    assert_eq!(ws.read("data/big.bin"), big);
    assert_eq!(
        String::from_utf8(ws.read("data/small/7.txt")).unwrap(),
        format!("round {} file 7\n", KILL_AT_MS.len() - 1)
    );
}
