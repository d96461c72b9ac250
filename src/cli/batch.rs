//! `loudqc check` over a whole batch: plan, parallel checks, ordered output, progress, summary,
//! signals and exit codes. The engine is [`loudqc::batch`]; this is the loop around it.
//!
//! Scheduling: `--jobs N` workers in a rayon pool each take the next program from a shared
//! counter (in input order), so the reorder buffer in front of the output stays small and the
//! output order is the input order for any N.
//!
//! Interruption: the first SIGINT or SIGTERM stops the batch — no new program starts, running
//! ones are abandoned within one block (they leave no record, and `--resume` checks them again),
//! every finished record is written, the output file is put in place, the summary printed, and
//! the exit code is 128 + the signal (130 for SIGINT, 143 for SIGTERM). A second signal ends the
//! process at once with that code.
//!
//! Exit codes over the whole batch (records resumed from `--output` included): 0 every program
//! passes; 1 at least one fails its spec; 2 at least one could not be analysed, or a usage or
//! output error; 130/143 interrupted. A closed stdout (`| head`) ends the batch with 0.
//!
//! Farms (issue 19): `--shard auto[/N]` takes K/N from the array job's environment
//! ([`loudqc::batch::shard`]); `%k`/`%n` in `--output`, `--csv` and `--html` become K and N;
//! with JSON output a sharded run writes its plan line first and stamps `engine.shard` on every
//! record ([`loudqc::report::plan`]), for `loudqc merge`. `--progress json` writes one JSON line
//! per finished program to stderr, and a summary event at the end.

use std::collections::BTreeMap;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use loudqc::analyze::{AnalyzeOptions, ProgressFn};
use loudqc::batch::resume::{truncate_partial_line, ResumeIndex};
use loudqc::batch::{check_unit, plan, Outcome, PlanOptions, Shard, ShardSpec, Unit};
use loudqc::imf::{is_imf_input, ImfBatch};
use loudqc::report::plan::{PlanLine, PlannedProgram, ShardInfo, ShardPlan};
use loudqc::report::{html, EngineInfo, FileReport, Verdict, SCHEMA_VERSION};

use super::args::OutputFormat;
use super::output::{write_csv, Sink};

/// Batch-mode flags of `loudqc check`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BatchArgs {
    /// Also check the paths listed in FILE, one a line (`-` = standard input).
    #[arg(long, value_name = "FILE")]
    pub paths_from: Option<PathBuf>,

    /// Check multi-mono files (Title_L.wav, Title_R.wav, …) one by one, not as one program.
    #[arg(long)]
    pub no_group: bool,

    /// Write JSON Lines to FILE instead of stdout (FILE appears when the batch ends).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write a CSV summary to FILE, one row per program.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Skip programs already in --output with the same size and mtime; append the others.
    #[arg(long, requires = "output")]
    pub resume: bool,

    /// Check only shard K of N (1-based; by a hash of each program's path) for array jobs;
    /// `auto` or `auto/N` takes K (and N) from SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or
    /// AWS_BATCH_JOB_ARRAY_INDEX. `%k`/`%n` in --output, --csv, --html become K and N.
    #[arg(long, value_name = "K/N|auto|auto/N")]
    pub shard: Option<ShardSpec>,

    /// Progress on stderr: auto (a bar when stderr is a terminal), bar, json (one JSON line
    /// per finished program, for wrappers), none.
    #[arg(long, value_enum, default_value_t = Progress::Auto, value_name = "HOW")]
    pub progress: Progress,
}

/// `--progress`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Progress {
    /// A bar when stderr is a terminal, nothing otherwise.
    #[default]
    Auto,
    /// Always a bar.
    Bar,
    /// One JSON object per finished program, and a summary object, on stderr.
    Json,
    /// Nothing but messages and the summary line.
    None,
}

