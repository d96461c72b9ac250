//! `loudqc check PATH...`: argument parsing, the per-file loop, output and exit codes.
//!
//! Exit codes (as ripgrep): 0 every file passes; 1 at least one file fails its spec; 2 at least
//! one file could not be analysed, or the usage was wrong. A closed stdout (`| head`) is not an
//! error. Interrupted batches exit with 128 + the signal (see [`batch`]).

mod args;
mod batch;
mod output;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Check(mut args) => {
            let batch_args = std::mem::take(&mut args.batch);
            let (opts, files, format, jobs) = match args.validate() {
                Ok(v) => v,
                Err(msg) => {
                    eprintln!("loudqc: {msg}");
                    return ExitCode::from(2);
                }
            };
            batch::run(files, batch_args, &opts, format, jobs)
        }
    }
}
