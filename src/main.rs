//! The `rvc` binary: everything happens in `cli`, which calls the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
