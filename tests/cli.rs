//! End-to-end tests of the core commands, through the real binary.

mod common;

use std::io::Write;

use common::{b3, noise, stderr, stdout, verify_store, Workspace};
use predicates::prelude::*;

#[test]
fn init_creates_layout_and_refuses_twice() {
    let ws = Workspace::new();
    for p in [
        ".rvc/config.toml",
        ".rvc/config.local.toml",
        ".rvc/.gitignore",
    ] {
        assert!(ws.path(p).is_file(), "{p} missing");
    }
    for p in [".rvc/cache", ".rvc/state"] {
        assert!(ws.path(p).is_dir(), "{p} missing");
    }
    let ignore = String::from_utf8(ws.read(".rvc/.gitignore")).unwrap();
    for line in ["/config.local.toml", "/cache/", "/state/"] {
        assert!(ignore.lines().any(|l| l == line), "{line} not ignored");
    }
    ws.rvc(&["init"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already an rvc repository"));
}

#[test]
fn init_outside_git_says_so() {
    let ws = Workspace::bare();
    ws.rvc(&["init"])
        .assert()
        .success()
        .stderr(predicate::str::contains("not inside a git repository"));
    ws.write("a.txt", "x\n");
    ws.rvc(&["add", "a.txt"]).assert().success();
    ws.rvc(&["status", "--check"]).assert().success();
}

#[test]
fn commands_outside_a_repo_point_to_init() {
    let ws = Workspace::bare();
    ws.rvc(&["status"]).assert().code(1).stderr(
        predicate::str::contains("not inside an rvc repository")
            .and(predicate::str::contains("rvc init")),
    );
}

#[test]
fn add_writes_pointers_ids_and_gitignore() {
    let ws = Workspace::new();
    ws.write("data/train.csv", "a,b\n1,2\n3,4\n");
    ws.write("data/sub/notes.txt", "hello\n");
    ws.write("model.bin", vec![7u8; 100_000]);
    ws.rvc(&["add", "data", "model.bin"]).assert().success();

    let pointer = String::from_utf8(ws.read("model.bin.rvc")).unwrap();
    assert!(
        pointer.contains(&format!("id = \"{}\"", b3(&vec![7u8; 100_000]))),
        "{pointer}"
    );
    assert!(pointer.contains("kind = \"file\""));

    // The tree id is the derive-key hash of the sorted listing.
    let listing = format!(
        "file 6 {} sub/notes.txt\nfile 12 {} train.csv\n",
        b3(b"hello\n"),
        b3(b"a,b\n1,2\n3,4\n")
    );
    let mut h = blake3::Hasher::new_derive_key("rvc tree v1");
    h.update(listing.as_bytes());
    let data = String::from_utf8(ws.read("data.rvc")).unwrap();
    assert!(
        data.contains(&format!("id = \"{}\"", h.finalize().to_hex())),
        "{data}"
    );
    assert!(data.contains("files = 2"));
    assert!(
        data.contains("rows = 3"),
        "2 csv data rows (the header is not a row) + 1 txt row: {data}"
    );

    let gitignore = String::from_utf8(ws.read(".gitignore")).unwrap();
    assert_eq!(gitignore, "/data\n/model.bin\n");
    ws.rvc(&["status", "--check"]).assert().success();
}

#[test]
fn re_adding_unchanged_data_reads_nothing() {
    let ws = Workspace::new();
    ws.many_files("data", 50);
    let first = ws.json(&["add", "data"]);
    assert_eq!(first["paths"][0]["hashed"], 50);
    // Let the files' times fall behind the stat cache's own time.
    std::thread::sleep(std::time::Duration::from_millis(20));
    ws.rvc(&["status"]).assert().success();
    let second = ws.json(&["add", "data"]);
    assert_eq!(second["paths"][0]["hashed"], 0, "{second}");
    assert_eq!(second["paths"][0]["updated"], false);
    ws.write("data/d0/f0.bin", "changed\n");
    let third = ws.json(&["add", "data"]);
    assert_eq!(third["paths"][0]["hashed"], 1, "{third}");
    assert_eq!(third["paths"][0]["updated"], true);
}

#[test]
fn status_names_added_removed_and_modified_files() {
    let ws = Workspace::new();
    ws.write("data/a.csv", "x\n");
    ws.write("data/b.csv", "y\n");
    ws.write("data/c/d.txt", "z\n");
    ws.rvc(&["add", "data"]).assert().success();
    ws.write("data/a.csv", "x changed\n");
    std::fs::remove_file(ws.path("data/b.csv")).unwrap();
    ws.write("data/new.bin", "n");

    let out = ws.rvc(&["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "status without --check exits 0");
    let text = stdout(&out);
    assert!(
        text.contains("modified:     data (1 added, 1 removed, 1 modified)"),
        "{text}"
    );
    for line in [
        "added     data/new.bin",
        "removed   data/b.csv",
        "modified  data/a.csv",
    ] {
        assert!(text.contains(line), "missing `{line}` in {text}");
    }
    ws.rvc(&["status", "--check"]).assert().code(1);

    let json = ws.json(&["status"]);
    let item = &json[0];
    assert_eq!(item["state"], "modified");
    assert_eq!(item["pointer_file"], "data.rvc");
    assert_eq!(item["changes"]["added"], serde_json::json!(["new.bin"]));
    assert_eq!(item["changes"]["removed"], serde_json::json!(["b.csv"]));
    assert_eq!(item["changes"]["modified"], serde_json::json!(["a.csv"]));
}

#[test]
fn status_reports_missing_and_not_in_cache() {
    let ws = Workspace::new();
    ws.write("one.txt", "1\n");
    ws.write("two.txt", "2\n");
    ws.rvc(&["add", "one.txt", "two.txt"]).assert().success();
    std::fs::remove_file(ws.path("one.txt")).unwrap();
    std::fs::remove_dir_all(ws.path(".rvc/cache/chunks")).unwrap();
    std::fs::remove_dir_all(ws.path(".rvc/cache/packs")).unwrap();
    let json = ws.json(&["status"]);
    assert_eq!(json[0]["path"], "one.txt");
    assert_eq!(json[0]["state"], "missing");
    assert_eq!(json[1]["state"], "unchanged");
    assert_eq!(json[1]["in_cache"], false);
    let text = stdout(&ws.rvc(&["status"]).output().unwrap());
    assert!(text.contains("missing:      one.txt"), "{text}");
    assert!(text.contains("not in cache: two.txt"), "{text}");
    ws.rvc(&["status", "--check"]).assert().code(1);
}

#[test]
fn checkout_restores_byte_for_byte_and_only_what_differs() {
    let ws = Workspace::new();
    ws.many_files("data", 40);
    ws.write("data/run.sh", "#!/bin/sh\necho hi\n");
    let script = ws.path("data/run.sh");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    ws.write(
        "big.bin",
        (0..6_000_000u32)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<_>>(),
    );
    ws.rvc(&["add", "data", "big.bin"]).assert().success();
    let before = ws
        .rvc(&["hash", "data", "big.bin", "--json"])
        .output()
        .unwrap()
        .stdout;

    std::fs::remove_dir_all(ws.path("data")).unwrap();
    std::fs::remove_file(ws.path("big.bin")).unwrap();
    let report = ws.json(&["checkout"]);
    assert_eq!(report["restored"].as_array().unwrap().len(), 42);
    let after = ws
        .rvc(&["hash", "data", "big.bin", "--json"])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(before, after, "restored content differs");
    let mode = std::fs::metadata(&script).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o111,
        0o111,
        "exec bit lost"
    );

    // Only the one deleted file is restored next time.
    std::fs::remove_file(ws.path("data/d3/f3.bin")).unwrap();
    let report = ws.json(&["checkout", "data.rvc"]);
    assert_eq!(report["restored"], serde_json::json!(["data/d3/f3.bin"]));
    assert_eq!(report["unchanged"], 40);
    ws.rvc(&["status", "--check"]).assert().success();
}

#[test]
fn checkout_never_destroys_bytes_that_are_not_stored() {
    let ws = Workspace::new();
    ws.write("data/a.txt", "original\n");
    ws.rvc(&["add", "data"]).assert().success();
    ws.write("data/a.txt", "precious unsaved edit\n");
    ws.write("data/extra.txt", "also unsaved\n");

    let out = ws.rvc(&["checkout"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("kept: data/a.txt"), "{err}");
    assert!(err.contains("kept: data/extra.txt"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(ws.read("data/a.txt"), b"precious unsaved edit\n");
    assert_eq!(ws.read("data/extra.txt"), b"also unsaved\n");

    // Once the edit is stored (a newer add), going back is safe without --force.
    ws.rvc(&["add", "data"]).assert().success();
    let newer = ws.read("data.rvc");
    ws.git(&["add", "data.rvc"]);
    std::fs::write(ws.path("data.rvc"), newer.clone()).unwrap();

    ws.write("data/a.txt", "unsaved again\n");
    ws.rvc(&["checkout", "--force", "data"]).assert().success();
    assert_eq!(ws.read("data/a.txt"), b"precious unsaved edit\n");
}

#[test]
fn checkout_overwrites_modified_file_whose_content_is_stored() {
    let ws = Workspace::new();
    ws.write("f.txt", "v1\n");
    ws.rvc(&["add", "f.txt"]).assert().success();
    let v1 = ws.read("f.txt.rvc");
    ws.write("f.txt", "v2\n");
    ws.rvc(&["add", "f.txt"]).assert().success();
    std::fs::write(ws.path("f.txt.rvc"), v1).unwrap();
    ws.rvc(&["checkout", "f.txt.rvc"]).assert().success();
    assert_eq!(ws.read("f.txt"), b"v1\n");
}

#[test]
fn checkout_by_id_and_prefix_to_destination() {
    let ws = Workspace::new();
    ws.write("data/x.csv", "1\n2\n");
    ws.write("data/y.csv", "3\n");
    ws.rvc(&["add", "data"]).assert().success();
    let json = ws.json(&["ls"]);
    let tree = json[0]["id"].as_str().unwrap().to_string();

    ws.rvc(&["checkout", &tree[..10], "-o", "copy"])
        .assert()
        .success();
    assert_eq!(ws.read("copy/x.csv"), b"1\n2\n");
    assert_eq!(ws.read("copy/y.csv"), b"3\n");

    let file = b3(b"3\n");
    ws.rvc(&["checkout", &file, "-o", "single.csv"])
        .assert()
        .success();
    assert_eq!(ws.read("single.csv"), b"3\n");

    // Without -o, an id some pointer names restores that pointer's path.
    std::fs::remove_dir_all(ws.path("data")).unwrap();
    ws.rvc(&["checkout", &tree[..8]]).assert().success();
    assert_eq!(ws.read("data/x.csv"), b"1\n2\n");

    ws.rvc(&["checkout", "ffff0000"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no tracked path, run or stored object matches `ffff0000`",
        ));
}

#[test]
fn ambiguous_prefix_lists_candidates() {
    let ws = Workspace::new();
    // Enough distinct files that two ids share their first four hex digits.
    ws.many_files("data", 1200);
    ws.rvc(&["add", "data"]).assert().success();
    let listing = ws.json(&["ls", "data.rvc"]);
    let mut ids: Vec<String> = listing["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let pair = ids
        .windows(2)
        .find(|w| w[0][..4] == w[1][..4])
        .expect("a shared 4-digit prefix");
    let out = ws
        .rvc(&["checkout", &pair[0][..4], "-o", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("is ambiguous"), "{err}");
    assert!(
        err.contains(&pair[0][..12]) && err.contains(&pair[1][..12]),
        "{err}"
    );
    assert!(err.contains("hint: give more characters"), "{err}");
}

#[test]
fn hash_matches_b3sum_and_rows_ignore_line_endings_and_compression() {
    let ws = Workspace::bare();
    let lf = "id,text\n1,hello\n2,world\n";
    let crlf = lf.replace('\n', "\r\n");
    ws.write("lf.csv", lf);
    ws.write("crlf.csv", &crlf);
    ws.write("nofinal.csv", lf.trim_end());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(crlf.as_bytes()).unwrap();
    ws.write("gz.csv.gz", gz.finish().unwrap());
    ws.write("zst.csv.zst", zstd::encode_all(lf.as_bytes(), 3).unwrap());

    let json = ws.json(&[
        "hash",
        "lf.csv",
        "crlf.csv",
        "nofinal.csv",
        "gz.csv.gz",
        "zst.csv.zst",
    ]);
    let rows: Vec<_> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["rows"].clone(), r["rows_hash"].clone()))
        .collect();
    assert!(rows.iter().all(|r| *r == rows[0]), "{json}");
    assert_eq!(json[0]["rows"], 2, "the header is not a row");
    assert_eq!(json[0]["id"], b3(lf.as_bytes()));
    assert_eq!(
        json[0]["rows_hash"], json[0]["id"],
        "a canonical file's rows hash is its id"
    );
    assert_eq!(json[1]["id"], b3(crlf.as_bytes()));

    // Human output starts with `<id>  <path>`, exactly like b3sum.
    let out = stdout(&ws.rvc(&["hash", "lf.csv"]).output().unwrap());
    assert!(
        out.starts_with(&format!(
            "{}  lf.csv  (file, 24 B, 2 rows",
            b3(lf.as_bytes())
        )),
        "{out}"
    );
}

#[test]
fn ls_lists_dataset_files_with_sizes_and_ids() {
    let ws = Workspace::new();
    ws.write("data/b.txt", "bb\n");
    ws.write("data/a/c.txt", "c\n");
    ws.rvc(&["add", "data"]).assert().success();
    let json = ws.json(&["ls", "data.rvc"]);
    assert_eq!(json["kind"], "tree");
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["path"], "a/c.txt");
    assert_eq!(files[0]["size"], 2);
    assert_eq!(files[0]["id"], b3(b"c\n"));
    let text = stdout(&ws.rvc(&["ls", "data"]).output().unwrap());
    assert!(
        text.contains(&b3(b"bb\n")[..12]) && text.contains("b.txt"),
        "{text}"
    );
    let all = stdout(&ws.rvc(&["ls"]).output().unwrap());
    assert!(all.contains("data"), "{all}");
}

#[test]
fn bad_paths_are_refused_with_the_path_named() {
    let ws = Workspace::new();
    let outside = Workspace::bare();
    outside.write("secret.txt", "s");
    ws.write("inside.txt", "i");
    std::os::unix::fs::symlink(outside.path("secret.txt"), ws.path("link.txt")).unwrap();
    ws.write("dir/ok.txt", "o");
    std::os::unix::fs::symlink(outside.path("secret.txt"), ws.path("dir/escape.txt")).unwrap();

    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["nope.txt".into()],
            "nope.txt: no such file or directory",
        ),
        (
            vec![outside.path("secret.txt").display().to_string()],
            "is outside the repository",
        ),
        (
            vec![".rvc/config.toml".into()],
            "inside rvc's own directory",
        ),
        (vec!["link.txt".into()], "link.txt is a symlink to"),
        (vec!["dir".into()], "escape.txt is a symlink to"),
        (vec![".".into()], "is the repository root"),
    ];
    for (args, message) in cases {
        let mut all = vec!["add".to_string()];
        all.extend(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = ws.rvc(&all).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{all:?}");
        let err = stderr(&out);
        assert!(err.contains(message), "{all:?}: {err}");
        assert!(err.contains("hint:"), "{all:?}: {err}");
    }
    // Nothing was tracked by the failed commands.
    assert!(!ws.path("dir.rvc").exists());
    assert!(!ws.path("inside.txt.rvc").exists());
}

#[test]
fn a_symlink_inside_the_repo_is_followed() {
    let ws = Workspace::new();
    ws.write("real/file.txt", "content\n");
    ws.write("data/keep.txt", "k\n");
    std::os::unix::fs::symlink(ws.path("real/file.txt"), ws.path("data/link.txt")).unwrap();
    ws.rvc(&["add", "data"]).assert().success();
    let json = ws.json(&["ls", "data"]);
    assert_eq!(json["files"][0]["path"], "keep.txt");
    assert_eq!(json["files"][1]["path"], "link.txt");
    assert_eq!(json["files"][1]["id"], b3(b"content\n"));
}

#[test]
fn adding_inside_a_tracked_directory_is_refused() {
    let ws = Workspace::new();
    ws.write("data/sub/x.txt", "x");
    ws.rvc(&["add", "data"]).assert().success();
    ws.rvc(&["add", "data/sub"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already tracked by data.rvc"));
}

#[test]
fn adding_a_directory_that_holds_a_tracked_path_is_refused() {
    let ws = Workspace::new();
    ws.write("data/sub/x.txt", "x");
    ws.write("data/top.txt", "top");
    // A file that merely ends in .rvc is data, not a pointer.
    ws.write("data/notes.rvc", "not a pointer\n");
    ws.rvc(&["add", "data/sub"]).assert().success();
    ws.rvc(&["add", "data"]).assert().code(1).stderr(
        predicate::str::contains("data contains tracked data: data/sub.rvc tracks data/sub").and(
            predicate::str::contains("hint: one path is tracked by one pointer"),
        ),
    );
    let out = ws.rvc(&["add", "data", "--json"]).assert().code(1);
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["error"]["kind"], "contains_tracked", "{json}");
    assert!(!ws.path("data.rvc").exists(), "no pointer is written");
    // Once the inner pointer is gone, the whole directory can be tracked.
    std::fs::remove_file(ws.path("data/sub.rvc")).unwrap();
    ws.rvc(&["add", "data"]).assert().success();
    ws.rvc(&["status"]).assert().success();
}

#[test]
fn unreadable_file_is_an_error_naming_it() {
    let ws = Workspace::new();
    ws.write("data/ok.txt", "ok");
    ws.write("data/locked.txt", "locked");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        ws.path("data/locked.txt"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    // As root, read permissions do not apply: the add runs as nobody.
    if root && !common::have_tool("setpriv", "the unreadable-file test as root") {
        return;
    }
    let out = if root {
        // Root reads anything: run rvc as an unprivileged user instead.
        for p in [ws.root().to_path_buf(), ws.path("data"), ws.path(".rvc")] {
            std::process::Command::new("chmod")
                .args(["-R", "a+rwX"])
                .arg(&p)
                .status()
                .unwrap();
        }
        std::fs::set_permissions(
            ws.path("data/locked.txt"),
            std::fs::Permissions::from_mode(0o000),
        )
        .unwrap();
        std::fs::set_permissions(
            ws.root().parent().unwrap(),
            std::fs::Permissions::from_mode(0o1777),
        )
        .ok();
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(assert_cmd::cargo::cargo_bin("rvc"))
            .args(["add", "data"])
            .current_dir(ws.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        cmd.output().unwrap()
    } else {
        ws.rvc(&["add", "data"]).output().unwrap()
    };
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cannot open") && err.contains("data/locked.txt"),
        "{err}"
    );
    assert!(err.contains("permission"), "{err}");
    assert!(!ws.path("data.rvc").exists());
}

#[test]
fn malformed_pointer_names_file_and_line() {
    let ws = Workspace::new();
    ws.write("a.txt", "a\n");
    ws.write("b.txt", "b\n");
    ws.rvc(&["add", "a.txt", "b.txt"]).assert().success();
    let text = String::from_utf8(ws.read("a.txt.rvc")).unwrap();
    ws.write("a.txt.rvc", text.replace("size = 2", "size = \"two\""));
    let out = ws.rvc(&["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("a.txt.rvc:6:"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    // The other pointer is still reported.
    assert!(
        stdout(&out).contains("1 other tracked path unchanged")
            || stdout(&out).contains("unchanged")
    );

    ws.write(
        "a.txt.rvc",
        text.replace("path = \"a.txt\"", "path = \"../../etc/passwd\""),
    );
    let out = ws.rvc(&["checkout", "a.txt.rvc"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("a.txt.rvc:3:"), "{}", stderr(&out));

    ws.write("a.txt.rvc", "\u{0}\u{1}garbage");
    ws.rvc(&["status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("a.txt.rvc"));
    let json = ws.json(&["status"]);
    assert_eq!(json[0]["state"], "invalid");
}

#[test]
fn hostile_tree_in_the_store_is_refused() {
    let ws = Workspace::new();
    let listing = format!("file 5 {} ../../escaped.txt\n", b3(b"evil\n"));
    let mut h = blake3::Hasher::new_derive_key("rvc tree v1");
    h.update(listing.as_bytes());
    let id = h.finalize().to_hex().to_string();
    ws.write(
        &format!(".rvc/cache/trees/{}/{}", &id[..2], &id[2..]),
        &listing,
    );
    ws.write(
        "data.rvc",
        format!(
            "version = 1\npath = \"data\"\nkind = \"dir\"\nid = \"{id}\"\nsize = 5\nfiles = 1\n"
        ),
    );
    let out = ws.rvc(&["checkout"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("malformed at line 1"),
        "{}",
        stderr(&out)
    );
    assert!(!ws.root().parent().unwrap().join("escaped.txt").exists());
}

#[test]
fn corrupt_object_is_never_written_to_the_workspace() {
    let ws = Workspace::new();
    ws.write("f.txt", "good content\n");
    ws.rvc(&["add", "f.txt"]).assert().success();
    common::damage_chunk(&ws.path(".rvc/cache"), &b3(b"good content\n"));
    std::fs::remove_file(ws.path("f.txt")).unwrap();
    let out = ws.rvc(&["checkout", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is corrupt"), "{}", stderr(&out));
    assert!(
        !ws.path("f.txt").exists(),
        "corrupt bytes reached the workspace"
    );
}

#[test]
fn concurrent_adds_are_serialised() {
    let ws = Workspace::new();
    ws.many_files("one", 300);
    ws.many_files("two", 300);
    let a = ws.rvc_process(&["add", "one"]).spawn().unwrap();
    let b = ws.rvc_process(&["add", "two"]).spawn().unwrap();
    assert!(a.wait_with_output().unwrap().status.success());
    assert!(b.wait_with_output().unwrap().status.success());
    ws.rvc(&["status", "--check"]).assert().success();
    assert_eq!(
        String::from_utf8(ws.read(".gitignore"))
            .unwrap()
            .lines()
            .count(),
        2
    );
    verify_store(&ws.path(".rvc/cache"));
}

#[test]
fn lock_timeout_is_reported_with_the_setting_to_change() {
    let ws = Workspace::new();
    ws.write("a.txt", "a");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(ws.path(".rvc/state/lock"))
        .unwrap();
    lock.lock().unwrap();
    ws.rvc(&["add", "a.txt"])
        .env("RVC_LOCK_TIMEOUT", "1")
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("waiting for the repository lock")
                .and(predicate::str::contains("lock_timeout")),
        );
    lock.unlock().unwrap();
    ws.rvc(&["add", "a.txt"]).assert().success();
}

#[test]
fn settings_are_checked_once_with_the_file_line_or_variable() {
    let ws = Workspace::new();
    ws.write("a.txt", "a");
    let config = ws.read(".rvc/config.toml");

    // An unknown key names its file, its line and the keys that exist.
    ws.write(
        ".rvc/config.toml",
        "# settings\n[core]\nremote = \"x\"\njobz = 4\n",
    );
    ws.rvc(&["status"]).assert().code(1).stderr(
        predicate::str::contains("config.toml:4: unknown key `core.jobz`").and(
            predicate::str::contains("known: lock_timeout, remote, jobs"),
        ),
    );
    // So does an unknown section.
    ws.write(".rvc/config.toml", "[cash]\ndir = \"x\"\n");
    ws.rvc(&["status", "--json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"kind\": \"unknown_config_key\""));
    // Zero jobs is refused where it is written, not clamped.
    ws.write(".rvc/config.toml", "[core]\n\njobs = 0\n");
    ws.rvc(&["status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "config.toml:3: core.jobs must be a whole number from 1 up",
        ));
    ws.write(".rvc/config.toml", config);

    // A bad environment value is an error naming the variable, not ignored.
    ws.rvc(&["add", "a.txt"])
        .env("RVC_LOCK_TIMEOUT", "soon")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("RVC_LOCK_TIMEOUT=`soon`"));
    // And so is a bad flag.
    ws.rvc(&["push", "--jobs", "0"]).assert().code(2);
    ws.rvc(&["add", "a.txt"]).assert().success();
}

#[test]
fn a_file_that_changes_while_read_is_not_stored_wrongly() {
    let ws = Workspace::new();
    ws.write("grow/big.bin", vec![1u8; 32 << 20]);
    let path = ws.path("grow/big.bin");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                f.write_all(&[2u8; 4096]).unwrap();
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(50));
    let out = ws.rvc(&["add", "grow"]).output().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("changed while it was being read"),
        "{}",
        stderr(&out)
    );
    assert!(!ws.path("grow.rvc").exists());
    verify_store(&ws.path(".rvc/cache"));
    assert_eq!(
        std::fs::read_dir(ws.path(".rvc/cache/tmp"))
            .unwrap()
            .count(),
        0,
        "temp files left"
    );
}

#[test]
fn full_disk_leaves_the_store_consistent() {
    // Put the store on a 1 MiB tmpfs in a private mount namespace.
    if !common::have_tool("unshare", "the full-disk test") {
        return;
    }
    let ws = Workspace::new();
    ws.write(".rvc/config.local.toml", "[cache]\ndir = \"small-cache\"\n");
    std::fs::create_dir(ws.path("small-cache")).unwrap();
    ws.write("small.txt", "fits\n");
    // Incompressible, so zstd cannot make it fit.
    ws.write("big.bin", common::noise(3_000_000, 1));
    let rvc = assert_cmd::cargo::cargo_bin("rvc");
    let script = format!(
        "mount -t tmpfs -o size=1m tmpfs small-cache || exit 99
         {rvc} add big.bin; echo \"big-exit=$?\"
         test -e big.bin.rvc && echo pointer-written
         echo \"tmp=$(ls small-cache/tmp | wc -l) objects=$(find small-cache/chunks small-cache/manifests -type f | wc -l)\"
         {rvc} add small.txt; echo \"small-exit=$?\"
         {rvc} status --check; echo \"status-exit=$?\"",
        rvc = rvc.display()
    );
    let out = std::process::Command::new("unshare")
        .args(["-Urm", "sh", "-c", &script])
        .current_dir(ws.root())
        .output()
        .unwrap();
    let text = stdout(&out);
    let err = stderr(&out);
    assert!(
        !text.is_empty() && out.status.code() != Some(99),
        "could not mount a tmpfs: {err}"
    );
    assert!(text.contains("big-exit=1"), "{text}\n{err}");
    assert!(err.contains("disk is full"), "{err}");
    assert!(!text.contains("pointer-written"), "{text}");
    assert!(text.contains("tmp=0 objects=0"), "{text}");
    assert!(text.contains("small-exit=0"), "{text}\n{err}");
    assert!(text.contains("status-exit=0"), "{text}\n{err}");
}

#[test]
fn killed_add_leaves_a_consistent_store_and_a_rerun_completes() {
    let ws = Workspace::new();
    ws.many_files("data", 3000);
    ws.write("data/big.bin", vec![9u8; 24 << 20]);
    for delay_ms in [5u64, 20, 60, 150, 400] {
        common::kill_after(ws.rvc_process(&["add", "data"]), delay_ms);
        verify_store(&ws.path(".rvc/cache"));
        if ws.path("data.rvc").exists() {
            // A pointer is written only after everything it names is stored.
            ws.rvc(&["status", "--check"]).assert().success();
        }
    }
    ws.rvc(&["add", "data"]).assert().success();
    ws.rvc(&["status", "--check"]).assert().success();
    assert!(verify_store(&ws.path(".rvc/cache")) >= 3002);
}

#[test]
fn usage_errors_exit_2() {
    let ws = Workspace::new();
    ws.rvc(&["add"]).assert().code(2);
    ws.rvc(&["frobnicate"]).assert().code(2);
    ws.rvc(&["checkout", "a", "b", "-o", "x"]).assert().code(2);
}

#[test]
fn leftover_temp_files_of_a_killed_checkout_are_ignored_then_removed() {
    let ws = Workspace::new();
    ws.write("data/sub/a.txt", "a\n");
    ws.rvc(&["add", "data"]).assert().success();
    ws.write("data/sub/.rvc-tmp-999-0-0", "half a file");
    ws.rvc(&["status", "--check"]).assert().success();
    ws.rvc(&["checkout"]).assert().success();
    assert!(!ws.path("data/sub/.rvc-tmp-999-0-0").exists());
}

#[test]
fn killed_checkout_leaves_a_workspace_a_rerun_completes() {
    let ws = Workspace::new();
    ws.many_files("data", 3000);
    ws.write("data/big.bin", vec![5u8; 24 << 20]);
    ws.rvc(&["add", "data"]).assert().success();
    for delay_ms in [5u64, 30, 100, 300] {
        std::fs::remove_dir_all(ws.path("data")).unwrap();
        common::kill_after(ws.rvc_process(&["checkout"]), delay_ms);
        // Whatever was restored is correct; the rest comes back on a re-run.
        ws.rvc(&["checkout"]).assert().success();
        ws.rvc(&["status", "--check"]).assert().success();
    }
}

#[test]
fn regression_user_files_named_like_temp_files_are_data() {
    let ws = Workspace::new();
    ws.write("data/.rvc-tmp-notes.txt", "mine\n");
    ws.write("data/.rvc-tmp-1-2-ABC", "also mine\n");
    ws.rvc(&["add", "data"]).assert().success();
    let json = ws.json(&["ls", "data"]);
    assert_eq!(json["files"].as_array().unwrap().len(), 2, "{json}");
    ws.rvc(&["checkout"]).assert().success();
    assert_eq!(ws.read("data/.rvc-tmp-notes.txt"), b"mine\n");
}

#[test]
fn regression_messages_say_what_is_true() {
    let ws = Workspace::new();
    ws.write("notes.md", "hello\n");
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "init"]);
    ws.write("data/raw/reviews.csv", "id,text\n1,a\n");
    ws.write("data/other.jsonl", "{}\n");
    ws.rvc(&["add", "data"]).assert().success();
    ws.write("out/run-1/m.bin", "m");
    ws.rvc(&["lock", "run-1", "--input", "data", "--output", "out/run-1"])
        .assert()
        .success();
    let run_id = ws.json(&["show", "run-1"])["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let fails = |dir: &str, args: &[&str], needles: &[&str]| {
        let out = ws.rvc(args).current_dir(ws.path(dir)).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            !err.contains("track it with `rvc add PATH`"),
            "{args:?}: {err}"
        );
        for n in needles {
            assert!(err.contains(n), "{args:?}: `{n}` missing from {err}");
        }
    };
    // A misspelt run name: the nearest names.
    fails(
        ".",
        &["checkout", "run-3"],
        &["`run-3` is not a tracked path", "did you mean run run-1"],
    );
    fails(
        ".",
        &["show", "rn-1"],
        &["no run named `rn-1`", "did you mean run-1"],
    );
    fails(
        "data/raw",
        &["checkout", "run-3"],
        &["did you mean run run-1"],
    );
    // A prefix too short to use, with what it would match.
    let short = &run_id[..2];
    fails(
        ".",
        &["show", short],
        &["too short for an id prefix", "at least 4", "run run-1"],
    );
    fails(
        ".",
        &["checkout", "abc"],
        &["`abc` is too short for an id prefix"],
    );
    // Inside a tracked directory, a file is that part of the directory:
    // checked out alone (an edit whose bytes are not stored is kept).
    ws.write("data/raw/reviews.csv", "id,text\n1,edited\n");
    fails(
        "data/raw",
        &["checkout", "reviews.csv"],
        &["kept", "data/raw/reviews.csv"],
    );
    ws.rvc(&["checkout", "reviews.csv", "--force"])
        .current_dir(ws.path("data/raw"))
        .assert()
        .success();
    assert_eq!(ws.read("data/raw/reviews.csv"), b"id,text\n1,a\n");
    // `ls RUN` lists the run's inputs and outputs.
    let out = ws.rvc(&["ls", "run-1"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("input  dir") && stdout(&out).contains("out/run-1"),
        "{}",
        stdout(&out)
    );
    // `status FILE` from inside a tracked directory reports that file.
    let out = ws
        .rvc(&["status", "reviews.csv"])
        .current_dir(ws.path("data/raw"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("up to date"), "{}", stdout(&out));
    ws.write("data/raw/reviews.csv", "id,text\n1,b\n");
    let out = ws
        .rvc(&["status", "reviews.csv"])
        .current_dir(ws.path("data/raw"))
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains("modified  data/raw/reviews.csv"),
        "{}",
        stdout(&out)
    );
    let out = ws
        .rvc(&["status", "other.jsonl"])
        .current_dir(ws.path("data"))
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains("up to date"),
        "only that file counts: {}",
        stdout(&out)
    );

    // A file git tracks is not added to rvc as well, unless forced.
    fails(
        ".",
        &["add", "notes.md"],
        &[
            "notes.md is tracked by git",
            "git rm -r --cached notes.md",
            "--force",
        ],
    );
    ws.rvc(&["add", "notes.md", "--force"]).assert().success();

    // Errors under --json are JSON on stdout, with the same exit code.
    let out = ws.rvc(&["show", "nope", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON error");
    assert_eq!(j["error"]["kind"], "unknown_run");
    assert_eq!(j["error"]["path"], "nope");
    assert!(j["error"]["message"].as_str().unwrap().contains("nope"));
    assert!(j["error"]["hint"].is_string());
    let out = ws.rvc(&["add", "missing", "--json"]).output().unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON error");
    assert_eq!(j["error"]["kind"], "path_not_found");
}

/// How many temporary files sit in the store's `tmp/` (their names start
/// with a dot, so a plain `ls` would not show them).
fn store_temp_files(ws: &Workspace) -> usize {
    std::fs::read_dir(ws.path(".rvc/cache/tmp"))
        .map(|rd| rd.count())
        .unwrap_or(0)
}

/// Start `rvc add data` and return it once it has staged objects (its
/// temporary files exist), so a signal lands in the middle of the work.
fn add_in_progress(ws: &Workspace) -> std::process::Child {
    in_progress(ws, &["add", "data"])
}

fn in_progress(ws: &Workspace, args: &[&str]) -> std::process::Child {
    let mut child = ws
        .rvc_process(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while store_temp_files(ws) == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "rvc {args:?} finished before it staged anything"
        );
        assert!(
            start.elapsed().as_secs() < 60,
            "rvc {args:?} staged nothing in 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child
}

fn interrupted_add_workspace() -> Workspace {
    let ws = Workspace::new();
    ws.many_files("data", 3000);
    for i in 0..8 {
        ws.write(&format!("data/ckpt-{i}.bin"), noise(24 << 20, 100 + i));
    }
    ws
}

/// Regression: Ctrl-C during `rvc add` exited with no message, left its
/// temporary files in `.rvc/cache/tmp`, and kept none of the finished work.
#[test]
fn regression_ctrl_c_or_sigterm_during_add_stops_cleanly_and_keeps_finished_work() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let ws = interrupted_add_workspace();
        let child = add_in_progress(&ws);
        // SAFETY: kill(2) on the pid of a child this test spawned and has
        // not reaped yet.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(130), "signal {signal}: {err}");
        assert!(err.contains("add was interrupted after"), "{err}");
        assert!(err.contains("hint: run the same command again"), "{err}");
        assert_eq!(store_temp_files(&ws), 0, "its own temporary files are gone");
        assert!(
            !ws.path("data.rvc").exists(),
            "no pointer names partial work"
        );
        verify_store(&ws.path(".rvc/cache"));
        ws.rvc(&["fsck"]).assert().success();

        // The re-run continues: files finished before the stop are not read again.
        let report = ws.json(&["add", "data"]);
        let hashed = report["paths"][0]["hashed"].as_u64().unwrap();
        assert!(hashed < 3008, "the re-run read all {hashed} files again");
        ws.rvc(&["status", "--check"]).assert().success();
    }
}

/// `rvc lock` stores the run's outputs the way `add` stores data: stopped,
/// it writes no lockfile, keeps what it stored, and the re-run completes.
#[test]
fn ctrl_c_during_lock_writes_no_lockfile_and_the_rerun_completes() {
    let ws = interrupted_add_workspace();
    let child = in_progress(&ws, &["lock", "run-1", "--output", "data"]);
    // SAFETY: kill(2) on the pid of a child this test spawned and has not
    // reaped yet.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("lock was interrupted after"), "{err}");
    assert!(!ws.path(".rvc/runs/run-1.lock").exists());
    assert_eq!(store_temp_files(&ws), 0);
    verify_store(&ws.path(".rvc/cache"));
    ws.rvc(&["lock", "run-1", "--output", "data"])
        .assert()
        .success();
    ws.rvc(&["fsck"]).assert().success();
}

/// Temporary files of a writer killed with SIGKILL (which no handler can
/// catch) are removed by the next command that takes the repository lock.
#[test]
fn temp_files_of_a_killed_add_are_removed_by_the_next_writer() {
    let ws = interrupted_add_workspace();
    let mut child = add_in_progress(&ws);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(store_temp_files(&ws) > 0);
    // A reader leaves them (a writer in another repository sharing the
    // store could own them while it holds the store lock).
    ws.rvc(&["status"]).output().unwrap();
    assert!(store_temp_files(&ws) > 0);
    ws.rvc(&["checkout"]).assert().success();
    assert_eq!(store_temp_files(&ws), 0);
    verify_store(&ws.path(".rvc/cache"));
}

/// While another process holds the store lock (a writer, perhaps from a
/// repository sharing the cache), its temporary files are left alone.
#[test]
fn temp_files_are_kept_while_a_writer_holds_the_store_lock() {
    let ws = Workspace::new();
    ws.write("a.txt", "a\n");
    ws.rvc(&["add", "a.txt"]).assert().success();
    let temp = ws.path(".rvc/cache/tmp/.rvc-tmp-4242-0-0");
    std::fs::write(&temp, "staged by another writer").unwrap();
    let lock = std::fs::File::open(ws.path(".rvc/cache/lock")).unwrap();
    lock.lock_shared().unwrap();
    ws.rvc(&["checkout"]).assert().success();
    assert!(temp.exists());
    lock.unlock().unwrap();
    ws.rvc(&["checkout"]).assert().success();
    assert!(!temp.exists());
}

/// A DVC user looks for `dvc diff`: with no runs, `rvc diff` compares the
/// tracked data of git revisions, or of a revision and the workspace.
#[test]
fn regression_diff_without_runs_compares_tracked_data_of_commits_and_the_workspace() {
    let ws = Workspace::new();
    ws.write("data/reviews.csv", "id,text\n1,a\n2,b\n3,c\n");
    ws.write("data/img/a.png", "a");
    ws.write("model.bin", "weights v1");
    ws.write("eval.jsonl", "{\"a\":1}\n{\"a\":2}\n");
    ws.rvc(&["add", "data", "model.bin", "eval.jsonl"])
        .assert()
        .success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "one"]);

    // Second commit: rows edited (with CRLF endings), a file added and one
    // removed in the directory, a pointer deleted, another added.
    ws.write(
        "data/reviews.csv",
        "id,text\r\n1,a\r\n2,B\r\n3,c\r\n4,d\r\n",
    );
    ws.write("data/img/b.png", "b");
    std::fs::remove_file(ws.path("data/img/a.png")).unwrap();
    ws.write("extra.txt", "new\n");
    ws.rvc(&["add", "data", "extra.txt"]).assert().success();
    ws.git(&["rm", "-q", "model.bin.rvc"]);
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "two"]);

    let d = ws.json(&["diff", "HEAD~1", "HEAD"]);
    let changes = d["changes"].as_array().unwrap();
    let by_path = |p: &str| {
        changes
            .iter()
            .find(|c| c["path"] == p)
            .unwrap_or_else(|| panic!("{p} not in {d}"))
    };
    let data = by_path("data");
    assert_eq!(data["change"], "modified");
    assert_eq!(
        data["rows"],
        serde_json::json!({"added": 1, "removed": 0, "changed": 1, "approximate": false})
    );
    assert_eq!(data["files_added"], serde_json::json!(["img/b.png"]));
    assert_eq!(data["files_removed"], serde_json::json!(["img/a.png"]));
    assert_eq!(data["files_modified"], serde_json::json!(["reviews.csv"]));
    assert_eq!(by_path("model.bin")["change"], "deleted");
    assert_eq!(by_path("extra.txt")["change"], "added");
    assert_eq!(changes.len(), 3, "{d}");
    assert_eq!(d["unchanged"], 1, "eval.jsonl: {d}");

    // Human and Markdown forms.
    let out = ws.rvc(&["diff", "HEAD~1", "HEAD"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("modified data: ") && text.contains("(1 added, 0 removed, 1 changed)"),
        "{text}"
    );
    assert!(text.contains("      added data/img/b.png"), "{text}");
    assert!(text.contains("  deleted model.bin: "), "{text}");
    assert!(text.contains("  added extra.txt: absent -> "), "{text}");
    let md = stdout(
        &ws.rvc(&["diff", "HEAD~1", "HEAD", "--md"])
            .output()
            .unwrap(),
    );
    assert!(md.contains("\n- modified data: "), "{md}");
    assert!(md.contains("\n  - removed data/img/a.png"), "{md}");

    // No arguments: HEAD against the workspace, which has an edit not yet
    // added; nothing else differs.
    ws.write("eval.jsonl", "{\"a\":1}\n{\"a\":3}\n");
    let d = ws.json(&["diff"]);
    assert_eq!(d["from"]["name"], "HEAD");
    assert_eq!(d["to"]["name"], "workspace");
    let changes = d["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{d}");
    assert_eq!(changes[0]["path"], "eval.jsonl");
    assert_eq!(changes[0]["workspace"], "not added");
    assert_eq!(changes[0]["rows"]["changed"], 1);
    let text = stdout(&ws.rvc(&["diff"]).output().unwrap());
    assert!(text.contains("`rvc add eval.jsonl` records it"), "{text}");

    // One revision: it against the workspace.
    let d = ws.json(&["diff", "HEAD~1"]);
    assert_eq!(d["changes"].as_array().unwrap().len(), 4, "{d}");

    // Nothing changed.
    ws.write("eval.jsonl", "{\"a\":1}\n{\"a\":2}\n");
    let text = stdout(&ws.rvc(&["diff"]).output().unwrap());
    assert!(
        text.contains("no tracked data changed (3 tracked paths the same)"),
        "{text}"
    );

    // Neither a run nor a revision; a run and a revision mixed.
    let out = ws.rvc(&["diff", "HEAD", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`nope` is neither a run nor a git revision"),
        "{}",
        stderr(&out)
    );
    let out = ws.rvc(&["diff", "nope", "--json"]).output().unwrap();
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["kind"], "not_run_or_revision");
}

/// Regression: `timeout -s INT` signals rvc and then its process group, so
/// one stop arrived twice and the second ("quit at once") left the
/// temporary files. A repeat within 250 ms is the same stop.
#[test]
fn regression_one_stop_delivered_twice_is_one_stop() {
    let ws = interrupted_add_workspace();
    let child = add_in_progress(&ws);
    for _ in 0..2 {
        // SAFETY: kill(2) on the pid of a child this test spawned and has
        // not reaped yet.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    }
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("add was interrupted after"), "{err}");
    assert_eq!(store_temp_files(&ws), 0);
}
