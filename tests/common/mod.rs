//! Shared helpers for end-to-end tests: an isolated workspace and a way to
//! run the real `rvc` binary in it with a clean environment.

#![allow(dead_code)]

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

    /// A git repository with `rvc init` done.
    pub fn new() -> Workspace {
        let ws = Workspace::bare();
        ws.git(&["init", "-q"]);
        ws.rvc(&["init"]).assert().success();
        ws
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

pub fn clean_env(cmd: &mut assert_cmd::Command) {
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd.env("NO_COLOR", "1");
}

/// BLAKE3 of `data` as hex, computed independently of rvc.
pub fn b3(data: &[u8]) -> String {
    blake3::hash(data).to_hex().to_string()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Check every object in a store against its name; returns how many.
pub fn verify_store(cache: &Path) -> usize {
    let mut n = 0;
    for (sub, tree) in [("objects", false), ("trees", true)] {
        let Ok(fans) = std::fs::read_dir(cache.join(sub)) else {
            continue;
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
                let data = std::fs::read(obj.path()).unwrap();
                let actual = if tree {
                    let mut h = blake3::Hasher::new_derive_key("rvc tree v1");
                    h.update(&data);
                    h.finalize().to_hex().to_string()
                } else {
                    b3(&data)
                };
                assert_eq!(
                    actual,
                    name,
                    "object {} is readable under a wrong id",
                    obj.path().display()
                );
                n += 1;
            }
        }
    }
    n
}
