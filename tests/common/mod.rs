//! Shared helpers for end-to-end tests: an isolated workspace and a way to
//! run the real `rvc` binary in it with a clean environment.

#![allow(dead_code)]

pub mod scenario;

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// An empty directory, not a repository.
    pub fn bare() -> Workspace {
        Workspace {
            dir: tempfile::Builder::new()
                .prefix("rvc-test-")
                .tempdir()
                .unwrap(),
        }
    }

    /// A git repository (with a committer configured) and `rvc init` done.
    pub fn new() -> Workspace {
        let ws = Workspace::bare();
        ws.git(&["init", "-q"]);
        ws.committer();
        ws.rvc(&["init"]).assert().success();
        ws
    }

    /// Configure a git committer, so that commits work on any machine.
    pub fn committer(&self) {
        self.git(&["config", "user.email", "t@example.com"]);
        self.git(&["config", "user.name", "t"]);
    }

    /// `rvc remote add NAME URL --default`.
    pub fn add_remote(&self, name: &str, url: &str) {
        self.rvc(&["remote", "add", name, url, "--default"])
            .assert()
            .success();
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// `rvc ARGS` in the workspace root, with a clean environment.
    pub fn rvc(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("rvc").unwrap();
        clean_env(cmd.env_clear());
        cmd.current_dir(self.root()).args(args);
        cmd
    }

    /// The same as a plain `std::process::Command`, for spawning.
    pub fn rvc_process(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("rvc"));
        cmd.env_clear();
        cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
        cmd.env("HOME", self.root());
        cmd.current_dir(self.root()).args(args);
        cmd
    }

    pub fn git(&self, args: &[&str]) {
        let status = Command::new("git")
            .args(args)
            .current_dir(self.root())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.root())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?} failed");
    }

    pub fn write(&self, rel: &str, data: impl AsRef<[u8]>) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap()
    }

    /// `rvc ARGS --json`, parsed.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.rvc(&all).output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "rvc {args:?} did not print JSON ({e}); stdout: {}; stderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    /// Write `count` small files with distinct content under `dir`.
    pub fn many_files(&self, dir: &str, count: usize) {
        for i in 0..count {
            self.write(
                &format!("{dir}/d{}/f{i}.bin", i % 7),
                format!("file number {i}\n").repeat(1 + i % 5),
            );
        }
    }
}

/// Start `cmd`, let it run for `ms` milliseconds, then kill it (SIGKILL)
/// and reap it.
pub fn kill_after(mut cmd: Command, ms: u64) {
    let mut child = cmd.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(ms));
    let _ = child.kill();
    let _ = child.wait();
}

pub fn clean_env(cmd: &mut assert_cmd::Command) {
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd.env("NO_COLOR", "1");
}