/// `%k` → K, `%n` → N, `%%` → `%` in an output path; `%k`/`%n` need a shard.
fn expand_shard_pattern(flag: &str, p: &Path, shard: Option<Shard>) -> Result<PathBuf, String> {
    let Some(text) = p.to_str() else {
        return Ok(p.to_path_buf()); // not UTF-8: no pattern to expand
    };
    if !text.contains('%') {
        return Ok(p.to_path_buf());
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(m @ ('k' | 'n')) => {
                let Some(sh) = shard else {
                    return Err(format!(
                        "{flag} {text}: %{m} stands for the shard {}, but there is no --shard; \
                         add --shard K/N or --shard auto",
                        if m == 'k' { "index K" } else { "count N" }
                    ));
                };
                out.push_str(&(if m == 'k' { sh.index } else { sh.count }).to_string());
            }
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    Ok(PathBuf::from(out))
}

/// Round to milliseconds (progress events).
fn ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn verdict_code(v: Verdict) -> u8 {
    match v {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::Error => 2,
    }
}

fn read_path_list(from: &Path) -> io::Result<Vec<PathBuf>> {
    let reader: Box<dyn BufRead> = if from == Path::new("-") {
        Box::new(io::BufReader::new(io::stdin()))
    } else {
        Box::new(io::BufReader::new(std::fs::File::open(from)?))
    };
    let mut out = Vec::new();
    for line in reader.lines() {
        let line = line?;
        let p = line.strip_suffix('\r').unwrap_or(&line);
        if !p.trim().is_empty() {
            out.push(PathBuf::from(p));
        }
    }
    Ok(out)
}

/// Refuse an output path that is one of the inputs: loudqc never writes to its inputs.
fn clashes_with_input(out: &Path, units: &[Unit]) -> Option<PathBuf> {
    let canon = |p: &Path| {
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::canonicalize(parent)
            .ok()
            .map(|d| d.join(p.file_name().unwrap_or_default()))
    };
    let target = canon(out)?;
    let name = out.file_name()?;
    units
        .iter()
        .flat_map(|u| &u.members)
        .filter(|m| m.path.file_name() == Some(name))
        .find(|m| canon(&m.path) == Some(target.clone()))
        .map(|m| m.path.clone())
}

struct Tally {
    pass: usize,
    fail: usize,
    error: usize,
    audio_s: f64,
    written: usize,
}

impl Tally {
    fn add(&mut self, r: &FileReport) {
        match r.verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Error => self.error += 1,
        }
        if let Some(f) = &r.format {
            if f.duration_s.is_finite() {
                self.audio_s += f.duration_s;
            }
        }
    }
}

