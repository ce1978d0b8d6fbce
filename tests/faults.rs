//! Faults from outside: a full disk (tests/faults/disk_full.sh, on a small
//! tmpfs in a private mount namespace) and a remote server that fails
//! requests or drops connections. docs/reliability.md counts them.

mod common;

use std::process::Command;

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
