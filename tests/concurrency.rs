//! Commands racing each other, as real processes: `gc` against every
//! writer of the store, in both orders and at varied gaps; overlapping
//! `add`s; two `lock`s at once; and one store shared by two repositories.
//! After every race the store must pass `fsck`, every pointer must match
//! its data, and the data must come back from the store byte for byte.
//! docs/reliability.md counts these rounds.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{b3, noise, scenario, stderr, Workspace};

/// Start `first`, wait `gap_ms`, start `second`; wait for both.
fn race(mut first: Command, mut second: Command, gap_ms: u64) -> (Output, Output) {
    for c in [&mut first, &mut second] {
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let a = first.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(gap_ms));
    let b = second.spawn().unwrap();
    (a.wait_with_output().unwrap(), b.wait_with_output().unwrap())
}

/// The store is sound and every tracked path matches its pointer.
fn consistent(ws: &Workspace, when: &str) {
    let fsck = ws.rvc(&["fsck"]).output().unwrap();
    assert!(fsck.status.success(), "{when}: fsck: {}", stderr(&fsck));
    let status = ws.rvc(&["status", "--check"]).output().unwrap();
    assert!(
        status.status.success(),
        "{when}: status: {}{}",
        common::stdout(&status),
        stderr(&status)
    );
}

/// Delete the tracked data and check it out again from the store; each
/// file must come back with the bytes it had (`expected`: path, BLAKE3).
fn restores(ws: &Workspace, dirs: &[&str], expected: &[(String, String)]) {
    for d in dirs {
        let _ = std::fs::remove_dir_all(ws.path(d));
    }
    ws.rvc(&["checkout"]).assert().success();
    for (path, hash) in expected {
        assert_eq!(&b3(&ws.read(path)), hash, "{path} after checkout");
    }
}

/// Whoever starts first, `gc` never sweeps an object that a concurrent
/// `add` or `lock` is about to name. Each round also leaves garbage (an
/// overwritten file's old bytes), so the `gc`s have real work.
#[test]
fn gc_racing_add_and_lock_never_sweeps_what_they_name() {
    let ws = Workspace::new();
    let mut expected = Vec::new();
    let mut dirs = Vec::new();
    for round in 0..12u64 {
        let dir = format!("data/r{round}");
        for i in 0..40 {
            let path = format!("{dir}/f{i}.txt");
            let text = format!("round {round} file {i}\n");
            ws.write(&path, &text);
            expected.push((path, b3(text.as_bytes())));
        }
        let big = noise(3 << 20, 100 + round);
        ws.write(&format!("{dir}/big.bin"), &big);
        expected.push((format!("{dir}/big.bin"), b3(&big)));
        // Garbage for this round's gc: the previous round's scratch file.
        ws.write("scratch.bin", noise(1 << 20, 1000 + round));
        ws.rvc(&["add", "scratch.bin"]).assert().success();

        let add = ws.rvc_process(&["add", &dir]);
        let gc = ws.rvc_process(&["gc"]);
        let gap = [0, 2, 5, 10, 20, 40][round as usize % 6];
        let (a, b) = if round % 2 == 0 {
            race(add, gc, gap)
        } else {
            let (g, a) = race(gc, add, gap);
            (a, g)
        };
        assert!(a.status.success(), "round {round}: add: {}", stderr(&a));
        assert!(b.status.success(), "round {round}: gc: {}", stderr(&b));
        dirs.push(dir);

        // A run recorded while gc runs.
        ws.write(
            &format!("out/r{round}/model.bin"),
            noise(2 << 20, 500 + round),
        );
        let name = format!("run-{round}");
        let out = format!("out/r{round}");
        let lock = ws.rvc_process(&["lock", &name, "--output", &out, "--python", "/nonexistent"]);
        let gc = ws.rvc_process(&["gc"]);
        let (l, g) = if round % 2 == 0 {
            race(lock, gc, gap)
        } else {
            let (g, l) = race(gc, lock, gap);
            (l, g)
        };
        assert!(l.status.success(), "round {round}: lock: {}", stderr(&l));
        assert!(g.status.success(), "round {round}: gc: {}", stderr(&g));
        consistent(&ws, &format!("round {round}"));
    }
    std::fs::remove_file(ws.path("scratch.bin.rvc")).unwrap();
    ws.rvc(&["gc"]).assert().success();
    let dir_refs: Vec<&str> = dirs.iter().map(String::as_str).collect();
    restores(&ws, &dir_refs, &expected);
    // Every run's outputs survived too.
    for round in 0..12u64 {
        let path = format!("out/r{round}/model.bin");
        std::fs::remove_file(ws.path(&path)).unwrap();
        ws.rvc(&["checkout", &format!("run-{round}"), "--outputs"])
            .assert()
            .success();
        assert_eq!(b3(&ws.read(&path)), b3(&noise(2 << 20, 500 + round)));
    }
}

