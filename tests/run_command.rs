//! End-to-end tests of `rvc run NAME -- CMD`: the command runs with its
//! output passed through, and the run is locked however it ends.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use common::{stderr, stdout, Workspace};

fn repo() -> Workspace {
    let ws = Workspace::new();
    // A stand-in trainer: writes an output and metrics, prints to both
    // streams, sleeps $SLEEP seconds, exits with $CODE.
    ws.write(
        "train.sh",
        "#!/bin/sh\n\
         mkdir -p out/$RVC_RUN_NAME\n\
         echo \"training $RVC_RUN_NAME\"\n\
         echo \"a warning\" >&2\n\
         for i in 1 2 3; do echo \"{\\\"step\\\": $i, \\\"loss\\\": 0.$((9 - i))}\" >> out/$RVC_RUN_NAME/metrics.jsonl; done\n\
         echo weights > out/$RVC_RUN_NAME/model.bin\n\
         sleep ${SLEEP:-0}\n\
         exit ${CODE:-0}\n",
    );
    let script = ws.path("train.sh");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    ws.write("params.yaml", "lr: 0.1\n");
    ws.write(
        ".rvc/config.toml",
        "[run]\noutputs = [\"out/{name}\"]\nparams = [\"params.yaml\"]\nmetrics = [\"out/{name}/metrics.jsonl\"]\n",
    );
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "init"]);
    ws
}

