//! Argument parsing, rendering and exit codes. The work happens in the
//! library; each subcommand lives in its own file here.

mod add;
mod checkout;
mod diff;
mod du;
mod errors;
mod fsck;
mod gc;
mod hash;
mod hooks;
mod import;
mod init;
mod json;
mod lock;
mod ls;
mod output;
mod remote;
mod run;
mod runs;
mod show;
mod status;
mod transfer;
mod which;

// Drawing runs (issue 7), apart from the list above to keep merges easy.
mod plots;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use rvc::repository::settings::Overrides;
use rvc::Error;

pub use errors::{EXIT_CORRUPT, EXIT_FAILURE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE};

#[derive(Parser)]
#[command(
    name = "rvc",
    version,
    about = "Content-addressed versioning for datasets, checkpoints and training runs"
)]
struct Cli {
    /// Run as if rvc was started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create .rvc/ in the current directory.
    Init(init::Args),
    /// Hash and store files or directories, and write PATH.rvc pointers.
    Add(add::Args),
    /// Show how tracked paths differ from their pointers.
    Status(status::Args),
    /// Restore tracked paths, or any stored file or dataset by id.
    Checkout(checkout::Args),
    /// Print ids (file id, tree id, rows hash) without storing anything.
    Hash(hash::Args),
    /// List tracked paths, or the files of a stored dataset.
    Ls(ls::Args),
    /// Show logical and stored bytes, and the dedup ratio.
    Du(du::Args),
    /// Delete stored objects that nothing references.
    Gc(gc::Args),
    /// Re-hash every stored object and report what is corrupt or missing.
    Fsck(fsck::Args),
    /// Record a run: its code, data, params, outputs, metrics and environment.
    Lock(lock::Args),
    /// Run a command and record it as a run: its log, exit status and system metrics too.
    Run(run::Args),
    /// List runs with their commit, data, params and final metrics.
    Runs(runs::Args),
    /// Draw runs' curves, a comparison table and their lineage as one HTML page (or one SVG/PNG chart).
    Plots(plots::Args),
    /// Show everything one run's lockfile records.
    Show(show::Args),
    /// Compare two runs: code, data, params, environment and metrics.
    Diff(diff::Args),
    /// Find the runs that read or produced a file, directory or id.
    Which(which::Args),
    /// Configure remotes: add, list, remove, default.
    Remote(remote::Args),
    /// Upload to a remote the objects it lacks.
    Push(transfer::Args),
    /// Download from a remote the objects the local store lacks.
    Fetch(transfer::Args),
    /// Fetch, then check out the fetched paths.
    Pull(transfer::PullArgs),
    /// Install or remove rvc's git hooks.
    Hooks(hooks::Args),
    /// Run one git hook's check (what the installed hooks call).
    Hook(hooks::HookArgs),
    /// Bring data and runs over from another tool: `rvc import dvc`.
    Import(import::Args),
}

/// Open the repository around `cwd`, with the environment over its config
/// files.
fn open_repo(cwd: &Path) -> rvc::Result<rvc::Repo> {
    open_repo_with(cwd, Overrides::default())
}

/// Open the repository around `cwd`, with `flags` and the environment over
/// its config files. This is the one place the CLI reads rvc's settings
/// from the environment.
fn open_repo_with(cwd: &Path, flags: Overrides) -> rvc::Result<rvc::Repo> {
    let env = Overrides::from_environment(|var| std::env::var(var).ok())?;
    let overrides = Overrides {
        lock_timeout: env.lock_timeout,
        unsigned_payload: env.unsigned_payload,
        ..flags
    };
    rvc::Repo::discover_with(cwd, &overrides)
}

/// What a subcommand returns: success, or an exit code it has already
/// explained to the user.
pub type CmdResult = Result<ExitCode, Error>;

pub fn run() -> ExitCode {
    install_signal_handlers();
    std::panic::set_hook(Box::new(|info| {
        // The Parquet and Arrow decoders can panic on a malformed file:
        // the library catches that and reports the file instead.
        if rvc::format::table::decoding() {
            return;
        }
        eprintln!("error: internal error in rvc: {info}");
        eprintln!("hint: this is a bug; please report it with the command you ran");
        std::process::exit(EXIT_INTERNAL as i32);
    }));
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    // Whether the subcommand was asked for JSON: its errors are JSON too.
    let json = matches.subcommand().is_some_and(|(_, sub)| {
        sub.try_get_one::<bool>("json")
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false)
    });
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let cwd = match cli.dir {
        Some(d) => d,
        None => match std::env::current_dir() {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: cannot read the current directory: {e}");
                return ExitCode::from(EXIT_FAILURE);
            }
        },
    };
    let result = match cli.command {
        Command::Init(a) => init::run(&cwd, a),
        Command::Add(a) => add::run(&cwd, a),
        Command::Status(a) => status::run(&cwd, a),
        Command::Checkout(a) => checkout::run(&cwd, a),
        Command::Hash(a) => hash::run(&cwd, a),
        Command::Ls(a) => ls::run(&cwd, a),
        Command::Du(a) => du::run(&cwd, a),
        Command::Gc(a) => gc::run(&cwd, a),
        Command::Fsck(a) => fsck::run(&cwd, a),
        Command::Lock(a) => lock::run(&cwd, a),
        Command::Run(a) => run::run(&cwd, a),
        Command::Runs(a) => runs::run(&cwd, a),
        Command::Plots(a) => plots::run(&cwd, a),
        Command::Show(a) => show::run(&cwd, a),
        Command::Diff(a) => diff::run(&cwd, a),
        Command::Which(a) => which::run(&cwd, a),
        Command::Remote(a) => remote::run(&cwd, a),
        Command::Push(a) => transfer::push(&cwd, a),
        Command::Fetch(a) => transfer::fetch(&cwd, a),
        Command::Pull(a) => transfer::pull(&cwd, a),
        Command::Hooks(a) => hooks::install(&cwd, a),
        Command::Hook(a) => hooks::run(&cwd, a),
        Command::Import(a) => import::run(&cwd, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if json {
                errors::print_json(&e);
            } else {
                errors::print(&e);
            }
            ExitCode::from(errors::exit_code(&e))
        }
    }
}