/// `fetch` and `pull` bring objects into the store while `gc` runs in the
/// same repository: nothing they bring for a pointer is swept.
#[test]
fn gc_racing_fetch_and_pull_keeps_what_they_bring() {
    let origin = Workspace::new();
    let remote = Workspace::bare();
    origin.add_remote("origin", remote.root().to_str().unwrap());
    let mut expected = Vec::new();
    for i in 0..6u64 {
        let path = format!("data/d{i}/weights.bin");
        let bytes = noise(2 << 20, 40 + i);
        origin.write(&path, &bytes);
        expected.push((path, b3(&bytes)));
        for j in 0..20 {
            origin.write(&format!("data/d{i}/t{j}.txt"), format!("{i}/{j}\n"));
        }
    }
    origin.rvc(&["add", "data"]).assert().success();
    origin.rvc(&["push"]).assert().success();
    let clone = scenario::clone_of(&origin);
    for round in 0..8u64 {
        // Start from nothing: no data, and an empty store.
        let _ = std::fs::remove_dir_all(clone.path("data"));
        let _ = std::fs::remove_dir_all(clone.path(".rvc/cache"));
        let transfer = if round % 2 == 0 { "fetch" } else { "pull" };
        let t = clone.rvc_process(&[transfer]);
        let gc = clone.rvc_process(&["gc"]);
        let gap = [0, 3, 10, 30][round as usize % 4];
        let (t, g) = if round % 4 < 2 {
            race(t, gc, gap)
        } else {
            let (g, t) = race(gc, t, gap);
            (t, g)
        };
        assert!(
            t.status.success(),
            "round {round}: {transfer}: {}",
            stderr(&t)
        );
        assert!(g.status.success(), "round {round}: gc: {}", stderr(&g));
        // Whatever gc did, a checkout now needs no download.
        clone.rvc(&["checkout"]).assert().success();
        consistent(&clone, &format!("round {round} ({transfer})"));
        for (path, hash) in &expected {
            assert_eq!(&b3(&clone.read(path)), hash, "round {round}: {path}");
        }
    }
}

/// `add data` and `add data/sub` at once: whichever wins, the other is
/// refused with a reason, and the store and pointers stay consistent. Two
/// `add`s of the same path at once both succeed with the same pointer.
#[test]
fn overlapping_adds_at_once_end_consistent() {
    let ws = Workspace::new();
    for i in 0..30 {
        ws.write(&format!("data/sub/f{i}.txt"), format!("sub {i}\n"));
        ws.write(&format!("data/g{i}.txt"), format!("top {i}\n"));
    }
    ws.write("data/sub/big.bin", noise(4 << 20, 77));
    for round in 0..10u64 {
        for p in ["data.rvc", "data/sub.rvc"] {
            let _ = std::fs::remove_file(ws.path(p));
        }
        let gap = [0, 1, 3, 8, 15][round as usize % 5];
        let (a, b) = race(
            ws.rvc_process(&["add", "data"]),
            ws.rvc_process(&["add", "data/sub"]),
            gap,
        );
        let ok = [&a, &b].iter().filter(|o| o.status.success()).count();
        assert!(ok >= 1, "round {round}: {} / {}", stderr(&a), stderr(&b));
        for o in [&a, &b] {
            if !o.status.success() {
                let e = stderr(o);
                assert!(
                    e.contains("contains tracked data")
                        || e.contains("tracks as one directory")
                        || e.contains("already tracked by data.rvc"),
                    "round {round}: {e}"
                );
                assert_eq!(o.status.code(), Some(1));
            }
        }
        // Exactly one pointer covers the data.
        let outer = ws.path("data.rvc").exists();
        let inner = ws.path("data/sub.rvc").exists();
        assert!(
            outer != inner,
            "round {round}: data.rvc {outer}, data/sub.rvc {inner}"
        );
        consistent(&ws, &format!("round {round}"));
    }
    let _ = std::fs::remove_file(ws.path("data/sub.rvc"));
    let (a, b) = race(
        ws.rvc_process(&["add", "data"]),
        ws.rvc_process(&["add", "data"]),
        0,
    );
    assert!(
        a.status.success() && b.status.success(),
        "{}{}",
        stderr(&a),
        stderr(&b)
    );
    consistent(&ws, "two adds of data");
}

