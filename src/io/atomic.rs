//! Writing files so that a crash leaves either the old content or the new,
//! never a mix: a uniquely named temporary file, synced, then renamed.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, IoContext, Result};

/// Every temporary file rvc writes is named `.rvc-tmp-<pid>-<n>-<hex>`, so
/// a cleanup after a crash can tell them from data.
pub(crate) const TEMP_PREFIX: &str = ".rvc-tmp-";

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Create a new, uniquely named temporary file in `dir` with `mode`
/// (before the umask). A 0o444 file is still writable through the handle.
pub(crate) fn create_temp(dir: &Path, mode: u32) -> Result<(PathBuf, File)> {
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = dir.join(format!("{TEMP_PREFIX}{}-{n}-{nanos:x}", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => {
                return Err(Error::Io {
                    op: "create a file in",
                    path: dir.to_path_buf(),
                    source,
                })
            }
        }
    }
}

/// Replace `path` with `bytes` atomically: temp file, sync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let (tmp_path, mut f) = create_temp(dir, 0o666)?;
    let result = f
        .write_all(bytes)
        .and_then(|()| f.sync_data())
        .at("write", &tmp_path)
        .and_then(|()| fs::rename(&tmp_path, path).at("replace", path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp_path);
    }
    result
}

/// Whether `name` is exactly one of rvc's temporary file names. Scans of the
/// workspace skip such files, and `checkout` removes leftovers of a killed
/// process; a user file that merely starts with the prefix is data.
pub fn is_temp_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(TEMP_PREFIX) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('-').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let hex = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    matches!(parts.as_slice(), [pid, n, t] if digits(pid) && digits(n) && hex(t))
}
