//! End-to-end: pulling and checking out part of a tracked directory, from a
//! real S3 server (s3s-fs on loopback), and what status, add, checkout and
//! pull do with the rest.

mod common;
#[path = "common/s3.rs"]
mod s3;

use common::scenario::clone_of;
use common::{stderr, stdout, Workspace};
use s3::S3Server;

const BUCKET: &str = "parts";

fn rvc_s3(ws: &Workspace, server: &S3Server, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = ws.rvc(args);
    cmd.envs(server.env());
    cmd
}

/// A dataset in parts, pushed; and a fresh clone that has none of it.
fn pushed(server: &S3Server) -> (Workspace, Workspace) {
    let a = Workspace::new();
    for (part, n) in [("images/cat", 3), ("images/dog", 4), ("train/shard-000", 2)] {
        for i in 0..n {
            a.write(
                &format!("data/{part}/{i}.txt"),
                format!("{part} {i}\n").repeat(50),
            );
        }
    }
    a.write("data/train/shard-001/rows.csv", "id,v\n1,a\n2,b\n");
    a.rvc(&["add", "data"]).assert().success();
    a.add_remote("origin", &format!("s3://{BUCKET}/p"));
    rvc_s3(&a, server, &["push"]).assert().success();
    let b = clone_of(&a);
    (a, b)
}

fn files(ws: &Workspace, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![ws.path(dir)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(ws.root()).unwrap().to_owned();
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_partial_pull_brings_one_part_and_status_add_and_pull_keep_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let server = S3Server::start(tmp.path(), BUCKET);
    let (a, b) = pushed(&server);

    // Only the part asked for is fetched and written.
    let out = rvc_s3(&b, &server, &["pull", "data/images/cat/", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        files(&b, "data"),
        [
            "data/images/cat/0.txt",
            "data/images/cat/1.txt",
            "data/images/cat/2.txt"
        ]
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["checkout"]["restored"].as_array().unwrap().len(), 3);

    // status: clean, the rest not checked out (not removed).
    let out = b.rvc(&["status", "--check"]).output().unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("partial:      data (checked out: images/cat; 7 files not checked out)"),
        "{text}"
    );
    let s = b.json(&["status"]);
    assert_eq!(s[0]["state"], "unchanged");
    assert_eq!(s[0]["partial"]["not_checked_out"], 7);
    // fsck asks only for the parts: the rest is not missing, not damage.
    let out = b.rvc(&["fsck"]).output().unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("0 missing"), "{}", stdout(&out));

    // A second part joins the first.
    rvc_s3(&b, &server, &["pull", "data/train/shard-001/rows.csv"])
        .assert()
        .success();
    let s = b.json(&["status"]);
    assert_eq!(
        s[0]["partial"]["parts"],
        serde_json::json!(["images/cat", "train/shard-001/rows.csv"])
    );

    // Edits inside a part show; adding keeps what is not checked out.
    b.write("data/images/cat/3.txt", "a new cat\n");
    std::fs::remove_file(b.path("data/images/cat/0.txt")).unwrap();
    let s = b.json(&["status"]);
    assert_eq!(s[0]["state"], "modified");
    assert_eq!(
        s[0]["changes"]["added"],
        serde_json::json!(["images/cat/3.txt"])
    );
    assert_eq!(
        s[0]["changes"]["removed"],
        serde_json::json!(["images/cat/0.txt"])
    );
    b.rvc(&["add", "data"]).assert().success();
    b.rvc(&["status", "--check"]).assert().success();
    let listing = stdout(&b.rvc(&["ls", "data.rvc"]).output().unwrap());
    for kept in [
        "images/dog/3.txt",
        "train/shard-000/1.txt",
        "images/cat/3.txt",
    ] {
        assert!(listing.contains(kept), "{kept} not in:\n{listing}");
    }
    assert!(!listing.contains("images/cat/0.txt"), "{listing}");
    // The new version travels: the other clone gets every file, old and new.
    rvc_s3(&b, &server, &["push"]).assert().success();
    b.git(&["add", "-A"]);
    b.git(&["commit", "-qm", "cats"]);
    let c = clone_of(&b);
    rvc_s3(&c, &server, &["pull"]).assert().success();
    assert_eq!(files(&c, "data").len(), 10, "{:?}", files(&c, "data"));
    assert_eq!(
        c.read("data/images/dog/3.txt"),
        a.read("data/images/dog/3.txt")
    );
    assert_eq!(c.read("data/images/cat/3.txt"), b"a new cat\n");

    // `pull` with no path keeps to the parts; naming the directory takes
    // all of it and ends the partial checkout.
    rvc_s3(&b, &server, &["pull"]).assert().success();
    assert_eq!(files(&b, "data").len(), 4);
    rvc_s3(&b, &server, &["pull", "data"]).assert().success();
    assert_eq!(files(&b, "data").len(), 10);
    let s = b.json(&["status"]);
    assert!(s[0].get("partial").is_none(), "{s}");
    assert!(!b.path(".rvc/state/partial.toml").exists());
}

