//! Advisory file locks with a timeout: shared for readers, exclusive for
//! writers. The lock is released when the guard is dropped, and by the
//! kernel when a process dies, so a `kill -9` never leaves a stale lock.

use std::fs::{self, File};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, IoContext, RepoError, Result};

/// Holds a lock until dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

/// Lock `path` (created if needed), waiting up to `timeout`.
pub fn acquire(path: &Path, exclusive: bool, timeout: Duration) -> Result<FileLock> {
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .at("open lock file", path)?;
    let start = Instant::now();
    loop {
        let got = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match got {
            Ok(()) => return Ok(FileLock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => {
                if start.elapsed() >= timeout {
                    return Err(Error::Repo(RepoError::Locked {
                        path: path.to_path_buf(),
                        waited_secs: timeout.as_secs(),
                    }));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(fs::TryLockError::Error(source)) => {
                return Err(Error::Io {
                    op: "lock",
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
    }
}