/// `len` pseudo-random (incompressible) bytes, the same for the same seed.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// BLAKE3 of `data` as hex, computed independently of rvc.
pub fn b3(data: &[u8]) -> String {
    blake3::hash(data).to_hex().to_string()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Whether the system tool `tool` (a command on the PATH, or a path) is
/// there for a test that drives it. When it is not, the test should return
/// at once: this says on stderr what is missing and how to get it, so
/// nothing is skipped silently. Under `RVC_TEST_ALL_TOOLS=1`, which
/// `scripts/test.sh` sets after installing every tool, a missing tool is
/// a failure instead.
pub fn have_tool(tool: &str, what_for: &str) -> bool {
    let found = if tool.contains('/') {
        Path::new(tool).is_file()
    } else {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
    };
    if !found {
        let message = format!(
            "SKIPPED: {what_for} needs {tool}, which is not installed; \
             scripts/test.sh installs it and runs this test"
        );
        assert!(
            std::env::var_os("RVC_TEST_ALL_TOOLS").is_none(),
            "{message} (RVC_TEST_ALL_TOOLS is set, so this is a failure)"
        );
        eprintln!("{message}");
    }
    found
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Decode a stored chunk (1 header byte, then raw, zstd or planes),
/// independently of rvc's own code, from the layout in docs/format.md.
pub fn decode_chunk(stored: &[u8]) -> Vec<u8> {
    match stored.split_first() {
        Some((0, rest)) => rest.to_vec(),
        Some((1, rest)) => zstd::decode_all(rest).expect("a valid zstd frame"),
        Some((2, rest)) => {
            let width = rest[0] as usize;
            assert!(width == 2 || width == 4, "width {width}");
            let len = u32::from_le_bytes(rest[1..5].try_into().unwrap()) as usize;
            let n = len / width;
            let mut at = 5;
            let mut planes = Vec::new();
            for _ in 0..width {
                let mode = rest[at];
                let size = u32::from_le_bytes(rest[at + 1..at + 5].try_into().unwrap()) as usize;
                let bytes = &rest[at + 5..at + 5 + size];
                at += 5 + size;
                let plane = match mode {
                    0 => bytes.to_vec(),
                    1 => zstd::decode_all(bytes).expect("a valid zstd frame"),
                    m => panic!("bad plane mode {m}"),
                };
                assert_eq!(plane.len(), n);
                planes.push(plane);
            }
            let mut out = Vec::with_capacity(len);
            for i in 0..n {
                // The planes hold the number rotated left by one bit, most
                // significant byte first.
                let mut v: u64 = 0;
                for p in &planes {
                    v = (v << 8) | p[i] as u64;
                }
                let bits = 8 * width as u32;
                let v = (v >> 1) | ((v & 1) << (bits - 1));
                out.extend_from_slice(&v.to_le_bytes()[..width]);
            }
            out.extend_from_slice(&rest[at..]);
            assert_eq!(out.len(), len);
            out
        }
        other => panic!("bad chunk header {:?}", other.map(|o| o.0)),
    }
}

/// A safetensors file holding `tensors` (name, dtype, bytes) in the order
/// given, written as the safetensors library lays it out.
pub fn safetensors(tensors: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), serde_json::json!({"format": "pt"}));
    let mut offset = 0;
    for (name, dtype, data) in tensors {
        let width = if *dtype == "F32" { 4 } else { 2 };
        header.insert(
            name.to_string(),
            serde_json::json!({
                "dtype": dtype,
                "shape": [data.len() / width],
                "data_offsets": [offset, offset + data.len()],
            }),
        );
        offset += data.len();
    }
    let mut h = serde_json::to_vec(&header).unwrap();
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&h);
    for (_, _, data) in tensors {
        out.extend_from_slice(data);
    }
    out
}

/// `n` bf16 numbers like trained weights (about normal, sd 0.02).
pub fn bf16_weights(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .flat_map(|_| {
            let v = ((next() + next() + next() + next()) - 2.0) * 0.035;
            (((v as f32).to_bits() >> 16) as u16).to_le_bytes()
        })
        .collect()
}

/// The objects in a store's packs, read independently of rvc's code:
/// (id hex, pack path, offset, length). Panics on a damaged index.
pub fn packed_objects(cache: &Path) -> Vec<(String, std::path::PathBuf, u64, usize)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(cache.join("packs")) else {
        return out;
    };
    for e in rd {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "idx") {
            continue;
        }
        let idx = std::fs::read(&p).unwrap();
        assert_eq!(&idx[..8], b"RVCIDX01");
        let (body, sum) = idx.split_at(idx.len() - 32);
        assert_eq!(
            blake3::hash(body).as_bytes(),
            sum,
            "index checksum of {}",
            p.display()
        );
        let pack = p.with_extension("pack");
        assert_eq!(&std::fs::read(&pack).unwrap()[..8], b"RVCPACK1");
        for e in body[16..].chunks_exact(44) {
            let id = blake3::Hash::from_bytes(e[..32].try_into().unwrap())
                .to_hex()
                .to_string();
            let offset = u64::from_le_bytes(e[32..40].try_into().unwrap());
            let len = u32::from_le_bytes(e[40..44].try_into().unwrap()) as usize;
            out.push((id, pack.clone(), offset, len));
        }
    }
    out
}

