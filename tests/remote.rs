//! End-to-end tests of remotes: `rvc remote`, `push`, `fetch` and `pull`
//! against a real S3 server (s3s-fs, in-process, checking signatures),
//! against Azurite (Azure's blob emulator, from npm) and against a local
//! path.

#[path = "common/azurite.rs"]
mod azurite;
mod common;
#[path = "common/s3.rs"]
mod s3;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::scenario::clone_of;
use common::{noise, stderr, stdout, verify_store, Workspace};
use predicates::prelude::*;
use s3::S3Server;

const BUCKET: &str = "team-data";

/// `rvc ARGS` against `server`.
fn rvc_s3(ws: &Workspace, server: &S3Server, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = ws.rvc(args);
    cmd.envs(server.env());
    cmd
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}); stdout: {}; stderr: {}",
            stdout(out),
            stderr(out)
        )
    })
}

/// Data with every shape: many small files (packed), a multi-chunk file,
/// CRLF rows, an empty file and a nested directory.
fn some_data(ws: &Workspace) {
    ws.many_files("data/small", 300);
    // Forty files of 600 KiB fill a pack past the multipart threshold.
    for i in 0..40 {
        ws.write(&format!("data/medium/{i}.bin"), noise(600 << 10, 1000 + i));
    }
    ws.write("data/rows.csv", "id,text\r\n1,a\r\n2,b\r\n");
    ws.write("data/empty.txt", "");
    ws.write("ckpt/model.bin", noise(14 << 20, 7));
    // Tensors: planes chunks, and small pieces that go into packs.
    let weights = common::bf16_weights(2_600_000, 3);
    let bias = common::bf16_weights(4096, 4);
    let norm = noise(8192, 5);
    ws.write(
        "ckpt/model.safetensors",
        common::safetensors(&[
            ("bias", "BF16", &bias),
            ("norm", "F32", &norm),
            ("weight", "BF16", &weights),
        ]),
    );
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn same_tree(a: &Path, b: &Path) {
    let fa = files_under(a);
    let fb = files_under(b);
    assert_eq!(fa.len(), fb.len(), "{} vs {}", a.display(), b.display());
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.strip_prefix(a).unwrap(), y.strip_prefix(b).unwrap());
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{} differs",
            x.display()
        );
    }
}