/// `rvc run NAME -- ./train.sh` with a 30 s sleep, returned once the
/// command is running (it has written its output), with when it started.
fn running(ws: &Workspace, name: &str) -> (std::process::Child, Instant) {
    let child = ws
        .rvc_process(&["run", name, "--", "./train.sh"])
        .env("SLEEP", "30")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !ws.path(&format!("out/{name}/model.bin")).exists() {
        assert!(start.elapsed() < Duration::from_secs(30), "never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, start)
}

fn lockfile(ws: &Workspace, name: &str) -> toml::Table {
    let text = std::fs::read_to_string(ws.path(&format!(".rvc/runs/{name}.lock"))).unwrap();
    toml::from_str(&text).unwrap()
}

#[test]
fn a_succeeding_command_is_passed_through_and_locked_with_its_log() {
    let ws = repo();
    let out = ws
        .rvc(&["run", "r1", "--sample-every", "1", "--", "./train.sh"])
        .env("SLEEP", "2.2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The command's stdout is rvc's stdout; rvc's report is on stderr.
    assert_eq!(stdout(&out), "training r1\n");
    let err = stderr(&out);
    assert!(err.contains("a warning"), "{err}");
    assert!(err.contains("r1 succeeded after "), "{err}");
    assert!(err.contains("locked r1 -> .rvc/runs/r1.lock"), "{err}");

    let lock = lockfile(&ws, "r1");
    assert_eq!(lock["version"].as_integer(), Some(2));
    let p = lock["process"].as_table().unwrap();
    assert_eq!(
        p["command"].as_array().unwrap()[0].as_str(),
        Some("./train.sh")
    );
    assert_eq!(p["status"].as_str(), Some("succeeded"));
    assert_eq!(p["exit_code"].as_integer(), Some(0));
    assert_eq!(p["cwd"].as_str(), Some("."));
    assert!(p["seconds"].as_float().unwrap() >= 2.0, "{p:?}");
    // The [run] defaults were used, with {name}.
    assert_eq!(lock["output"][0]["path"].as_str(), Some("out/r1"));
    assert_eq!(lock["metrics"]["final"]["loss"].as_float(), Some(0.6));

    // System metrics: at least three samples a second apart, with the
    // process tree's memory and CPU, and the GPUs (none here) said.
    let s = lock["system"].as_table().unwrap();
    assert!(s["samples"].as_integer().unwrap() >= 3, "{s:?}");
    assert!(s["mean"]["process/rss_bytes"].as_float().unwrap() > 0.0);
    assert!(s["peak"]
        .as_table()
        .unwrap()
        .contains_key("process/cpu_percent"));
    assert!(s["mean"]
        .as_table()
        .unwrap()
        .contains_key("host/memory_used_bytes"));
    assert!(!s["gpus"].as_str().unwrap().is_empty());

    // The combined log, from the store.
    let log = ws.rvc(&["show", "r1", "--log"]).output().unwrap();
    let text = stdout(&log);
    assert!(
        text.contains("training r1\n") && text.contains("a warning\n"),
        "{text}"
    );
    let shown = stdout(&ws.rvc(&["show", "r1"]).output().unwrap());
    assert!(shown.contains("status    succeeded (exit 0)"), "{shown}");
    assert!(shown.contains("process/rss_bytes: mean "), "{shown}");

    // gc keeps what the lockfile names: the log and the series.
    ws.rvc(&["gc"]).assert().success();
    ws.rvc(&["show", "r1", "--log"]).assert().success();
    ws.rvc(&["fsck"]).assert().success();
    let runs = stdout(&ws.rvc(&["runs"]).output().unwrap());
    assert!(runs.lines().next().unwrap().contains("status"), "{runs}");
}

#[test]
fn a_failing_command_is_locked_as_failed_and_its_exit_code_returned() {
    let ws = repo();
    let out = ws
        .rvc(&["run", "r2", "--", "./train.sh"])
        .env("CODE", "3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("r2 failed after"), "{}", stderr(&out));
    let p = lockfile(&ws, "r2")["process"].clone();
    assert_eq!(p["status"].as_str(), Some("failed"));
    assert_eq!(p["exit_code"].as_integer(), Some(3));

    ws.rvc(&["run", "r1", "--", "./train.sh"])
        .assert()
        .success();
    let d = stdout(&ws.rvc(&["diff", "r1", "r2"]).output().unwrap());
    assert!(d.contains("status: succeeded -> failed"), "{d}");
    let j = ws.json(&["diff", "r1", "r2"]);
    assert_eq!(j["process"]["status"]["after"], "failed");
    assert!(j["system"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "process/rss_bytes"));
}

#[test]
fn a_command_that_cannot_start_or_a_taken_name_records_nothing() {
    let ws = repo();
    let out = ws
        .rvc(&["run", "r3", "--", "no-such-program-here"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot start `no-such-program-here`: no such program"),
        "{}",
        stderr(&out)
    );
    assert!(!ws.path(".rvc/runs/r3.lock").exists());
    ws.write("not-executable.sh", "#!/bin/sh\necho hi\n");
    let out = ws
        .rvc(&["run", "r3", "--", "./not-executable.sh"])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("it is not executable"),
        "{}",
        stderr(&out)
    );
    assert!(!ws.path(".rvc/runs/r3.lock").exists());

    // A taken name is refused before the command runs.
    ws.rvc(&["run", "r1", "--", "./train.sh"])
        .assert()
        .success();
    let out = ws
        .rvc(&["run", "r1", "--", "touch", "ran-anyway"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("run `r1` already exists"),
        "{}",
        stderr(&out)
    );
    assert!(!ws.path("ran-anyway").exists(), "the command must not run");
    // Without `--`, there is no command.
    ws.rvc(&["run", "r4"]).assert().code(2);
}

/// SIGTERM (a scheduler ending the job) and SIGINT sent to rvc reach the
/// command; the run is still locked, as interrupted.
#[test]
fn stop_signals_are_passed_on_and_the_run_is_locked_as_interrupted() {
    for (signal, name, code) in [
        (libc::SIGTERM, "SIGTERM", 143),
        (libc::SIGINT, "SIGINT", 130),
    ] {
        let ws = repo();
        let (child, start) = running(&ws, "long");
        // SAFETY: kill(2) on a child this test spawned and has not reaped.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let out = child.wait_with_output().unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the command did not stop"
        );
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("long interrupted after"),
            "{}",
            stderr(&out)
        );
        let p = lockfile(&ws, "long")["process"].clone();
        assert_eq!(p["status"].as_str(), Some("interrupted"));
        assert_eq!(p["signal"].as_str(), Some(name));
        assert!(p.get("exit_code").is_none());
        // Its outputs so far are recorded too.
        assert_eq!(
            lockfile(&ws, "long")["output"][0]["path"].as_str(),
            Some("out/long")
        );
    }
}

/// `kill -9` of rvc while the command runs: no lockfile, and the log it
/// was writing is removed by the next `rvc run` (a log whose writer is
/// alive, another run's, is left alone).
#[test]
fn a_killed_rvc_run_leaves_no_lockfile_and_its_log_is_cleaned_up() {
    let ws = repo();
    let (mut child, _) = running(&ws, "killed");
    child.kill().unwrap();
    child.wait().unwrap();
    let logs = || {
        std::fs::read_dir(ws.path(".rvc/state"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("run-log-")
            })
            .count()
    };
    assert_eq!(logs(), 1, "the killed run's log");
    assert!(!ws.path(".rvc/runs/killed.lock").exists());
    // A log of a live process (this test's) stays.
    let live = ws.path(&format!(".rvc/state/run-log-{}-x", std::process::id()));
    std::fs::write(&live, "another run's log").unwrap();
    ws.rvc(&["run", "next", "--", "./train.sh"])
        .assert()
        .success();
    assert_eq!(logs(), 1, "only the live one is left");
    assert!(live.exists());
    ws.rvc(&["fsck"]).assert().success();
}

/// `rvc plots` draws the system series of runs recorded by `rvc run` after
/// the training curves, leaves out metrics that stayed at zero, and still
/// draws the dots of runs that logged their loss once.
#[test]
fn plots_draws_system_series_after_the_training_curves() {
    let ws = repo();
    ws.rvc(&["run", "r1", "--sample-every", "1", "--", "./train.sh"])
        .env("SLEEP", "2.2")
        .assert()
        .success();
    let out = ws.json(&["plots", "-o", "p.html"]);
    let charts: Vec<String> = out["charts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["family"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        charts.first().map(String::as_str),
        Some("loss"),
        "{charts:?}"
    );
    let system: Vec<&String> = charts.iter().filter(|c| c.starts_with("system/")).collect();
    assert!(
        system
            .iter()
            .any(|c| c.as_str() == "system/process/rss_bytes"),
        "{charts:?}"
    );
    let first_system = charts
        .iter()
        .position(|c| c.starts_with("system/"))
        .unwrap();
    assert!(
        charts[first_system..]
            .iter()
            .all(|c| c.starts_with("system/")),
        "system charts come last: {charts:?}"
    );
    let page = std::fs::read_to_string(ws.path("p.html")).unwrap();
    assert!(page.contains("seconds since the start"));
}

/// A command that fails before writing what the flags name, or leaves a
/// broken metrics file, is still recorded, with warnings (`rvc lock`
/// would refuse those paths: there the run is over and they are typos).
#[test]
fn a_run_that_failed_early_is_kept_even_without_its_outputs_and_metrics() {
    let ws = repo();
    ws.write("broken.jsonl", "{\"step\": 1, \"loss\": \n");
    let out = ws
        .rvc(&[
            "run",
            "early",
            "--output",
            "out/never-written",
            "--metrics",
            "broken.jsonl",
            "--",
            "sh",
            "-c",
            "echo boom >&2; exit 2",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("out/never-written does not exist after the command; not recorded"),
        "{err}"
    );
    assert!(
        err.contains("broken.jsonl") && err.contains("its metrics were not recorded"),
        "{err}"
    );
    let lock = lockfile(&ws, "early");
    assert_eq!(lock["process"]["status"].as_str(), Some("failed"));
    assert!(lock["metrics"]["sources"].as_array().unwrap().is_empty());
    let log = stdout(&ws.rvc(&["show", "early", "--log"]).output().unwrap());
    assert_eq!(log, "boom\n");
}
