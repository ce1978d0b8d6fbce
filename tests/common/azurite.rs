//! Azurite, Microsoft's Azure Storage emulator (npm), serving the blob API
//! on loopback for the Azure remote test. It is installed with npm into the
//! target directory the first time, and started by the test itself.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The last Azurite release that runs on Node.js 20 (3.36 needs 21).
const AZURITE: &str = "azurite@3.35.0";

/// The emulator's well-known account and key (public, in Azure's docs).
pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite blob service; stopped when dropped.
pub struct Azurite {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Azurite {
    pub fn start() -> Azurite {
        let bin = install();
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("azurite.log")).unwrap();
        let child = Command::new(&bin)
            .args(["--blobHost", "127.0.0.1", "--blobPort"])
            .arg(port.to_string())
            .arg("--location")
            .arg(dir.path())
            .args([
                "--skipApiVersionCheck",
                "--loose",
                "--disableProductStyleUrl",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let server = Azurite {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "Azurite did not listen on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The blob endpoint, as object_store's emulator mode reads it from
    /// AZURITE_BLOB_STORAGE_URL.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Create a container (object_store cannot): a Put Container request
    /// signed with the emulator's shared key, sent by Node.js, which
    /// Azurite needs anyway.
    pub fn create_container(&self, name: &str) {
        let script = r#"
const http = require('http'), crypto = require('crypto');
const [port, account, key, container] = process.argv.slice(1);
const date = new Date().toUTCString(), version = '2021-08-06';
const toSign = ['PUT', '', '', '', '', '', '', '', '', '', '', '',
  'x-ms-date:' + date, 'x-ms-version:' + version,
  `/${account}/${account}/${container}\nrestype:container`].join('\n');
const sig = crypto.createHmac('sha256', Buffer.from(key, 'base64')).update(toSign, 'utf8').digest('base64');
const req = http.request({ host: '127.0.0.1', port, method: 'PUT',
  path: `/${account}/${container}?restype=container`,
  headers: { 'x-ms-date': date, 'x-ms-version': version, 'Content-Length': 0,
             Authorization: `SharedKey ${account}:${sig}` } }, res => {
  let body = ''; res.on('data', d => body += d);
  res.on('end', () => { if (res.statusCode !== 201) { console.error(res.statusCode, body); process.exit(1); } });
});
req.on('error', e => { console.error(e.message); process.exit(1); });
req.end();
"#;
        let out = Command::new("node")
            .arg("-e")
            .arg(script)
            .arg(self.port.to_string())
            .args([ACCOUNT, KEY, name])
            .output()
            .expect("node runs (Azurite needs it too)");
        assert!(
            out.status.success(),
            "creating container {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The environment that points object_store's emulator mode here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![("AZURITE_BLOB_STORAGE_URL", self.endpoint())]
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `azurite-blob`, installed from npm into the target directory if it is
/// not there yet.
fn install() -> PathBuf {
    let prefix = Path::new(env!("CARGO_TARGET_TMPDIR")).join("azurite");
    let bin = prefix.join("node_modules/.bin/azurite-blob");
    if bin.is_file() {
        return bin;
    }
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&prefix)
        .arg(AZURITE)
        .output()
        .unwrap_or_else(|e| {
            panic!("npm is needed to install Azurite ({e}); scripts/test.sh installs it")
        });
    assert!(
        out.status.success(),
        "npm install {AZURITE} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(bin.is_file(), "npm installed no {}", bin.display());
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