#[test]
fn checkout_of_a_part_that_is_not_there_names_it_and_a_full_dir_is_not_made_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let server = S3Server::start(tmp.path(), BUCKET);
    let (a, _b) = pushed(&server);
    // On a complete checkout, restoring a part restores only it and
    // starts no partial checkout.
    std::fs::remove_file(a.path("data/images/dog/1.txt")).unwrap();
    std::fs::remove_file(a.path("data/images/cat/1.txt")).unwrap();
    a.rvc(&["checkout", "data/images/dog"]).assert().success();
    assert!(a.path("data/images/dog/1.txt").exists());
    assert!(!a.path("data/images/cat/1.txt").exists());
    assert!(!a.path(".rvc/state/partial.toml").exists());
    let s = a.json(&["status"]);
    assert_eq!(
        s[0]["changes"]["removed"],
        serde_json::json!(["images/cat/1.txt"])
    );
    // A path the tree does not hold is refused, naming it.
    let out = a.rvc(&["checkout", "data/images/cow"]).output().unwrap();
    assert!(!out.status.success());
    let err = format!("{}{}", stdout(&out), stderr(&out));
    assert!(err.contains("data/images/cow is not in data"), "{err}");
    // ... and in a clone with nothing checked out, it records nothing.
    let b = clone_of(&a);
    rvc_s3(&b, &server, &["fetch"]).assert().success();
    let out = b.rvc(&["checkout", "data/images/cow"]).output().unwrap();
    assert!(!out.status.success());
    assert!(!b.path(".rvc/state/partial.toml").exists());
    assert!(!b.path("data").exists());
}

#[test]
fn a_damaged_partial_record_is_an_error_not_a_reason_to_drop_data() {
    let tmp = tempfile::tempdir().unwrap();
    let server = S3Server::start(tmp.path(), BUCKET);
    let (_a, b) = pushed(&server);
    rvc_s3(&b, &server, &["pull", "data/images/cat"])
        .assert()
        .success();
    std::fs::write(b.path(".rvc/state/partial.toml"), "[parts]\ndata = 3\n").unwrap();
    let out = b.rvc(&["add", "data"]).output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(".rvc/state/partial.toml"), "{err}");
    // Nothing was written: the pointer still names the whole dataset.
    let listing = stdout(&b.rvc(&["ls", "data.rvc"]).output().unwrap());
    assert!(listing.contains("images/dog/3.txt"), "{listing}");
}

#[test]
fn a_record_left_by_a_removed_pointer_does_not_stop_a_fresh_add() {
    // No remote needed: the part is checked out from the local store.
    let ws = Workspace::new();
    ws.write("data/a/x.txt", "x\n");
    ws.write("data/b/y.txt", "y\n");
    ws.rvc(&["add", "data"]).assert().success();
    std::fs::remove_dir_all(ws.path("data")).unwrap();
    ws.rvc(&["checkout", "data/a"]).assert().success();
    assert!(ws.path(".rvc/state/partial.toml").exists());
    // The user stops tracking data and starts again with other files.
    std::fs::remove_file(ws.path("data.rvc")).unwrap();
    std::fs::remove_dir_all(ws.path("data")).unwrap();
    ws.write("data/z.txt", "z\n");
    let out = ws.rvc(&["add", "data"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The new tree is what is on disk, nothing of the old one, and the
    // stale record is gone.
    let listing = stdout(&ws.rvc(&["ls", "data.rvc"]).output().unwrap());
    assert!(listing.contains("z.txt"), "{listing}");
    assert!(
        !listing.contains("x.txt") && !listing.contains("y.txt"),
        "{listing}"
    );
    assert!(!ws.path(".rvc/state/partial.toml").exists());
    let status = stdout(&ws.rvc(&["status"]).output().unwrap());
    assert!(status.contains("up to date"), "{status}");
}