fn install_signal_handlers() {
    // SAFETY: restoring the default SIGPIPE disposition makes `rvc ... | head`
    // end quietly, as other command-line tools do. The SIGBUS handler only
    // calls async-signal-safe functions (write, _exit).
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::signal(libc::SIGBUS, on_sigbus as *const () as libc::sighandler_t);
    }
}

/// For commands whose library work checks [`rvc::io::interrupt`] (`add`,
/// `lock`): Ctrl-C and SIGTERM then stop them at a safe point. Other
/// commands keep the default, so Ctrl-C ends them at once; they are safe
/// to kill at any point.
pub fn stop_gracefully_on_signals() {
    // SAFETY: the handler only calls async-signal-safe functions (write,
    // _exit, atomic loads and stores).
    unsafe {
        libc::signal(libc::SIGINT, on_stop as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_stop as *const () as libc::sighandler_t);
    }
}

/// For `rvc run`: Ctrl-C and SIGTERM are for the command it runs. SIGTERM,
/// and a SIGINT sent to rvc alone (by `kill`), are passed on to it; a
/// Ctrl-C at the terminal reaches it directly, in the same process group.
/// rvc itself keeps going, to lock the run however it ended. A third stop
/// signal quits rvc at once.
pub fn pass_stop_signals_to_the_child() {
    // SAFETY: the handler only calls async-signal-safe functions (kill,
    // write, _exit, atomics); sigaction is given a zeroed struct it owns.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_run_signal as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
    }
}

extern "C" fn on_run_signal(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let sent_by_kill = !info.is_null() && unsafe { (*info).si_code } == libc::SI_USER;
    let forward = signal == libc::SIGTERM || sent_by_kill;
    let count = rvc::io::interrupt::child_signal(signal, forward);
    if count >= 3 {
        // SAFETY: _exit(2) is async-signal-safe.
        unsafe { libc::_exit(EXIT_INTERRUPTED as i32) };
    }
}

/// When the first stop signal arrived, in milliseconds of the monotonic clock.
static FIRST_STOP_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Milliseconds of the monotonic clock. Async-signal-safe.
fn monotonic_ms() -> u64 {
    // SAFETY: clock_gettime is async-signal-safe and writes only `t`.
    let mut t: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    t.tv_sec as u64 * 1000 + t.tv_nsec as u64 / 1_000_000
}

/// Ctrl-C or SIGTERM: ask the work in progress to stop at its next safe
/// point (it keeps what is durable and removes its temporary files). A
/// second one quits at once; the next command that takes the repository
/// lock removes what that leaves in the store. A repeat within 250 ms is
/// the same stop delivered twice (`timeout` and process supervisors signal
/// both the process and its group), not a second request.
extern "C" fn on_stop(_: libc::c_int) {
    use std::sync::atomic::Ordering;
    let now = monotonic_ms();
    if rvc::io::interrupt::requested() {
        if now.saturating_sub(FIRST_STOP_MS.load(Ordering::SeqCst)) < 250 {
            return;
        }
        // SAFETY: _exit(2) is async-signal-safe.
        unsafe { libc::_exit(EXIT_INTERRUPTED as i32) };
    }
    FIRST_STOP_MS.store(now, Ordering::SeqCst);
    rvc::io::interrupt::request();
    const MSG: &[u8] =
        b"\nstopping after the work in progress (press Ctrl-C again to quit at once)\n";
    // SAFETY: write(2) is async-signal-safe.
    unsafe {
        libc::write(2, MSG.as_ptr().cast(), MSG.len());
    }
}

extern "C" fn on_sigbus(_: libc::c_int) {
    const MSG: &[u8] =
        b"error: a file shrank while rvc was reading it (another program is writing to it)\n\
hint: nothing was stored from it; wait until the writer finishes and run the command again\n";
    // SAFETY: write(2) and _exit(2) are async-signal-safe.
    unsafe {
        libc::write(2, MSG.as_ptr().cast(), MSG.len());
        libc::_exit(EXIT_FAILURE as i32);
    }
}

/// Whether to draw progress bars.
fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}
