//! `rvc run NAME -- CMD [ARGS...]`: run a training command, keep its
//! output and system metrics, and lock the run when it ends, whatever way
//! it ends.
//!
//! - The command inherits stdin. Its stdout and stderr each go through a
//!   pseudo-terminal when rvc's own is a terminal (so progress bars and
//!   colours still work), else through a pipe. rvc copies both to its own
//!   stdout and stderr and into one combined log, kept as a stored object.
//! - A [`Sampler`] records system metrics every `sample_every`.
//! - When it ends, the run is locked as `rvc lock` would, with a
//!   `[process]` table (command, directory, status, exit code or signal,
//!   log) and a `[system]` table (the series, with mean and peak). A failed
//!   or interrupted run is locked too: failures are worth keeping.
//! - Stop signals: the binary's handler calls
//!   [`interrupt::child_signal`](crate::io::interrupt::child_signal), which
//!   passes SIGTERM, and a SIGINT sent to rvc alone, on to the command. A
//!   Ctrl-C at the terminal reaches the command directly.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::record::{self, Execution, LockOptions, LockReport};
use super::system::Sampler;
use super::{Process, Status, System};
use crate::error::{Error, Result, RunError};
use crate::io::progress::Progress;
use crate::repository::Repo;

/// What to run and how to record it.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The name, paths and flags, as for `rvc lock`.
    pub lock: LockOptions,
    /// The program and its arguments.
    pub command: Vec<String>,
    /// Seconds between system samples (at least 1).
    pub sample_every: Duration,
}

/// What `rvc run` did.
#[derive(Debug)]
pub struct RunReport {
    pub status: Status,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub seconds: f64,
    /// The lock of the run, or why it failed (the command's result above
    /// stands either way).
    pub lock: Result<LockReport>,
}

impl RunReport {
    /// The exit code `rvc run` should end with: the command's own, or
    /// 128 + the signal that ended it, as a shell reports it.
    pub fn exit_code(&self) -> i32 {
        match (self.exit_code, self.signal) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            (None, None) => 1,
        }
    }
}

