//! Faults from outside: a full disk (tests/faults/disk_full.sh, on a small
//! tmpfs in a private mount namespace) and a remote server that fails
//! requests or drops connections. docs/reliability.md counts them.

mod common;
#[path = "common/s3.rs"]
mod s3;

use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Instant;

use common::scenario::clone_of;
use common::{noise, stderr, verify_store, Workspace};
use s3::S3Server;

const BUCKET: &str = "faults";

/// `rvc ARGS` against `server`, as a finished process.
fn rvc_s3(ws: &Workspace, server: &S3Server, args: &[&str]) -> std::process::Output {
    let mut cmd = ws.rvc(args);
    cmd.envs(server.env());
    cmd.output().unwrap()
}

/// A repository with small files (packed) and two multi-chunk files,
/// pointed at `server`, and a clone of it with an empty store.
fn origin_and_clone(server: &S3Server) -> (Workspace, Workspace) {
    let a = Workspace::new();
    for i in 0..200 {
        a.write(&format!("data/f{i}.txt"), format!("file {i}\n"));
    }
    a.write("ckpt/a.bin", noise(10 << 20, 1));
    a.write("ckpt/b.bin", noise(10 << 20, 2));
    a.rvc(&["add", "data", "ckpt"]).assert().success();
    a.add_remote("origin", &format!("s3://{BUCKET}/p"));
    let out = rvc_s3(&a, server, &["push"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let b = clone_of(&a);
    (a, b)
}

/// The clone has every byte of the origin's tracked data.
fn same_data(a: &Workspace, b: &Workspace) {
    for p in ["ckpt/a.bin", "ckpt/b.bin", "data/f7.txt", "data/f199.txt"] {
        assert_eq!(a.read(p), b.read(p), "{p}");
    }
    b.rvc(&["status", "--check"]).assert().success();
}

/// A server that answers some requests with 503 (or 500) is retried with
/// backoff, and the transfer completes.
#[test]
fn error_statuses_are_retried_and_the_transfer_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = S3Server::start(tmp.path(), BUCKET);
    let (a, b) = origin_and_clone(&server);
    for (unavailable, n) in [(true, 3u32), (false, 2)] {
        let _ = std::fs::remove_dir_all(b.path(".rvc/cache"));
        let _ = std::fs::remove_dir_all(b.path("data"));
        let _ = std::fs::remove_dir_all(b.path("ckpt"));
        server
            .faults
            .unavailable
            .store(unavailable, Ordering::SeqCst);
        server.faults.failed.store(0, Ordering::SeqCst);
        server.faults.fail_next.store(n, Ordering::SeqCst);
        let out = rvc_s3(&b, &server, &["pull", "--jobs", "1"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(server.faults.failed.load(Ordering::SeqCst), n);
        same_data(&a, &b);
    }
    // A push through the same faults completes too.
    a.write("ckpt/c.bin", noise(6 << 20, 3));
    a.rvc(&["add", "ckpt"]).assert().success();
    server.faults.unavailable.store(true, Ordering::SeqCst);
    server.faults.fail_next.store(3, Ordering::SeqCst);
    let out = rvc_s3(&a, &server, &["push", "--jobs", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.faults.fail_next.load(Ordering::SeqCst), 0);
}

/// A server that keeps failing: after the retries, a clear error naming
/// the remote and the status, exit 1, nothing damaged; once the server
/// is well again the same command completes.
#[test]
fn a_server_that_keeps_failing_gives_a_clear_error_and_the_rerun_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = S3Server::start(tmp.path(), BUCKET);
    let (a, b) = origin_and_clone(&server);
    server.faults.unavailable.store(true, Ordering::SeqCst);
    server.faults.fail_next.store(u32::MAX, Ordering::SeqCst);
    let started = Instant::now();
    let out = rvc_s3(&b, &server, &["pull"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(e.contains("origin"), "{e}");
    assert!(
        e.contains("503") || e.contains("Service Unavailable") || e.contains("ServiceUnavailable"),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
    // Retried, with backoff, but not for ever.
    assert!(server.faults.failed.load(Ordering::SeqCst) > 1);
    assert!(took.as_secs() < 60, "gave up after {took:?}");
    verify_store(&b.path(".rvc/cache"));
    assert!(!b.path("ckpt/a.bin").exists());

    server.faults.fail_next.store(0, Ordering::SeqCst);
    let out = rvc_s3(&b, &server, &["pull"]);
    assert!(out.status.success(), "{}", stderr(&out));
    same_data(&a, &b);
}

/// Downloads whose connection drops half way: nothing cut short is stored
/// or written; the pull either retries its way through or fails clearly,
/// and a re-run fetches only what is still missing.
#[test]
fn connections_dropped_mid_download_never_store_a_partial_object() {
    let tmp = tempfile::tempdir().unwrap();
    let server = S3Server::start(tmp.path(), BUCKET);
    let (a, b) = origin_and_clone(&server);
    // A few cut bodies.
    server.faults.cut_next_gets.store(2, Ordering::SeqCst);
    let out = rvc_s3(&b, &server, &["pull", "--jobs", "2"]);
    assert!(server.faults.cut.load(Ordering::SeqCst) >= 1);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    verify_store(&b.path(".rvc/cache"));
    if !out.status.success() {
        let out = rvc_s3(&b, &server, &["pull"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    same_data(&a, &b);

    // Every body cut: a clear failure, then a re-run that resumes.
    let c = clone_of(&a);
    server.faults.cut.store(0, Ordering::SeqCst);
    server
        .faults
        .cut_next_gets
        .store(u32::MAX, Ordering::SeqCst);
    let out = rvc_s3(&c, &server, &["pull", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(server.faults.cut.load(Ordering::SeqCst) >= 1);
    verify_store(&c.path(".rvc/cache"));
    assert!(
        !c.path("ckpt/a.bin").exists(),
        "nothing unverified is written"
    );
    server.faults.cut_next_gets.store(0, Ordering::SeqCst);
    let out = rvc_s3(&c, &server, &["pull", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    same_data(&a, &c);
}

/// add, checkout, pull and gc on a full disk: each fails with a clear
/// error and leaves nothing half-written, and completes once space is
/// back. The script checks each step; `unshare -rm` gives it a mount
/// namespace of its own, so the tmpfs exists only for it.
#[test]
fn a_full_disk_fails_cleanly_and_the_rerun_completes() {
    let work = tempfile::tempdir().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faults/disk_full.sh");
    let out = Command::new("unshare")
        .args(["-rm", "bash"])
        .arg(&script)
        .env("RVC", assert_cmd::cargo::cargo_bin("rvc"))
        .env("WORK", work.path())
        .output()
        .expect("unshare (util-linux) runs the disk-full script in its own mount namespace");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("ALL OK"),
        "disk_full.sh failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for step in ["== add", "== checkout", "== pull", "== gc"] {
        assert!(stdout.contains(step), "{step} did not run:\n{stdout}");
    }
}