/// Two `lock`s of different runs at once both land; a third command that
/// cannot get the repository lock in time fails, naming the setting.
#[test]
fn two_locks_at_once_both_land_and_a_third_waits_then_fails_clearly() {
    let ws = Workspace::new();
    for round in 0..6u64 {
        for r in ["a", "b"] {
            ws.write(
                &format!("out/{r}{round}/model.bin"),
                noise(1 << 20, round * 2 + (r == "b") as u64),
            );
        }
        let (na, nb) = (format!("a{round}"), format!("b{round}"));
        let (oa, ob) = (format!("out/a{round}"), format!("out/b{round}"));
        let (x, y) = race(
            ws.rvc_process(&["lock", &na, "--output", &oa, "--python", "/nonexistent"]),
            ws.rvc_process(&["lock", &nb, "--output", &ob, "--python", "/nonexistent"]),
            round * 3,
        );
        assert!(x.status.success(), "round {round}: {}", stderr(&x));
        assert!(y.status.success(), "round {round}: {}", stderr(&y));
        assert!(ws.path(&format!(".rvc/runs/{na}.lock")).is_file());
        assert!(ws.path(&format!(".rvc/runs/{nb}.lock")).is_file());
    }
    let runs = ws.json(&["runs"]);
    assert_eq!(runs.as_array().unwrap().len(), 12, "{runs}");
    consistent(&ws, "after the locks");

    // The third process: the lock is held (as a long add would hold it).
    let held = std::fs::OpenOptions::new()
        .write(true)
        .open(ws.path(".rvc/state/lock"))
        .unwrap();
    held.lock().unwrap();
    let started = std::time::Instant::now();
    let out = ws
        .rvc_process(&[
            "lock",
            "c",
            "--output",
            "out/a0",
            "--python",
            "/nonexistent",
        ])
        .env("RVC_LOCK_TIMEOUT", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(started.elapsed() >= Duration::from_millis(900));
    let e = stderr(&out);
    assert!(
        e.contains("waiting for the repository lock") && e.contains("lock_timeout"),
        "{e}"
    );
    held.unlock().unwrap();
    assert!(!ws.path(".rvc/runs/c.lock").exists());
}

/// Two repositories whose `[cache] dir` is one store, adding overlapping
/// and distinct data at the same time, in rounds: both stay consistent,
/// and `gc` in either refuses to run on the shared store without --force.
#[test]
fn a_store_shared_by_two_repositories_used_at_once_stays_consistent() {
    let shared = Workspace::bare();
    let cache = shared.path("cache");
    let repos = [Workspace::new(), Workspace::new()];
    for ws in &repos {
        ws.write(
            ".rvc/config.local.toml",
            format!("[cache]\ndir = \"{}\"\n", cache.display()),
        );
    }
    let mut expected: [Vec<(String, String)>; 2] = [Vec::new(), Vec::new()];
    for round in 0..8u64 {
        let dir = format!("data/r{round}");
        for (k, ws) in repos.iter().enumerate() {
            // The same big file in both (deduplicated across them), and
            // files of each repository's own.
            let common_bytes = noise(3 << 20, 900 + round);
            ws.write(&format!("{dir}/common.bin"), &common_bytes);
            expected[k].push((format!("{dir}/common.bin"), b3(&common_bytes)));
            for i in 0..25 {
                let path = format!("{dir}/own{i}.txt");
                let text = format!("repo {k} round {round} file {i}\n");
                ws.write(&path, &text);
                expected[k].push((path, b3(text.as_bytes())));
            }
        }
        let (a, b) = race(
            repos[0].rvc_process(&["add", &dir]),
            repos[1].rvc_process(&["add", &dir]),
            round % 4,
        );
        assert!(a.status.success(), "round {round}: {}", stderr(&a));
        assert!(b.status.success(), "round {round}: {}", stderr(&b));
    }
    for (k, ws) in repos.iter().enumerate() {
        consistent(ws, &format!("repository {k}"));
        ws.rvc(&["gc"])
            .assert()
            .code(1)
            .stderr(predicates::str::contains("--force"));
        let dirs: Vec<String> = (0..8).map(|r| format!("data/r{r}")).collect();
        let dirs: Vec<&str> = dirs.iter().map(String::as_str).collect();
        restores(ws, &dirs, &expected[k]);
    }
}