/// Run the command, then lock the run. An error before the command starts
/// (a taken name, a command that cannot start) writes nothing.
pub fn run(
    repo: &Repo,
    cwd: &Path,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<RunReport> {
    let name = opts.lock.name.clone();
    record::check_new(repo, &name, opts.lock.force)?;
    let Some((program, args)) = opts.command.split_first() else {
        return Err(Error::Run(RunError::NoCommand));
    };
    // The log grows in .rvc/state/ while the command runs, so a crash of
    // rvc itself still leaves it there.
    let state = repo.rvc_dir().join("state");
    std::fs::create_dir_all(&state).map_err(|source| Error::Io {
        op: "create directory",
        path: state.clone(),
        source,
    })?;
    remove_orphan_logs(&state);
    let log_file = tempfile::Builder::new()
        .prefix(&format!("{LOG_PREFIX}{}-", std::process::id()))
        .tempfile_in(&state)
        .map_err(|source| Error::Io {
            op: "create a file in",
            path: state.clone(),
            source,
        })?;
    let log = Arc::new(Mutex::new(log_file.reopen().map_err(|source| {
        Error::Io {
            op: "open",
            path: log_file.path().to_path_buf(),
            source,
        }
    })?));

    let out = Capture::new(libc::STDOUT_FILENO)?;
    let err = Capture::new(libc::STDERR_FILENO)?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .env("RVC_RUN_NAME", &name)
        .stdin(Stdio::inherit())
        .stdout(out.child_end()?)
        .stderr(err.child_end()?);
    let started_at = SystemTime::now();
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| {
        Error::Run(RunError::CannotStart {
            command: program.clone(),
            reason: match e.kind() {
                std::io::ErrorKind::NotFound => "no such program (check the name and PATH)".into(),
                std::io::ErrorKind::PermissionDenied => "it is not executable".into(),
                _ => e.to_string(),
            },
        })
    })?;
    // The child holds its ends now; ours must close so the copies end.
    drop(cmd);
    let pid = child.id() as i32;
    let forwarder = Forwarder::start(child.id());
    let copiers = [
        out.copy_to(libc::STDOUT_FILENO, log.clone()),
        err.copy_to(libc::STDERR_FILENO, log.clone()),
    ];
    let sampler = Sampler::start(child.id(), opts.sample_every);

    // Wait for the exit without reaping, so no signal is passed on to a
    // process id the system has given to someone else.
    wait_for_exit(pid);
    forwarder.finish();
    let status = child.wait().map_err(|source| Error::Io {
        op: "wait for",
        path: program.into(),
        source,
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let ended_at = SystemTime::now();
    let sampled = sampler.finish();
    // A process the command left running in the background may hold its
    // output open: wait for the copies, but not for ever.
    let deadline = Instant::now() + Duration::from_secs(2);
    for c in copiers {
        c.finish(deadline);
    }

    use std::os::unix::process::ExitStatusExt;
    let exit_code = status.code();
    let signal = status.signal();
    let stop = crate::io::interrupt::child_signal_received();
    let how = match (exit_code, signal, stop) {
        (Some(0), _, _) => Status::Succeeded,
        (_, Some(_), _) | (_, _, Some(_)) => Status::Interrupted,
        _ => Status::Failed,
    };
    let rel_cwd = cwd
        .strip_prefix(repo.root())
        .ok()
        .map(|p| p.display().to_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| ".".into());
    let execution = Execution {
        process: Process {
            command: opts.command.clone(),
            cwd: rel_cwd,
            status: how,
            exit_code,
            signal: signal.map(signal_name),
            seconds: (seconds * 1000.0).round() / 1000.0,
            log: None,
            log_bytes: 0,
        },
        log_file: Some(log_file.path().to_path_buf()),
        system: System {
            every: opts.sample_every.as_secs(),
            samples: sampled.samples,
            gpus: sampled.gpus,
            series: None,
            mean: sampled.mean,
            peak: sampled.peak,
        },
        samples: sampled.series,
        started: super::rfc3339(started_at),
        ended: super::rfc3339(ended_at),
    };
    let mut lock_opts = opts.lock.clone();
    lock_opts.execution = Some(execution);
    let lock = record::lock(repo, cwd, &lock_opts, progress);
    drop(log_file);
    Ok(RunReport {
        status: how,
        exit_code,
        signal,
        seconds,
        lock,
    })
}

/// Passes stop signals left by the binary's handler on to the command and
/// every process below it, as a Ctrl-C at the terminal reaches them all: a
/// shell running the command waits for its own child before it acts on a
/// SIGINT sent to it alone. Runs until the command has exited (not yet
/// reaped, so no process id in its tree can have been given away).
struct Forwarder {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Forwarder {
    fn start(pid: u32) -> Forwarder {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = done.clone();
        let thread = std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                if let Some(signal) = crate::io::interrupt::take_forward() {
                    for p in super::system::descendants(pid) {
                        // SAFETY: kill(2) with a pid of the command's tree,
                        // read just now from /proc.
                        unsafe {
                            libc::kill(p as i32, signal);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Forwarder { done, thread }
    }

    fn finish(self) {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = self.thread.join();
    }
}

/// Logs in progress are `.rvc/state/run-log-<pid>-<random>`.
const LOG_PREFIX: &str = "run-log-";

/// Remove the logs of `rvc run`s that were killed (`kill -9` leaves its log
/// behind). Other runs may be going on in the same repository, so only a
/// log whose process is gone is removed.
fn remove_orphan_logs(state: &Path) {
    let Ok(rd) = std::fs::read_dir(state) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(LOG_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Block until the process `pid` has exited, leaving it to be reaped.
fn wait_for_exit(pid: i32) {
    loop {
        // SAFETY: waitid writes only into `info`, which it is given; with
        // WNOWAIT the child stays a zombie until `Child::wait` reaps it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

/// `SIGINT` for 2, and so on; `signal 42` for one without a name here.
pub fn signal_name(signal: i32) -> String {
    match signal {
        libc::SIGHUP => "SIGHUP".into(),
        libc::SIGINT => "SIGINT".into(),
        libc::SIGQUIT => "SIGQUIT".into(),
        libc::SIGILL => "SIGILL".into(),
        libc::SIGABRT => "SIGABRT".into(),
        libc::SIGBUS => "SIGBUS".into(),
        libc::SIGFPE => "SIGFPE".into(),
        libc::SIGKILL => "SIGKILL".into(),
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGPIPE => "SIGPIPE".into(),
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGUSR1 => "SIGUSR1".into(),
        libc::SIGUSR2 => "SIGUSR2".into(),
        other => format!("signal {other}"),
    }
}

/// One of the command's output streams: a pseudo-terminal when rvc's own
/// stream is a terminal, else a pipe.
struct Capture {
    /// What rvc reads.
    ours: File,
    /// What the command writes to, until it is handed over.
    theirs: Option<OwnedFd>,
}

impl Capture {
    fn new(fd: i32) -> Result<Capture> {
        // SAFETY: isatty only inspects the descriptor.
        let tty = unsafe { libc::isatty(fd) } == 1;
        let (ours, theirs) = if tty {
            open_pty(fd)
        } else {
            std::io::pipe().map(|(r, w)| (OwnedFd::from(r), OwnedFd::from(w)))
        }
        .map_err(|source| Error::Io {
            op: "set up output capture for",
            path: "the command".into(),
            source,
        })?;
        Ok(Capture {
            ours: File::from(ours),
            theirs: Some(theirs),
        })
    }

    fn child_end(&self) -> Result<Stdio> {
        let fd = self.theirs.as_ref().expect("handed over once");
        let dup = fd.try_clone().map_err(|source| Error::Io {
            op: "set up output capture for",
            path: "the command".into(),
            source,
        })?;
        Ok(Stdio::from(dup))
    }

    /// Copy everything the command writes to `fd` and to the log, on a
    /// thread, until the command's end closes.
    fn copy_to(mut self, fd: i32, log: Arc<Mutex<File>>) -> Copier {
        drop(self.theirs.take());
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // SAFETY: the descriptor is rvc's own stdout or stderr, open for
            // the whole process; ManuallyDrop keeps it from being closed.
            let mut target = std::mem::ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match self.ours.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        let _ = target.write_all(&buf[..n]);
                        if let Ok(mut l) = log.lock() {
                            let _ = l.write_all(&buf[..n]);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    // A pseudo-terminal says EIO once the command's side
                    // is closed: that is the end of its output.
                    Err(_) => break,
                }
            }
            let _ = target.flush();
            let _ = done_tx.send(());
        });
        Copier { done }
    }
}

/// A copy in progress.
struct Copier {
    done: std::sync::mpsc::Receiver<()>,
}

impl Copier {
    /// Wait for the copy to end, until `deadline` at the latest.
    fn finish(self, deadline: Instant) {
        let _ = self
            .done
            .recv_timeout(deadline.saturating_duration_since(Instant::now()));
    }
}

/// A pseudo-terminal pair whose size is that of the terminal on `like`,
/// with output processing off so the log holds the bytes as written.
fn open_pty(like: i32) -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut master = -1;
    let mut slave = -1;
    // SAFETY: the winsize is filled by ioctl (or stays zeroed), and openpty
    // writes only the two descriptors it is given.
    unsafe {
        let mut size: libc::winsize = std::mem::zeroed();
        libc::ioctl(like, libc::TIOCGWINSZ, &mut size);
        if libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    // SAFETY: openpty returned two new descriptors that nothing else owns.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    // SAFETY: termios is plain data, read and written for the descriptor.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(slave.as_raw_fd(), &mut t) == 0 {
            t.c_oflag &= !libc::OPOST;
            libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &t);
        }
    }
    Ok((master, slave))
}
