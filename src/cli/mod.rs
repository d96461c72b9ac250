//! `loudqc check PATH...`: argument parsing, the per-file loop, output and exit codes.
//!
//! Exit codes (as ripgrep): 0 every file passes; 1 at least one file fails its spec; 2 at least
//! one file could not be analysed, or the usage was wrong. A closed stdout (`| head`) is not an
//! error. Interrupted batches exit with 128 + the signal (see [`batch`]).

mod args;
mod batch;
mod merge;
mod output;
mod sync;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command, SpecCommand};

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
            let (html, timeline_json) = (args.html.clone(), args.timeline);
            let (opts, files, format, jobs) = match args.validate() {
                Ok(v) => v,
                Err(msg) => {
                    eprintln!("loudqc: {msg}");
                    return ExitCode::from(2);
                }
            };
            if let Some(h) = &html {
                if let Err(msg) = check_html_path(h, &files) {
                    eprintln!("loudqc: {msg}");
                    return ExitCode::from(2);
                }
            }
            let outputs = Outputs {
                html,
                timeline_json,
            };
            batch::run(files, batch_args, &opts, format, jobs, &outputs)
        }
        Command::Merge(args) => merge::run(args),
        Command::Sync(args) => sync::run(args),
        Command::Spec(cmd) => spec_command(cmd),
    }
}

/// `loudqc spec list|show`.
fn spec_command(cmd: SpecCommand) -> ExitCode {
    use loudqc::spec::Profile;
    match cmd {
        SpecCommand::List => {
            for name in Profile::NAMES {
                let p = Profile::by_name(name).expect("built-in");
                println!("{name:<16} {}", p.describe());
            }
            ExitCode::SUCCESS
        }
        SpecCommand::Show { name } => {
            let profile = match Profile::by_name(&name) {
                Some(p) => Ok(p),
                None if Path::new(&name).is_file() => {
                    Profile::from_file(Path::new(&name)).map_err(|e| e.to_string())
                }
                None => Err(format!(
                    "{name:?} is neither a built-in profile ({}) nor a spec file",
                    Profile::NAMES.join(", ")
                )),
            };
            match profile {
                Ok(p) => {
                    print!("{}", p.to_toml());
                    ExitCode::SUCCESS
                }
                Err(msg) => {
                    eprintln!("loudqc: spec show: {msg}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

/// Extra outputs of `check`.
pub(crate) struct Outputs {
    /// Write the HTML report here.
    pub(crate) html: Option<PathBuf>,
    /// Keep the timeline in the JSON output.
    pub(crate) timeline_json: bool,
}

/// The HTML report must not overwrite an input (loudqc never writes to its inputs).
fn check_html_path(html: &Path, files: &[PathBuf]) -> Result<(), String> {
    if html.is_dir() {
        return Err(format!(
            "--html {}: is a directory; give a file path, e.g. report.html",
            html.display()
        ));
    }
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    if let Some(h) = canon(html) {
        if files
            .iter()
            .any(|f| canon(f).as_deref() == Some(h.as_path()))
        {
            return Err(format!(
                "--html {}: is one of the input files; loudqc never writes to its inputs",
                html.display()
            ));
        }
    }
    Ok(())
}