#[test]
fn s3_push_then_pull_in_a_fresh_clone_with_credentials_from_the_local_config() {
    let tmp = tempfile::tempdir().unwrap();
    let server = S3Server::start(tmp.path(), BUCKET);
    let a = Workspace::new();
    some_data(&a);
    a.rvc(&["add", "data", "ckpt/model.bin", "ckpt/model.safetensors"])
        .assert()
        .success();
    let endpoint = server.endpoint();
    a.rvc(&[
        "remote",
        "add",
        "origin",
        &format!("s3://{BUCKET}/projects/demo"),
        "--default",
        "--endpoint",
        &endpoint,
        "--region",
        s3::REGION,
        "--allow-http",
    ])
    .assert()
    .success();
    // Credentials only in the machine-local file.
    std::fs::write(
        a.path(".rvc/config.local.toml"),
        format!(
            "[remote.origin]\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
            s3::ACCESS_KEY,
            s3::SECRET_KEY
        ),
    )
    .unwrap();
    let out = a.rvc(&["push", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let first = json_of(&out);
    let pushed = first["push"]["objects"].as_u64().unwrap();
    assert!(pushed >= 340 + 14, "{first}");
    // 340 small files travel in a pack, uploaded in parts; the checkpoint's
    // chunks go one by one: far fewer uploads than objects.
    assert_eq!(first["push"]["multipart"], 1, "{first}");
    assert!(first["push"]["uploads"].as_u64().unwrap() < 40, "{first}");
    // Nothing is missing the second time, and finding that out is cheap.
    let again = json_of(&a.rvc(&["push", "--json"]).output().unwrap());
    assert_eq!(again["push"]["objects"], 0, "{again}");
    assert_eq!(again["push"]["already_on_remote"].as_u64().unwrap(), pushed);
    // What the bucket holds: the marker, packs, loose chunks, index objects.
    let bucket = tmp.path().join(BUCKET).join("projects/demo");
    assert_eq!(
        std::fs::read(bucket.join("rvc-remote")).unwrap(),
        b"rvc remote v1\n"
    );
    for sub in ["packs", "chunks", "trees", "manifests", "index"] {
        assert!(bucket.join(sub).is_dir(), "no {sub}/ on the remote");
    }
    // The committed config has no secret in it.
    let committed = std::fs::read_to_string(a.path(".rvc/config.toml")).unwrap();
    assert!(!committed.contains(s3::SECRET_KEY));

    let b = clone_of(&a);
    std::fs::copy(
        a.path(".rvc/config.local.toml"),
        b.path(".rvc/config.local.toml"),
    )
    .unwrap();
    let out = b.rvc(&["pull", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let pulled = json_of(&out);
    assert_eq!(
        pulled["fetch"]["objects"].as_u64().unwrap(),
        pushed,
        "{pulled}"
    );
    same_tree(&a.path("data"), &b.path("data"));
    assert_eq!(b.read("ckpt/model.bin"), a.read("ckpt/model.bin"));
    assert!(b.read("ckpt/model.safetensors") == a.read("ckpt/model.safetensors"));
    assert!(verify_store(&b.path(".rvc/cache")) > 0);
    b.rvc(&["status"]).assert().success();
    b.rvc(&["fsck"]).assert().success();
    let again = json_of(&b.rvc(&["fetch", "--json"]).output().unwrap());
    assert_eq!(again["fetch"]["objects"], 0, "{again}");

    // Bodies go up unsigned by default; signing them is one setting away,
    // and the server checks the signed SHA-256 of every body.
    let local = b.path(".rvc/config.local.toml");
    let mut text = std::fs::read_to_string(&local).unwrap();
    text.push_str("unsigned_payload = false\n");
    std::fs::write(&local, text).unwrap();
    b.write("signed.bin", noise(3 << 20, 77));
    b.rvc(&["add", "signed.bin"]).assert().success();
    let out = b.rvc(&["push", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(json_of(&out)["push"]["objects"].as_u64().unwrap() > 0);
    std::fs::remove_file(a.path("signed.bin")).ok();
    std::fs::copy(b.path("signed.bin.rvc"), a.path("signed.bin.rvc")).unwrap();
    a.rvc(&["pull", "signed.bin.rvc"]).assert().success();
    assert_eq!(a.read("signed.bin"), noise(3 << 20, 77));
}

#[test]
fn wrong_credentials_and_an_unreachable_server_fail_clearly_without_printing_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let server = S3Server::start(tmp.path(), BUCKET);
    let a = Workspace::new();
    a.write("x.txt", "hello\n");
    a.rvc(&["add", "x.txt"]).assert().success();
    a.add_remote("origin", &format!("s3://{BUCKET}/p"));
    let mut cmd = a.rvc(&["push"]);
    cmd.envs(server.env())
        .env("AWS_SECRET_ACCESS_KEY", "not-the-secret-at-all");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("remote `origin`"), "{err}");
    assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
    assert!(!err.contains("not-the-secret-at-all"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // Nothing listening at all.
    let mut cmd = a.rvc(&["push"]);
    cmd.envs(server.env())
        .env("AWS_ENDPOINT", "http://127.0.0.1:9");
    std::fs::write(
        a.path(".rvc/config.local.toml"),
        "[remote.origin]\nmax_retries = 0\n",
    )
    .unwrap();
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("reachable"), "{}", stderr(&out));
}

#[test]
fn remote_config_keeps_secrets_out_of_the_committed_file() {
    let ws = Workspace::new();
    // A credential on the command line is refused unless it goes to the local file.
    ws.rvc(&[
        "remote",
        "add",
        "r",
        "s3://b/p",
        "-o",
        "secret_access_key=abc",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("credential"))
    .stderr(predicate::str::contains("--local"));
    ws.rvc(&[
        "remote",
        "add",
        "r",
        "s3://b/p",
        "--local",
        "-o",
        "secret_access_key=abc123",
        "-o",
        "access_key_id=AKIAEXAMPLE",
    ])
    .assert()
    .success();
    let committed = std::fs::read_to_string(ws.path(".rvc/config.toml")).unwrap();
    assert!(!committed.contains("abc123"));
    let listed = ws.rvc(&["remote", "list"]).output().unwrap();
    assert!(!stdout(&listed).contains("abc123"));
    assert!(!stdout(&listed).contains("AKIAEXAMPLE"));
    assert!(stdout(&listed).contains("(set)"));
    let listed = ws.json(&["remote", "list"]);
    assert!(!listed.to_string().contains("abc123"));
    assert_eq!(listed[0]["default"], true);

    // A secret written into config.toml by hand is an error naming the line.
    let mut text = std::fs::read_to_string(ws.path(".rvc/config.toml")).unwrap();
    text.push_str("\n[remote.leaky]\nurl = \"s3://b/x\"\naws_secret_access_key = \"zzz\"\n");
    std::fs::write(ws.path(".rvc/config.toml"), &text).unwrap();
    let out = ws.rvc(&["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let line = text
        .lines()
        .position(|l| l.starts_with("aws_secret"))
        .unwrap()
        + 1;
    assert!(err.contains(&format!("config.toml:{line}")), "{err}");
    assert!(err.contains("config.local.toml"), "{err}");
    assert!(!err.contains("zzz"), "{err}");
    text.truncate(text.find("\n[remote.leaky]").unwrap());
    std::fs::write(ws.path(".rvc/config.toml"), &text).unwrap();

    // Bad names, URLs and options.
    for (args, needle) in [
        (vec!["remote", "add", "a b", "s3://b"], "characters"),
        (
            vec!["remote", "add", "f", "ftp://host/x"],
            "unsupported URL scheme",
        ),
        (
            vec!["remote", "add", "u", "s3://key:secret@b/p"],
            "credentials",
        ),
        (
            vec!["remote", "add", "o", "s3://b/p", "-o", "no_such_option=1"],
            "unknown option",
        ),
        (vec!["remote", "add", "r", "s3://b/q"], "exists already"),
        (vec!["remote", "remove", "nope"], "no remote named"),
        (vec!["push", "-r", "nope"], "no remote named"),
    ] {
        let out = ws.rvc(&args).output().unwrap();
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("secret@"), "{}", stderr(&out));
    }
    ws.rvc(&["remote", "add", "second", "/tmp/elsewhere"])
        .assert()
        .success();
    ws.rvc(&["remote", "default", "second"]).assert().success();
    assert!(std::fs::read_to_string(ws.path(".rvc/config.toml"))
        .unwrap()
        .contains("remote = \"second\""));
    ws.rvc(&["remote", "remove", "second"]).assert().success();
    ws.rvc(&["remote", "remove", "r"]).assert().success();
    let out = ws.rvc(&["push"]).output().unwrap();
    assert!(stderr(&out).contains("rvc remote add"), "{}", stderr(&out));
}

/// Flip one byte of the file at `path`.
fn flip(path: &Path, at: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8];
    f.read_exact_at(&mut b, at).unwrap();
    b[0] ^= 0x40;
    f.write_all_at(&b, at).unwrap();
}

#[test]
fn corrupt_remote_objects_are_reported_and_nothing_built_from_them_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let server = S3Server::start(tmp.path(), BUCKET);
    let a = Workspace::new();
    a.write("data/a.txt", "alpha\n");
    a.write("extra/b.txt", "bravo\n");
    a.write("model.bin", noise(9 << 20, 3));
    a.rvc(&["add", "data", "extra", "model.bin"])
        .assert()
        .success();
    a.add_remote("origin", &format!("s3://{BUCKET}/p"));
    rvc_s3(&a, &server, &["push"]).assert().success();
    let bucket = tmp.path().join(BUCKET).join("p");
    // Damage one loose chunk of model.bin, and the packed chunk of b.txt.
    let loose = files_under(&bucket.join("chunks"));
    flip(&loose[0], 100);
    let b_id = common::b3(b"bravo\n");
    let pack = files_under(&bucket.join("packs"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "pack"))
        .unwrap();
    let bytes = std::fs::read(&pack).unwrap();
    let at = bytes.windows(6).position(|w| w == b"bravo\n").unwrap();
    flip(&pack, at as u64);

    let b = clone_of(&a);
    let out = rvc_s3(&b, &server, &["pull"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("corrupt on the remote"), "{err}");
    assert!(err.contains(&b_id[..2]), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The good file is restored; nothing is written for the damaged ones.
    assert_eq!(b.read("data/a.txt"), b"alpha\n");
    assert!(!b.path("extra").exists());
    assert!(!b.path("model.bin").exists());
    // The local store holds only verified objects.
    verify_store(&b.path(".rvc/cache"));
    b.rvc(&["fsck"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains(" 0 corrupt"));
    let json = json_of(&rvc_s3(&b, &server, &["fetch", "--json"]).output().unwrap());
    assert_eq!(
        json["fetch"]["corrupt"].as_array().unwrap().len(),
        2,
        "{json}"
    );
}

#[test]
fn a_manifest_that_does_not_rebuild_its_file_is_refused() {
    let remote_dir = tempfile::tempdir().unwrap();
    let a = Workspace::new();
    a.write("model.bin", noise(10 << 20, 11));
    a.rvc(&["add", "model.bin"]).assert().success();
    let url = remote_dir.path().to_str().unwrap();
    a.add_remote("origin", url);
    a.rvc(&["push"]).assert().success();
    // Swap the first two lines of the manifest: it still parses, and every
    // chunk it names is genuine, but it no longer rebuilds the file.
    let manifest = files_under(&remote_dir.path().join("manifests")).remove(0);
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 2);
    lines.swap(0, 1);
    std::fs::write(&manifest, format!("{}\n", lines.join("\n"))).unwrap();
    let b = clone_of(&a);
    let out = b.rvc(&["pull"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("corrupt on the remote: manifests/"),
        "{}",
        stderr(&out)
    );
    assert!(!b.path("model.bin").exists());
    // Its chunks arrived and are good; the file is missing, not corrupt.
    verify_store(&b.path(".rvc/cache"));
    b.rvc(&["fsck"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("0 corrupt, 1 missing"));
}

#[test]
fn a_local_path_remote_round_trips_and_targets_select_what_moves() {
    let remote_dir = tempfile::tempdir().unwrap();
    let a = Workspace::new();
    a.write("one/x.txt", "x\n");
    a.write("two/y.txt", "y\n");
    a.write("params.json", "{\"lr\": 0.1}");
    a.rvc(&["add", "one", "two"]).assert().success();
    a.write("out/run-1/w.bin", noise(5 << 20, 5));
    a.git(&["add", "-A"]);
    a.git(&["commit", "-qm", "data"]);
    a.rvc(&[
        "lock",
        "run-1",
        "--input",
        "one",
        "--output",
        "out/run-1",
        "--params",
        "params.json",
    ])
    .assert()
    .success();
    let url = format!("file://{}", remote_dir.path().display());
    a.add_remote("origin", &url);
    // Only one.rvc.
    let j = a.json(&["push", "one.rvc"]);
    assert_eq!(j["push"]["objects"], 2, "{j}"); // a tree and one chunk
    let b = clone_of(&a);
    let out = b.rvc(&["pull", "two"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("missing"), "{}", stderr(&out));
    assert!(stderr(&out).contains("two.rvc"), "{}", stderr(&out));
    // A run: its inputs and outputs.
    a.rvc(&["push", "run-1"]).assert().success();
    b.rvc(&["pull", "run-1"]).assert().success();
    assert_eq!(b.read("out/run-1/w.bin"), a.read("out/run-1/w.bin"));
    assert_eq!(b.read("one/x.txt"), b"x\n");
    // Everything else.
    a.rvc(&["push", "--all-runs"]).assert().success();
    b.rvc(&["pull"]).assert().success();
    assert_eq!(b.read("two/y.txt"), b"y\n");
    b.rvc(&["status"]).assert().success();
}

#[test]
fn an_interrupted_push_resumes_and_never_exposes_a_partial_object() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = S3Server::start(tmp.path(), BUCKET);
    let a = Workspace::new();
    a.many_files("data", 2000);
    for i in 0..4 {
        a.write(&format!("ckpt/{i}.bin"), noise(12 << 20, 40 + i));
    }
    a.rvc(&["add", "data", "ckpt"]).assert().success();
    a.add_remote("origin", &format!("s3://{BUCKET}/p"));
    let b = clone_of(&a);

    // kill -9 at a few points.
    for delay in [30u64, 120, 300] {
        let mut cmd = a.rvc_process(&["push", "--jobs", "2"]);
        cmd.envs(server.env())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        common::kill_after(cmd, delay);
        // Whatever the remote lists must be complete and correct.
        let out = rvc_s3(&b, &server, &["fetch", "--json"]).output().unwrap();
        // An error under --json is a JSON object with an `error` key, on
        // stdout (stderr stays empty).
        let error = serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|v| v.get("error").cloned());
        if let Some(error) = error {
            // Killed before anything was pushed.
            assert!(
                error["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("nothing was pushed")),
                "{error}"
            );
            continue;
        }
        let j = json_of(&out);
        assert!(j["fetch"]["corrupt"].as_array().unwrap().is_empty(), "{j}");
        assert!(j["fetch"]["failed"].as_array().unwrap().is_empty(), "{j}");
        verify_store(&b.path(".rvc/cache"));
    }

    // The server goes away in the middle of a push.
    let mut child = a.rvc_process(&["push", "--jobs", "4", "--json"]);
    child
        .envs(server.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = child.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(150));
    server.stop();
    let out = child.wait_with_output().unwrap();
    // It either finished first or failed cleanly; it never panics.
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    let server = S3Server::start(tmp.path(), BUCKET);

    // A re-run completes the transfer, and a clone gets every byte back.
    rvc_s3(&a, &server, &["push"]).assert().success();
    let j = json_of(&rvc_s3(&a, &server, &["push", "--json"]).output().unwrap());
    assert_eq!(j["push"]["objects"], 0, "{j}");
    let out = rvc_s3(&b, &server, &["pull"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    same_tree(&a.path("data"), &b.path("data"));
    same_tree(&a.path("ckpt"), &b.path("ckpt"));
    // A killed pull resumes too, and never leaves a bad object behind.
    let c = clone_of(&a);
    for delay in [40u64, 150, 400] {
        let mut cmd = c.rvc_process(&["pull", "--jobs", "2"]);
        cmd.envs(server.env())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        common::kill_after(cmd, delay);
        verify_store(&c.path(".rvc/cache"));
    }
    let out = rvc_s3(&c, &server, &["pull"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    same_tree(&a.path("ckpt"), &c.path("ckpt"));
    c.rvc(&["fsck"]).assert().success();
    // No temporary upload is visible under an object key.
    for f in files_under(&tmp.path().join(BUCKET)) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            !name.contains(".tmp") && !name.contains(".part"),
            "{}",
            f.display()
        );
    }
}

#[test]
fn concurrent_pushes_and_many_indexes_stay_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let server = S3Server::start(tmp.path(), BUCKET);
    let url = format!("s3://{BUCKET}/shared");
    let a = Workspace::new();
    let c = Workspace::new();
    for ws in [&a, &c] {
        ws.many_files("data", 400);
        ws.write("common.bin", noise(6 << 20, 99));
        ws.rvc(&["add", "data", "common.bin"]).assert().success();
        ws.add_remote("origin", &url);
    }
    c.write("data/extra.txt", "only in c\n");
    c.rvc(&["add", "data"]).assert().success();
    let spawn = |ws: &Workspace| {
        let mut cmd = ws.rvc_process(&["push"]);
        cmd.envs(server.env())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd.spawn().unwrap()
    };
    let (p1, p2) = (spawn(&a), spawn(&c));
    for p in [p1, p2] {
        let out = p.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // Many small pushes: the indexes are merged as they pile up.
    for i in 0..20 {
        a.write(&format!("small/{i}.txt"), format!("{i}\n"));
        a.rvc(&["add", &format!("small/{i}.txt")])
            .assert()
            .success();
        rvc_s3(&a, &server, &["push", &format!("small/{i}.txt")])
            .assert()
            .success();
    }
    let indexes = files_under(&tmp.path().join(BUCKET).join("shared/index")).len();
    assert!(indexes <= 17, "{indexes} index objects");
    for ws in [&a, &c] {
        let b = clone_of(ws);
        let out = rvc_s3(&b, &server, &["pull"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        same_tree(&ws.path("data"), &b.path("data"));
        assert_eq!(b.read("common.bin"), ws.read("common.bin"));
    }
}

#[test]
fn a_tree_whose_content_is_missing_locally_is_not_listed_on_the_remote() {
    let remote_dir = tempfile::tempdir().unwrap();
    let a = Workspace::new();
    a.write("ok/a.txt", "fine\n");
    a.write("broken/big.bin", noise(6 << 20, 21));
    a.write("broken/small.txt", "small\n");
    a.rvc(&["add", "ok", "broken"]).assert().success();
    a.rvc(&[
        "remote",
        "add",
        "origin",
        remote_dir.path().to_str().unwrap(),
        "--default",
    ])
    .assert()
    .success();
    // Lose one loose chunk of big.bin from the local store.
    let chunk = files_under(&a.path(".rvc/cache/chunks")).remove(0);
    std::fs::remove_file(&chunk).unwrap();
    let out = a.rvc(&["push", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let j = json_of(&out);
    let missing = j["push"]["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{j}");
    assert_eq!(missing[0]["needed_by"][0], "broken.rvc", "{j}");
    // ok/'s tree went up; broken/'s tree and big.bin's manifest did not.
    let tree_of = |pointer: &str| {
        let text = std::fs::read_to_string(a.path(pointer)).unwrap();
        let line = text.lines().find(|l| l.starts_with("id = ")).unwrap();
        line.trim_start_matches("id = ")
            .trim_matches('"')
            .to_string()
    };
    let on_remote = |id: &str| {
        remote_dir
            .path()
            .join("trees")
            .join(&id[..2])
            .join(&id[2..])
            .is_file()
    };
    assert!(on_remote(&tree_of("ok.rvc")));
    assert!(!on_remote(&tree_of("broken.rvc")));
    let manifests = remote_dir.path().join("manifests");
    assert!(!manifests.exists() || files_under(&manifests).is_empty());
    // A clone gets ok/ and is told what broken/ lacks.
    let b = clone_of(&a);
    let out = b.rvc(&["pull"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(b.read("ok/a.txt"), b"fine\n");
    assert!(stderr(&out).contains("broken.rvc"), "{}", stderr(&out));
}

#[test]
fn an_oversized_object_on_the_remote_is_refused_without_being_read() {
    let remote_dir = tempfile::tempdir().unwrap();
    let a = Workspace::new();
    a.write("model.bin", noise(6 << 20, 31));
    a.rvc(&["add", "model.bin"]).assert().success();
    a.rvc(&[
        "remote",
        "add",
        "origin",
        remote_dir.path().to_str().unwrap(),
        "--default",
    ])
    .assert()
    .success();
    a.rvc(&["push"]).assert().success();
    let chunk = files_under(&remote_dir.path().join("chunks")).remove(0);
    std::fs::write(&chunk, vec![0u8; 20 << 20]).unwrap();
    let b = clone_of(&a);
    let out = b.rvc(&["pull"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("larger than any chunk"),
        "{}",
        stderr(&out)
    );
    assert!(!b.path("model.bin").exists());
}

#[test]
fn an_azure_remote_round_trips_through_azurite() {
    if !common::have_tool("npm", "the Azure test (it installs Azurite from npm)") {
        return;
    }
    let az = azurite::Azurite::start();
    az.create_container("rvc");
    let a = Workspace::new();
    some_data(&a);
    a.rvc(&["add", "data", "ckpt/model.bin"]).assert().success();
    a.rvc(&[
        "remote",
        "add",
        "origin",
        "az://rvc/team/demo",
        "--default",
        "-o",
        "use_emulator=true",
    ])
    .assert()
    .success();
    let mut push = a.rvc(&["push", "--json"]);
    push.envs(az.env());
    let out = push.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let pushed = json_of(&out)["push"]["objects"].as_u64().unwrap();
    assert!(pushed >= 340 + 14, "{pushed}");
    let mut again = a.rvc(&["push", "--json"]);
    again.envs(az.env());
    let again = json_of(&again.output().unwrap());
    assert_eq!(again["push"]["objects"], 0, "{again}");

    let b = clone_of(&a);
    let mut pull = b.rvc(&["pull", "--json"]);
    pull.envs(az.env());
    let out = pull.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_of(&out)["fetch"]["objects"].as_u64().unwrap(), pushed);
    same_tree(&a.path("data"), &b.path("data"));
    assert_eq!(b.read("ckpt/model.bin"), a.read("ckpt/model.bin"));
    b.rvc(&["fsck"]).assert().success();

    // A container that does not exist is a clear error, not a panic.
    let c = clone_of(&a);
    c.rvc(&[
        "remote",
        "add",
        "gone",
        "az://nothing-here/x",
        "-o",
        "use_emulator=true",
    ])
    .assert()
    .success();
    let mut pull = c.rvc(&["pull", "-r", "gone"]);
    pull.envs(az.env());
    let out = pull.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("remote `gone`"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

/// `[remote.NAME] jobs` is rvc's own setting: a bad value is refused with
/// the remote named (it was once silently ignored), a good one is used.
#[test]
fn a_remote_own_jobs_setting_is_checked_and_used() {
    let remote_dir = tempfile::tempdir().unwrap();
    let a = Workspace::new();
    a.write("one/x.txt", "x\n");
    a.rvc(&["add", "one"]).assert().success();
    let url = format!("file://{}", remote_dir.path().display());
    a.rvc(&["remote", "add", "origin", &url, "--default", "-o", "jobs=0"])
        .assert()
        .success();
    let out = a.rvc(&["push"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("origin") && err.contains("jobs must be a whole number"),
        "{err}"
    );
    a.rvc(&["remote", "remove", "origin"]).assert().success();
    a.rvc(&["remote", "add", "origin", &url, "--default", "-o", "jobs=2"])
        .assert()
        .success();
    let j = a.json(&["push"]);
    assert_eq!(j["push"]["objects"], 2, "{j}");
    assert_eq!(j["push"]["jobs"], 2, "{j}");
    // --jobs wins over the remote's own setting.
    let j = a.json(&["fetch", "--jobs", "5"]);
    assert_eq!(j["fetch"]["jobs"], 5, "{j}");
}