/// Run `loudqc check` over `files` and the batch flags.
pub fn run(
    mut files: Vec<PathBuf>,
    mut b: BatchArgs,
    opts: &AnalyzeOptions,
    format: OutputFormat,
    jobs: usize,
    outputs: &super::Outputs,
) -> ExitCode {
    let started = Instant::now();
    let usage = |msg: String| {
        eprintln!("loudqc: {msg}");
        ExitCode::from(2)
    };
    if let Some(from) = &b.paths_from {
        match read_path_list(from) {
            Ok(mut more) => files.append(&mut more),
            Err(e) => {
                return usage(format!(
                    "--paths-from {}: cannot read the path list: {e}",
                    from.display()
                ))
            }
        }
    }
    if files.is_empty() {
        return usage("no input paths: give files or folders, or --paths-from FILE".into());
    }
    // --shard auto: K/N from the array job's environment.
    let resolved = match b
        .shard
        .map(|s| s.resolve(&|k| std::env::var(k).ok()))
        .transpose()
    {
        Ok(r) => r,
        Err(msg) => return usage(msg),
    };
    let shard: Option<Shard> = resolved.as_ref().map(|r| r.shard);
    let stamp: Option<ShardInfo> = resolved.as_ref().map(|r| ShardInfo {
        index: r.shard.index,
        count: r.shard.count,
        source: r.source.clone(),
    });
    let html_path = match outputs
        .html
        .as_ref()
        .map(|p| expand_shard_pattern("--html", p, shard))
        .transpose()
    {
        Ok(p) => p,
        Err(msg) => return usage(msg),
    };
    for (flag, path) in [("--output", &mut b.output), ("--csv", &mut b.csv)] {
        if let Some(p) = path {
            match expand_shard_pattern(flag, p, shard) {
                Ok(e) => *p = e,
                Err(msg) => return usage(msg),
            }
        }
    }
    let progress_json = b.progress == Progress::Json;
    // IMF packages and CPL files are compositions, not folders of files: they give one record
    // per (CPL, audio sequence), written first, over one asset index of every package given.
    let (mut imf_inputs, files): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|f| is_imf_input(f));
    // IMF packages inside the folders given (a delivery folder holding IMPs) are compositions
    // too; the folder walk itself skips their MXF and XML files as non-audio.
    for dir in files.iter().filter(|f| f.is_dir()) {
        let mut nested: Vec<PathBuf> = walkdir::WalkDir::new(dir)
            .min_depth(1)
            .follow_links(true)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_dir() && is_imf_input(e.path()))
            .map(|e| e.into_path())
            .collect();
        nested.sort();
        imf_inputs.extend(nested);
    }
    let imf_given = imf_inputs.len();
    // A farm's shards split IMF inputs too (by the path as given, as files are split).
    if let Some(sh) = shard {
        imf_inputs.retain(|p| sh.contains(&p.display().to_string()));
    }
    let plan = plan(
        &files,
        &PlanOptions::new().with_group(!b.no_group).with_shard(shard),
    );
    if plan.skipped.total() > 0 {
        eprintln!(
            "loudqc: skipped {} files in folders that are not audio ({})",
            plan.skipped.total(),
            plan.skipped
        );
    }
    if plan.all_units == 0 && imf_given == 0 {
        return usage("no audio files found in the given paths".into());
    }
    for (flag, path) in [("--output", &b.output), ("--csv", &b.csv)] {
        if let Some(p) = path {
            if let Some(input) = clashes_with_input(p, &plan.units) {
                return usage(format!(
                    "{flag} {} is one of the inputs ({}); loudqc never writes to its inputs",
                    p.display(),
                    input.display()
                ));
            }
        }
    }

    // --resume: what is already in the output file.
    let mut index = ResumeIndex::default();
    if let (true, Some(out)) = (b.resume, &b.output) {
        let read = truncate_partial_line(out).and_then(|cut| {
            if cut > 0 {
                eprintln!(
                    "loudqc: {}: removed an incomplete last line ({cut} bytes) left by an interrupted run",
                    out.display()
                );
            }
            ResumeIndex::read(out, b.csv.is_some())
        });
        match read {
            Ok(i) => index = i,
            Err(e) => return usage(format!("--resume: cannot read {}: {e}", out.display())),
        }
    }
    let keys: Vec<_> = plan.units.iter().map(Unit::inputs).collect();
    let todo: Vec<usize> = (0..plan.units.len())
        .filter(|&i| !index.verdicts.contains_key(&keys[i]))
        .collect();
    let resumed = plan.units.len() - todo.len();

    let mut sink = match (&b.output, b.resume) {
        (None, _) => Sink::Stdout(format),
        (Some(p), false) => match Sink::atomic(p) {
            Ok(s) => s,
            Err(e) => return usage(format!("--output {}: {e}", p.display())),
        },
        (Some(p), true) => match Sink::append(p) {
            Ok(s) => s,
            Err(e) => return usage(format!("--output {}: {e}", p.display())),
        },
    };

    // A sharded batch's plan line, first (a resumed run writes it again only if it changed).
    if let Some(st) = &stamp {
        let line = PlanLine {
            plan: ShardPlan {
                schema_version: SCHEMA_VERSION,
                engine: EngineInfo {
                    shard: Some(st.clone()),
                    ..EngineInfo::default()
                },
                plan_programs: plan.all_units,
                plan_hash: ShardPlan::hash_text(plan.plan_hash),
                programs: plan
                    .units
                    .iter()
                    .zip(&plan.positions)
                    .map(|(u, &at)| PlannedProgram {
                        at,
                        file: u.name.clone(),
                    })
                    .collect(),
            },
        };
        if !(b.resume && index.last_plan.as_ref() == Some(&line.plan)) {
            if let Err(e) = sink.write_plan(&line) {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
                return usage(format!("cannot write the plan line: {e}"));
            }
        }
    }

    // Signals: the first sets `stop`; the second (with `stop` set) exits at once.
    let stop = Arc::new(AtomicBool::new(false));
    let signal = Arc::new(AtomicUsize::new(0));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let ok = signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, stop.clone())
            .and_then(|_| signal_hook::flag::register_usize(sig, signal.clone(), sig as usize))
            .and_then(|_| signal_hook::flag::register(sig, stop.clone()));
        if let Err(e) = ok {
            eprintln!("loudqc: cannot handle signal {sig}: {e}");
        }
    }

    let pool = match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(p) => p,
        Err(e) => return usage(format!("cannot start {jobs} worker threads: {e}")),
    };

    let total_bytes: u64 = todo.iter().map(|&i| plan.units[i].size_bytes()).sum();
    let bar = match b.progress {
        Progress::Auto => io::stderr().is_terminal(),
        Progress::Bar => true,
        Progress::Json | Progress::None => false,
    };
    let pb = if bar {
        let pb = ProgressBar::new(total_bytes.max(1));
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30.cyan/blue} {msg} · {elapsed} · ETA {eta}")
        {
            pb.set_style(style);
        }
        pb.set_message(format!("0/{} programs", todo.len()));
        pb.enable_steady_tick(Duration::from_millis(250));
        pb
    } else {
        ProgressBar::hidden()
    };

    // Bytes of each programme the bar has already been moved by (see the worker).
    let credited: Vec<Arc<AtomicU64>> = todo.iter().map(|_| Arc::new(AtomicU64::new(0))).collect();
    let credited = &credited;

    let mut tally = Tally {
        pass: 0,
        fail: 0,
        error: 0,
        audio_s: 0.0,
        written: 0,
    };
    let mut new_records: BTreeMap<usize, FileReport> = BTreeMap::new();
    let keep_for_csv = b.csv.is_some();
    let mut write_error: Option<io::Error> = None;
    let mut broken_pipe = false;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Outcome)>();

    // IMF records for the CSV summary (they are not programs of the plan).
    let mut imf_for_csv: Vec<FileReport> = Vec::new();
    let mut imf_record_count = 0usize;
    let mut imf_resumed: Vec<Verdict> = Vec::new();
    // Records for the HTML report (with their timelines), in output order.
    let mut for_html: Option<Vec<FileReport>> = html_path.as_ref().map(|_| Vec::new());
    if !imf_inputs.is_empty() {
        let imf = ImfBatch::new(&imf_inputs, &opts.assetmaps);
        let mut records: Vec<FileReport> = imf.assetmap_errors(&opts.profile);
        for input in &imf_inputs {
            // Compositions are checked one input at a time; a signal stops between them.
            if stop.load(Ordering::Relaxed) {
                break;
            }
            records.extend(pool.install(|| imf.check(input, opts)));
        }
        for r in &records {
            // --resume: a composition whose CPL and track files are unchanged is done.
            if b.resume && !r.inputs.is_empty() && index.verdicts.contains_key(&r.inputs) {
                imf_resumed.push(r.verdict);
                continue;
            }
            let mut r = r.clone();
            r.engine.shard = stamp.clone();
            if let Some(all) = &mut for_html {
                all.push(r.clone());
            }
            if !outputs.timeline_json {
                r.timeline = None;
            }
            let r = &r;
            if let Err(e) = sink.write(r) {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
                return usage(format!("cannot write the records: {e}"));
            }
            if let (Some(err), false) = (&r.error, matches!(sink, Sink::Stdout(OutputFormat::Text)))
            {
                eprintln!("loudqc: {}", err.message);
            }
            tally.add(r);
            imf_record_count += 1;
            if b.csv.is_some() {
                imf_for_csv.push(r.clone());
            }
        }
    }

    pool.in_place_scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, stop, todo, units, pb) = (&next, &stop, &todo, &plan.units, &pb);
            scope.spawn(move |_| loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = todo.get(k) else { break };
                let unit = &units[i];
                // The bar moves within a file as its audio is decoded (in bytes of the file).
                let size = unit.size_bytes();
                let (pb, credit) = (pb.clone(), credited[k].clone());
                let unit_opts = opts.clone().with_progress(Some(ProgressFn(Arc::new(
                    move |done: u64, total: Option<u64>| {
                        if let Some(t) = total.filter(|&t| t > 0) {
                            let want = (size as f64 * (done as f64 / t as f64).min(1.0)) as u64;
                            let before = credit.fetch_max(want, Ordering::Relaxed);
                            if want > before {
                                pb.inc(want - before);
                            }
                        }
                    },
                ))));
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    check_unit(unit, &unit_opts, stop)
                }))
                .unwrap_or_else(|_| {
                    let err = loudqc::Error::from(io::Error::other(
                        "internal error: loudqc panicked on this input (please report it)",
                    ))
                    .with_path(&unit.members[0].path);
                    let mut r = FileReport::from_error(&unit.name, &opts.profile, &err);
                    r.inputs = unit.inputs();
                    Outcome::Done(Box::new(r))
                });
                if tx.send((k, outcome)).is_err() {
                    break;
                }
            });
        }
        drop(tx);

        // Emit in order: hold finished records until those before them are written.
        let mut pending: BTreeMap<usize, Outcome> = BTreeMap::new();
        let mut emit_next = 0usize;
        let mut done_bytes = 0u64;
        let mut emit = |outcome: Outcome, k: usize, tally: &mut Tally| {
            let Outcome::Done(r) = outcome else { return };
            if write_error.is_some() || broken_pipe {
                return;
            }
            let unit = &plan.units[todo[k]];
            let mut r = r;
            r.engine.shard = stamp.clone();
            if let Some(all) = &mut for_html {
                all.push((*r).clone());
            }
            if !outputs.timeline_json {
                r.timeline = None;
            }
            if let Err(e) = sink.write(&r) {
                stop.store(true, Ordering::Relaxed);
                if e.kind() == io::ErrorKind::BrokenPipe {
                    broken_pipe = true;
                } else {
                    write_error = Some(e);
                }
                return;
            }
            tally.written += 1;
            tally.add(&r);
            if let (Some(err), true) = (&r.error, !matches!(sink, Sink::Stdout(OutputFormat::Text)))
            {
                // Machine output goes to stdout or a file; people still want problems on stderr.
                pb.suspend(|| eprintln!("loudqc: {}", err.message));
            }
            pb.inc(
                unit.size_bytes()
                    .saturating_sub(credited[k].load(Ordering::Relaxed)),
            );
            done_bytes += unit.size_bytes();
            if progress_json {
                // ETA as the bar's: by bytes, at this run's pace so far.
                let elapsed_s = started.elapsed().as_secs_f64();
                let eta_s = (done_bytes > 0).then(|| {
                    ms(elapsed_s * total_bytes.saturating_sub(done_bytes) as f64
                        / done_bytes as f64)
                });
                let event = serde_json::json!({
                    "event": "progress",
                    "done": tally.written,
                    "total": todo.len(),
                    "file": r.file,
                    "verdict": r.verdict,
                    "audio_h": tally.audio_s / 3600.0,
                    "elapsed_s": ms(elapsed_s),
                    "eta_s": eta_s,
                    "shard": stamp.as_ref().map(|s| format!("{}/{}", s.index, s.count)),
                });
                eprintln!("{event}");
            }
            pb.set_message(format!(
                "{}/{} programs · {:.2} h audio",
                tally.written,
                todo.len(),
                tally.audio_s / 3600.0
            ));
            if keep_for_csv {
                new_records.insert(todo[k], *r);
            }
        };
        for (k, outcome) in rx.iter() {
            pending.insert(k, outcome);
            while let Some(o) = pending.remove(&emit_next) {
                emit(o, emit_next, &mut tally);
                emit_next += 1;
            }
        }
        // Interrupted: the records finished after a gap are written too, still in order.
        for (k, o) in std::mem::take(&mut pending) {
            emit(o, k, &mut tally);
        }
    });
    pb.finish_and_clear();

    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    let out_name = b
        .output
        .as_ref()
        .map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
    if let Some(e) = write_error {
        eprintln!("loudqc: cannot write the records to {out_name}: {e}");
        return ExitCode::from(2);
    }
    if let Err(e) = sink.finish() {
        eprintln!("loudqc: cannot finish {out_name}: {e}");
        return ExitCode::from(2);
    }
    let mut worst = 0u8;
    // Resumed programs count towards the verdicts of the batch.
    let mut resumed_tally = Tally {
        pass: 0,
        fail: 0,
        error: 0,
        audio_s: 0.0,
        written: 0,
    };
    for &v in &imf_resumed {
        worst = worst.max(verdict_code(v));
        match v {
            Verdict::Pass => resumed_tally.pass += 1,
            Verdict::Fail => resumed_tally.fail += 1,
            Verdict::Error => resumed_tally.error += 1,
        }
    }
    for (i, key) in keys.iter().enumerate() {
        if todo.binary_search(&i).is_err() {
            if let Some(&v) = index.verdicts.get(key) {
                worst = worst.max(verdict_code(v));
                match v {
                    Verdict::Pass => resumed_tally.pass += 1,
                    Verdict::Fail => resumed_tally.fail += 1,
                    Verdict::Error => resumed_tally.error += 1,
                }
            }
        }
    }
    worst = worst.max(if tally.error > 0 {
        2
    } else if tally.fail > 0 {
        1
    } else {
        0
    });

    if let (Some(path), Some(records)) = (&html_path, &for_html) {
        let written = std::fs::File::create(path).and_then(|f| {
            let mut w = io::BufWriter::new(f);
            html::write_html(&mut w, records)?;
            w.flush()
        });
        if let Err(e) = written {
            // The records are written; the exit code says the report is missing.
            eprintln!(
                "loudqc: --html {}: cannot write the report: {e}",
                path.display()
            );
            worst = 2;
        }
    }

    if let Some(csv_path) = &b.csv {
        let rows: Vec<&FileReport> = imf_for_csv
            .iter()
            .chain(
                (0..plan.units.len())
                    .filter_map(|i| new_records.get(&i).or_else(|| index.records.get(&keys[i]))),
            )
            .collect();
        if let Err(e) = write_csv(csv_path, &rows) {
            eprintln!("loudqc: --csv {}: {e}", csv_path.display());
            worst = 2;
        }
    }

    // The summary line.
    let wall_s = started.elapsed().as_secs_f64();
    // IMF records (one per CPL audio sequence) count as programs; their files are the CPLs.
    let imf_records = imf_record_count + imf_resumed.len();
    let resumed = resumed + imf_resumed.len();
    let files: usize = plan.units.iter().map(|u| u.members.len()).sum::<usize>() + imf_records;
    let mut line = format!(
        "loudqc: {} program{} ({} file{}): {} pass, {} fail, {} error; {:.3} h of audio in {:.1} s ({:.0}× realtime, {} jobs)",
        plan.units.len() + imf_records,
        if plan.units.len() + imf_records == 1 { "" } else { "s" },
        files,
        if files == 1 { "" } else { "s" },
        tally.pass + resumed_tally.pass,
        tally.fail + resumed_tally.fail,
        tally.error + resumed_tally.error,
        tally.audio_s / 3600.0,
        wall_s,
        if wall_s > 0.0 { tally.audio_s / wall_s } else { 0.0 },
        jobs,
    );
    if resumed > 0 {
        line.push_str(&format!("; {resumed} already in {out_name} (--resume)"));
    }
    if let Some(r) = &resolved {
        line.push_str(&format!(
            "; shard {} of {} programs",
            r.shard,
            plan.all_units + imf_given
        ));
        if !r.read.is_empty() {
            line.push_str(&format!(" (--shard auto: {})", r.read.join(", ")));
        }
    }
    let sig = signal.load(Ordering::Relaxed);
    if sig != 0 {
        let name = if sig == signal_hook::consts::SIGTERM as usize {
            "SIGTERM"
        } else {
            "SIGINT"
        };
        line.push_str(&format!(
            "; INTERRUPTED by {name}: {} of {} programs not checked{}",
            todo.len() - tally.written,
            todo.len(),
            if b.output.is_some() {
                "; run again with --resume to finish"
            } else {
                ""
            }
        ));
    }
    let exit = if sig != 0 {
        (128 + sig).min(255) as u8
    } else {
        worst
    };
    if progress_json {
        let event = serde_json::json!({
            "event": "summary",
            "programs": plan.units.len() + imf_records,
            "pass": tally.pass + resumed_tally.pass,
            "fail": tally.fail + resumed_tally.fail,
            "error": tally.error + resumed_tally.error,
            "resumed": resumed,
            "not_checked": todo.len() - tally.written,
            "audio_h": tally.audio_s / 3600.0,
            "elapsed_s": ms(wall_s),
            "shard": stamp.as_ref().map(|s| format!("{}/{}", s.index, s.count)),
            "interrupted_by": match sig {
                0 => None,
                s if s == signal_hook::consts::SIGTERM as usize => Some("SIGTERM"),
                _ => Some("SIGINT"),
            },
            "exit_code": exit,
        });
        eprintln!("{event}");
    }
    eprintln!("{line}");
    ExitCode::from(exit)
}
