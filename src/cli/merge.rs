//! `loudqc merge OUTPUT...`: the JSON Lines outputs of a sharded batch → one file, checked
//! against the plan the shards wrote ([`loudqc::batch::merge`]).
//!
//! Exit codes: 0 every program of the plan exactly once and all pass; 1 a program or a shard is
//! missing, a program is duplicated or unplanned, the shards disagree about the plan, or a
//! program fails its spec; 2 an output cannot be read or written, an input has no plan line
//! (not the output of `loudqc check --shard`), or a program could not be analysed. The merged
//! file is written in every case where it can be, so a partial result is still usable.

use std::io::{self, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use loudqc::batch::merge::Merger;
use loudqc::report::{html, FileReport};

use super::args::OutputFormat;
use super::output::{write_csv, Sink};

/// `loudqc merge` arguments.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' JSON Lines outputs (`loudqc check --shard … --output results-%k.jsonl`).
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<PathBuf>,

    /// Write the merged JSON Lines to FILE (default: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write a CSV summary to FILE, one row per program.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Also write an HTML report to FILE (timelines only if the shards ran with --timeline).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

fn list(items: &[String], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        s.push_str(&format!(", … ({} more)", items.len() - max));
    }
    s
}

/// Run `loudqc merge`.
pub fn run(a: MergeArgs) -> ExitCode {
    let mut merger = Merger::new();
    for p in &a.inputs {
        if a.output.as_deref() == Some(p.as_path()) {
            eprintln!(
                "loudqc merge: -o {} is one of the inputs; write the merge to a new file",
                p.display()
            );
            return ExitCode::from(2);
        }
        let read = std::fs::File::open(p)
            .and_then(|f| merger.add(&p.display().to_string(), BufReader::new(f)));
        if let Err(e) = read {
            eprintln!("loudqc merge: {}: cannot read: {e}", p.display());
            return ExitCode::from(2);
        }
    }
    let m = merger.finish();
    let mut code = m.verdict_code();
    let say = |s: String| eprintln!("loudqc merge: {s}");
    for (out, n) in &m.bad_lines {
        say(format!(
            "{out}: line {n} is not a record (cut by a kill? run that shard again with --resume)"
        ));
    }
    if m.shards_seen.is_empty() {
        say(format!(
            "no plan line in {} input(s): these are not outputs of `loudqc check --shard … \
             --output FILE` (or --format json), so the plan cannot be checked",
            a.inputs.len()
        ));
        return ExitCode::from(2);
    }
    for c in &m.conflicts {
        say(format!("PLAN CONFLICT: {c}"));
    }
    if !m.shards_missing.is_empty() {
        let ks: Vec<String> = m
            .shards_missing
            .iter()
            .map(|k| format!("{k}/{}", m.shard_count))
            .collect();
        say(format!(
            "MISSING SHARD(S) {}: no output with their plan line; their {} program(s) are missing",
            ks.join(", "),
            m.missing_unlisted
        ));
    }
    if !m.missing.is_empty() {
        say(format!(
            "MISSING {} program(s) of the plan: {}",
            m.missing.len(),
            list(&m.missing, 20)
        ));
    }
    for (name, outs) in &m.duplicates {
        say(format!("DUPLICATE {name}: in {}", outs.join(" and ")));
    }
    if !m.unplanned.is_empty() {
        say(format!(
            "UNPLANNED {} record(s) not in any shard's plan: {}",
            m.unplanned.len(),
            list(&m.unplanned, 20)
        ));
    }
    let complete = m.complete();
    if !complete {
        code = code.max(1);
    }

    let mut write_failed = false;
    let mut sink = match &a.output {
        None => Sink::Stdout(OutputFormat::Json),
        Some(p) => match Sink::atomic(p) {
            Ok(s) => s,
            Err(e) => {
                say(format!("-o {}: {e}", p.display()));
                return ExitCode::from(2);
            }
        },
    };
    for r in &m.records {
        if let Err(e) = sink.write(r) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return ExitCode::from(code);
            }
            say(format!("cannot write the records: {e}"));
            return ExitCode::from(2);
        }
    }
    if let Err(e) = sink.finish() {
        say(format!("cannot finish the output: {e}"));
        return ExitCode::from(2);
    }
    if let Some(p) = &a.csv {
        let rows: Vec<&FileReport> = m.records.iter().collect();
        if let Err(e) = write_csv(p, &rows) {
            say(format!("--csv {}: {e}", p.display()));
            write_failed = true;
        }
    }
    if let Some(p) = &a.html {
        let written = std::fs::File::create(p).and_then(|f| {
            let mut w = io::BufWriter::new(f);
            html::write_html(&mut w, &m.records)?;
            w.flush()
        });
        if let Err(e) = written {
            say(format!(
                "--html {}: cannot write the report: {e}",
                p.display()
            ));
            write_failed = true;
        }
    }
    if write_failed {
        code = 2;
    }
    let (mut pass, mut fail, mut error) = (0, 0, 0);
    for r in &m.records {
        match r.verdict {
            loudqc::report::Verdict::Pass => pass += 1,
            loudqc::report::Verdict::Fail => fail += 1,
            loudqc::report::Verdict::Error => error += 1,
        }
    }
    say(format!(
        "{} output(s), shards {} of {}, {} programs in the plan: {}; {} records: {pass} pass, \
         {fail} fail, {error} error{}",
        a.inputs.len(),
        m.shards_seen.len(),
        m.shard_count,
        m.plan_programs,
        if complete {
            "every program exactly once".to_string()
        } else {
            "INCOMPLETE".to_string()
        },
        m.records.len(),
        if m.superseded > 0 {
            format!(
                "; {} earlier record(s) replaced by a re-check",
                m.superseded
            )
        } else {
            String::new()
        }
    ));
    ExitCode::from(code)
}
