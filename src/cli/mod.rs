//! `loudqc check FILE...`: argument parsing, the per-file loop, output and exit codes.
//!
//! Exit codes (as ripgrep): 0 every file passes; 1 at least one file fails its spec; 2 at least
//! one file could not be analysed, or the usage was wrong. A closed stdout (`| head`) is not an
//! error.

mod args;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use rayon::prelude::*;

use loudqc::analyze::{check_path, AnalyzeOptions};
use loudqc::report::{html, json, text, FileReport, Verdict};

use args::{Cli, Command, OutputFormat};

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
        Command::Check(args) => {
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
            check(&files, &opts, format, jobs, &outputs)
        }
    }
}

/// Extra outputs of `check`.
struct Outputs {
    /// Write the HTML report here.
    html: Option<PathBuf>,
    /// Keep the timeline in the JSON output.
    timeline_json: bool,
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

fn check(
    files: &[PathBuf],
    opts: &AnalyzeOptions,
    format: OutputFormat,
    jobs: usize,
    outputs: &Outputs,
) -> ExitCode {
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("loudqc: cannot start {jobs} worker threads: {e}");
            return ExitCode::from(2);
        }
    };
    // Files are checked in parallel; reports are printed in input order.
    let mut html_failed = false;
    let mut reports: Vec<FileReport> =
        pool.install(|| files.par_iter().map(|f| check_path(f, opts)).collect());
    if let Some(path) = &outputs.html {
        let written = std::fs::File::create(path).and_then(|f| {
            let mut w = io::BufWriter::new(f);
            html::write_html(&mut w, &reports)?;
            w.flush()
        });
        if let Err(e) = written {
            // The reports still go to stdout; the exit code says something went wrong.
            eprintln!(
                "loudqc: --html {}: cannot write the report: {e}",
                path.display()
            );
            html_failed = true;
        }
    }
    if !outputs.timeline_json {
        for r in &mut reports {
            r.timeline = None;
        }
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut worst = if html_failed { 2 } else { 0u8 };
    for r in &reports {
        let res = match format {
            OutputFormat::Json => json::write_line(&mut out, r),
            OutputFormat::Text => text::write_report(&mut out, r),
        }
        .and_then(|_| out.flush());
        if let Err(e) = res {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("loudqc: cannot write the report: {e}");
            return ExitCode::from(2);
        }
        if let (Some(err), OutputFormat::Json) = (&r.error, format) {
            // JSON consumers read stdout; people still want the problem on stderr.
            eprintln!("loudqc: {}", err.message);
        }
        worst = worst.max(match r.verdict {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Error => 2,
        });
    }
    ExitCode::from(worst)
}