/// Flip a byte in the middle of the stored chunk `id`, loose or packed.
pub fn damage_chunk(cache: &Path, id: &str) {
    use std::os::unix::fs::PermissionsExt;
    let loose = cache.join("chunks").join(&id[..2]).join(&id[2..]);
    let (path, at) = if loose.is_file() {
        let len = std::fs::metadata(&loose).unwrap().len();
        (loose, len / 2)
    } else {
        let (_, pack, offset, len) = packed_objects(cache)
            .into_iter()
            .find(|o| o.0 == id)
            .expect("the chunk is stored");
        (pack, offset + len as u64 / 2 + 1)
    };
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[at as usize] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
}

/// Nothing stored is damaged, and nothing a pointer or lockfile names is
/// missing.
pub fn assert_sound(ws: &Workspace, when: &str) {
    verify_store(&ws.path(".rvc/cache"));
    let out = ws.rvc(&["fsck", "--json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{when}: fsck printed no JSON ({e}): {}", stderr(&out)));
    for key in ["corrupt", "missing"] {
        assert!(
            report[key].as_array().unwrap().is_empty(),
            "{when}: {key}: {report}"
        );
    }
}

/// Check every object in a store against its name; returns how many. Chunks
/// (loose or packed) must hash to their name, trees too (in derive-key
/// mode), and every manifest must rebuild a file that hashes to its name.
pub fn verify_store(cache: &Path) -> usize {
    let mut n = 0;
    let read_area = |sub: &str| -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let Ok(fans) = std::fs::read_dir(cache.join(sub)) else {
            return out;
        };
        for fan in fans {
            let fan = fan.unwrap();
            for obj in std::fs::read_dir(fan.path()).unwrap() {
                let obj = obj.unwrap();
                let name = format!(
                    "{}{}",
                    fan.file_name().to_str().unwrap(),
                    obj.file_name().to_str().unwrap()
                );
                out.push((name, std::fs::read(obj.path()).unwrap()));
            }
        }
        out
    };
    let mut chunks = std::collections::HashMap::new();
    for (name, stored) in read_area("chunks") {
        let data = decode_chunk(&stored);
        assert_eq!(b3(&data), name, "chunk {name} is readable under a wrong id");
        chunks.insert(name, data);
        n += 1;
    }
    for (name, pack, offset, len) in packed_objects(cache) {
        let bytes = std::fs::read(&pack).unwrap();
        let data = decode_chunk(&bytes[offset as usize..offset as usize + len]);
        assert_eq!(
            b3(&data),
            name,
            "packed chunk {name} is readable under a wrong id"
        );
        chunks.insert(name, data);
        n += 1;
    }
    for (name, listing) in read_area("trees") {
        let mut h = blake3::Hasher::new_derive_key("rvc tree v1");
        h.update(&listing);
        assert_eq!(
            h.finalize().to_hex().to_string(),
            name,
            "tree {name} is readable under a wrong id"
        );
        n += 1;
    }
    for (name, manifest) in read_area("manifests") {
        let mut h = blake3::Hasher::new();
        for line in String::from_utf8(manifest).unwrap().lines() {
            let (chunk, size) = line.split_once(' ').unwrap();
            let data = chunks
                .get(chunk)
                .unwrap_or_else(|| panic!("manifest {name} names a missing chunk {chunk}"));
            assert_eq!(data.len().to_string(), size);
            h.update(data);
        }
        assert_eq!(
            h.finalize().to_hex().to_string(),
            name,
            "manifest {name} rebuilds a different file"
        );
        n += 1;
    }
    n
}

/// The command `bin` of the PyPI package `package`: from the PATH when it
/// answers `--version`, otherwise installed from PyPI into a virtual
/// environment under the target directory (kept between runs).
pub fn python_tool(bin: &str, package: &str) -> PathBuf {
    if let Ok(out) = Command::new(bin).arg("--version").output() {
        if out.status.success() {
            return PathBuf::from(bin);
        }
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{bin}-venv"));
    let path = venv.join("bin").join(bin);
    if !path.is_file() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "python3 -m venv failed: {bin} needs python3 with venv");
        let out = Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "--disable-pip-version-check", package])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pip install {package} failed: {}",
            stderr(&out)
        );
    }
    path
}
