//! `rvc run NAME [FLAGS] -- CMD [ARGS...]`

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::lock::RecordArgs;
use super::output::{print_json, Bar};
use super::CmdResult;
use rvc::run::exec::RunOptions;

#[derive(clap::Args)]
pub struct Args {
    /// The run's name, e.g. run-42 or sweep-3/lr-1e-4 (a child of sweep-3).
    name: String,
    #[command(flatten)]
    record: RecordArgs,
    /// Seconds between samples of CPU, memory, disk, network and GPU.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    sample_every: u64,
    /// Print what was recorded as JSON (on stdout, after the command's own output).
    #[arg(long)]
    json: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<String>,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    let opts = RunOptions {
        lock: args.record.options(args.name),
        command: args.command,
        sample_every: Duration::from_secs(args.sample_every),
    };
    super::pass_stop_signals_to_the_child();
    let r = rvc::run::exec::run(&repo, cwd, &opts, &Bar::new())?;
    let signal = r.signal.map(rvc::run::exec::signal_name);
    let how = super::show::ending(r.exit_code, signal.as_deref());
    // rvc's own report goes to stderr: stdout is the command's.
    eprintln!(
        "{} {} after {:.1} s ({how})",
        opts.lock.name, r.status, r.seconds
    );
    let code = ExitCode::from(r.exit_code().clamp(0, 255) as u8);
    match r.lock {
        Ok(lock) => {
            if args.json {
                print_json(&super::json::RunCommand {
                    lock: super::json::Lock::of(&lock, super::lock::warnings(&lock)),
                    status: r.status,
                    exit_code: r.exit_code,
                    signal,
                    seconds: r.seconds,
                });
            } else {
                super::lock::render(&repo, &lock, &mut std::io::stderr().lock());
            }
            Ok(code)
        }
        Err(e) => {
            super::errors::print(&e);
            eprintln!(
                "hint: the command's output and samples were not recorded; lock what it left with `rvc lock {}`",
                opts.lock.name
            );
            Ok(ExitCode::from(super::EXIT_FAILURE))
        }
    }
}
