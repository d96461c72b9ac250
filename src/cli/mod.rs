//! `loudqc check FILE...`: argument parsing, the per-file loop, output and exit codes.
//!
//! Exit codes (as ripgrep): 0 every file passes; 1 at least one file fails its spec; 2 at least
//! one file could not be analysed, or the usage was wrong. A closed stdout (`| head`) is not an
//! error.

mod args;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use rayon::prelude::*;

use loudqc::analyze::{check_path, AnalyzeOptions};
use loudqc::imf::{is_imf_input, ImfBatch};
use loudqc::report::{json, text, FileReport, Verdict};

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
            let (opts, files, format, jobs) = match args.validate() {
                Ok(v) => v,
                Err(msg) => {
                    eprintln!("loudqc: {msg}");
                    return ExitCode::from(2);
                }
            };
            check(&files, &opts, format, jobs)
        }
    }
}

fn check(
    files: &[std::path::PathBuf],
    opts: &AnalyzeOptions,
    format: OutputFormat,
    jobs: usize,
) -> ExitCode {
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("loudqc: cannot start {jobs} worker threads: {e}");
            return ExitCode::from(2);
        }
    };
    // IMF packages and CPLs: one asset index over every package given (supplemental packages).
    let imf = ImfBatch::new(files, &opts.assetmaps);
    // Files are checked in parallel; reports are printed in input order. An IMF input gives
    // one report per (CPL, audio sequence).
    let per_input: Vec<Vec<FileReport>> = pool.install(|| {
        files
            .par_iter()
            .map(|f| {
                if is_imf_input(f) {
                    imf.check(f, opts)
                } else {
                    vec![check_path(f, opts)]
                }
            })
            .collect()
    });
    let reports: Vec<FileReport> = imf
        .assetmap_errors(&opts.profile)
        .into_iter()
        .chain(per_input.into_iter().flatten())
        .collect();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut worst = 0u8;
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
