//! `loudqc sync --reference REF AUDIO...`: each audio programme aligned against a picture
//! reference's audio; text or JSON Lines; exit codes as `check` (0 every pair passes, 1 a
//! blocker, 2 a pair could not be checked or the usage was wrong; 130/143 interrupted).
//!
//! AUDIO and REF are anything `check` opens ([`inputs`]): files, multi-mono sets (the members
//! given together, or their folder), IMF packages and CPLs. Pairs run `--jobs` at a time (each
//! alignment reads its two files on two threads); records are written in pair order as they
//! finish, so that `--output FILE --resume` can pick up a killed run: pairs whose audio and
//! reference files (path, size, mtime) are already in FILE are not checked again.

mod inputs;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use loudqc::batch::resume::{truncate_partial_line, whole_lines};
use loudqc::report::sync::SyncRecord;
use loudqc::report::{InputFile, Verdict};
use loudqc::spec::sync::{ReferenceKind, SyncLimits};
use loudqc::sync::{align, AlignOptions};
use loudqc::timecode::Fps;

use super::args::OutputFormat;
use super::output::Sink;
use inputs::{programmes, Programme};

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Audio to check: printmasters, M&Es, stems, multi-mono sets (their files together, or
    /// their folder), IMF packages or CPLs: anything `check` opens. One record per programme.
    #[arg(required_unless_present = "pairs", value_name = "AUDIO")]
    pub files: Vec<PathBuf>,

    /// The picture reference (its audio track: MP4/MOV proxies with AAC or PCM, any audio
    /// file, an IMF package or CPL). Give it once per file for a multi-mono reference set.
    #[arg(long, value_name = "REF", required_unless_present = "pairs")]
    pub reference: Vec<PathBuf>,

    /// What the reference is: final (IMF-derived proxy: discrepancies are blockers), turnover,
    /// locked-cut or stage-mix (discrepancies are issues).
    #[arg(long, default_value = "final", value_name = "KIND")]
    pub reference_kind: String,

    /// Many pairs from a CSV file: `audio,reference[,kind]` per line (a header line starting
    /// with `audio` is skipped; relative paths are relative to the CSV's folder; the files of
    /// a multi-mono set go in one field, separated by `;`).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["files", "reference"])]
    pub pairs: Option<PathBuf>,

    /// Picture frame rate: offsets and drifts are judged in frames (23.976, 24, 25, 29.97, 30).
    #[arg(long, default_value = "24", value_name = "FPS")]
    pub fps: String,

    /// Output format on standard output (`--output` always writes JSON Lines).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Put the local offset along the programme (one per second) in the JSON records.
    #[arg(long)]
    pub plot: bool,

    /// Pairs checked at once (default: one per core; each pair reads its two files on two
    /// threads, so N pairs run on N/2 workers).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    /// Write JSON Lines to FILE instead of standard output (FILE appears when the run ends;
    /// with --resume records are appended as they finish).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write an HTML report to FILE: per pair the local offset plotted along the
    /// programme with the mismatched sections marked, the sections and the findings.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Skip pairs already in --output (same audio and reference files, size and mtime, same
    /// reference kind and --fps); append the others.
    #[arg(long, requires = "output")]
    pub resume: bool,
}

/// One line of the command: the paths of each side, and the kind.
struct PairSpec {
    audio: Vec<PathBuf>,
    reference: Vec<PathBuf>,
    kind: ReferenceKind,
}

/// One pair to check: an audio programme against a reference programme.
struct Job {
    audio: Programme,
    reference: Arc<Programme>,
    kind: ReferenceKind,
}

/// What `--resume` compares: the audio's and the reference's files (path, size, mtime), the
/// reference kind and the frame rate. A record made under another kind has other severities,
/// one made at another `--fps` other frame counts and thresholds: the pair is checked again.
type ResumeKey = (Vec<InputFile>, Vec<InputFile>, ReferenceKind, Fps);

impl Job {
    /// The audio's and the reference's files (path, size, mtime), as recorded.
    fn key(&self) -> (Vec<InputFile>, Vec<InputFile>) {
        (self.audio.inputs(), self.reference.inputs())
    }

    /// What `--resume` compares at this `fps`.
    fn resume_key(&self, fps: Fps) -> ResumeKey {
        let (a, r) = self.key();
        (a, r, self.kind, fps)
    }
}

fn parse_kind(s: &str, flag: &str) -> Result<ReferenceKind, String> {
    ReferenceKind::parse(s.trim()).ok_or_else(|| {
        format!(
            "{flag} {s:?} is not a reference kind; use one of: {}",
            ReferenceKind::ALL.map(|k| k.name()).join(", ")
        )
    })
}

fn read_pairs(csv_path: &Path, default_kind: ReferenceKind) -> Result<Vec<PairSpec>, String> {
    let base = csv_path.parent().unwrap_or(Path::new("."));
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(csv_path)
        .map_err(|e| format!("--pairs {}: {e}", csv_path.display()))?;
    let side = |field: &str| -> Vec<PathBuf> {
        field
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| base.join(p))
            .collect()
    };
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("--pairs {}: {e}", csv_path.display()))?;
        if rec.iter().all(str::is_empty) {
            continue;
        }
        if i == 0 && rec.get(0) == Some("audio") {
            continue;
        }
        let line = i + 1;
        let (Some(a), Some(r)) = (rec.get(0).map(side), rec.get(1).map(side)) else {
            return Err(format!(
                "--pairs {} line {line}: expected audio,reference[,kind]",
                csv_path.display()
            ));
        };
        if a.is_empty() || r.is_empty() {
            return Err(format!(
                "--pairs {} line {line}: expected audio,reference[,kind] (a field is empty)",
                csv_path.display()
            ));
        }
        let kind = match rec.get(2) {
            Some(k) if !k.is_empty() => parse_kind(k, &format!("--pairs line {line}: kind"))?,
            _ => default_kind,
        };
        out.push(PairSpec {
            audio: a,
            reference: r,
            kind,
        });
    }
    Ok(out)
}

/// The reference side as one programme: several (a folder of unrelated files, two files that
/// are not one set, an IMF package with several compositions) is an error naming them.
fn one_reference(paths: &[PathBuf]) -> Programme {
    let mut progs = programmes(paths);
    if progs.len() == 1 {
        return progs.remove(0);
    }
    let names: Vec<String> = progs.iter().map(Programme::name).collect();
    let given: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    Programme::Failed {
        name: given.join(";"),
        message: if names.is_empty() {
            format!("reference {}: no audio found", given.join(", "))
        } else {
            format!(
                "reference {} is {} programmes ({}), not one: give one file, one multi-mono \
                 set or one CPL",
                given.join(", "),
                names.len(),
                names.join(", ")
            )
        },
    }
}

fn check_pair(job: &Job, limits: &SyncLimits, opts: &AlignOptions) -> SyncRecord {
    let (a_name, r_name) = (job.audio.name(), job.reference.name());
    let result = job.audio.open().and_then(|mut a| {
        let mut r = job.reference.open()?;
        align(a.as_mut(), r.as_mut(), opts).map_err(|e| e.with_path(a_name.as_str()))
    });
    let (ai, ri) = job.key();
    match result {
        Ok(al) => SyncRecord::new(&a_name, &r_name, job.kind, limits, &al, true),
        Err(e) => SyncRecord::from_error(&a_name, &r_name, job.kind, limits, &e),
    }
    .with_inputs(ai, ri)
}

/// Write the HTML report to `path` (whole: a temporary file renamed into place).
fn write_html(path: &Path, records: &[SyncRecord]) -> io::Result<()> {
    let mut buf = Vec::new();
    loudqc::report::sync_html::write_html(&mut buf, records)?;
    let tmp = path.with_extension("html.partial");
    std::fs::write(&tmp, &buf)?;
    std::fs::rename(&tmp, path)
}

/// The records already in `path` by their audio and reference inputs, and their verdicts.
fn resume_index(path: &Path) -> io::Result<HashMap<ResumeKey, Verdict>> {
    let cut = truncate_partial_line(path)?;
    if cut > 0 {
        eprintln!(
            "loudqc sync: {}: removed an incomplete last line ({cut} bytes) left by an interrupted run",
            path.display()
        );
    }
    let mut done = HashMap::new();
    whole_lines(path, |line| {
        if let Ok(r) = serde_json::from_slice::<SyncRecord>(line) {
            if !r.inputs.is_empty() {
                done.insert(
                    (r.inputs, r.reference_inputs, r.reference_kind, r.fps),
                    r.verdict,
                );
            }
        }
    })?;
    Ok(done)
}

pub fn run(args: SyncArgs) -> ExitCode {
    let usage = |msg: String| {
        eprintln!("loudqc sync: {msg}");
        ExitCode::from(2)
    };
    let fps: Fps = match args.fps.parse() {
        Ok(f) => f,
        Err(e) => return usage(format!("--fps: {e}")),
    };
    let kind = match parse_kind(&args.reference_kind, "--reference-kind") {
        Ok(k) => k,
        Err(m) => return usage(m),
    };
    let jobs = match args.jobs {
        Some(0) => return usage("--jobs must be at least 1".into()),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let specs = match &args.pairs {
        Some(csv) => match read_pairs(csv, kind) {
            Ok(p) => p,
            Err(m) => return usage(m),
        },
        None if args.reference.is_empty() => {
            return usage("give --reference REF or --pairs FILE".into())
        }
        None => vec![PairSpec {
            audio: args.files.clone(),
            reference: args.reference.clone(),
            kind,
        }],
    };
    for (flag, out) in [("--output", &args.output), ("--html", &args.html)] {
        let Some(out) = out else { continue };
        let canon = |p: &Path| std::fs::canonicalize(p).ok();
        let clash = specs
            .iter()
            .flat_map(|s| s.audio.iter().chain(&s.reference))
            .find(|p| canon(p).is_some() && canon(p) == canon(out));
        if let Some(p) = clash {
            return usage(format!(
                "{flag} {} is one of the inputs ({}); loudqc never writes to its inputs",
                out.display(),
                p.display()
            ));
        }
    }
    // Plan every side (cheap: headers and CPLs only); equal reference sides are planned once.
    let mut refs: Vec<(Vec<PathBuf>, Arc<Programme>)> = Vec::new();
    let mut work: Vec<Job> = Vec::new();
    for s in specs {
        let reference = match refs.iter().find(|(p, _)| *p == s.reference) {
            Some((_, r)) => r.clone(),
            None => {
                let r = Arc::new(one_reference(&s.reference));
                refs.push((s.reference.clone(), r.clone()));
                r
            }
        };
        let audio = programmes(&s.audio);
        if audio.is_empty() {
            return usage(format!(
                "no audio found in {}",
                s.audio
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        work.extend(audio.into_iter().map(|a| Job {
            audio: a,
            reference: reference.clone(),
            kind: s.kind,
        }));
    }
    // --resume: what the output file already holds.
    let mut verdicts: Vec<Verdict> = Vec::new();
    if let (true, Some(out)) = (args.resume, &args.output) {
        match resume_index(out) {
            Ok(done) => work.retain(|j| match done.get(&j.resume_key(fps)) {
                Some(v) => {
                    verdicts.push(*v);
                    false
                }
                None => true,
            }),
            Err(e) => return usage(format!("--resume: cannot read {}: {e}", out.display())),
        }
    }
    let mut sink = match (&args.output, args.resume) {
        (None, _) => Sink::Stdout(args.format),
        (Some(p), false) => match Sink::atomic(p) {
            Ok(s) => s,
            Err(e) => return usage(format!("--output {}: {e}", p.display())),
        },
        (Some(p), true) => match Sink::append(p) {
            Ok(s) => s,
            Err(e) => return usage(format!("--output {}: {e}", p.display())),
        },
    };
    // Signals: the first stops new pairs from starting (running ones finish and are written);
    // a second ends the process at once.
    let stop = Arc::new(AtomicBool::new(false));
    let signal = Arc::new(AtomicUsize::new(0));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let ok = signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, stop.clone())
            .and_then(|_| signal_hook::flag::register_usize(sig, signal.clone(), sig as usize))
            .and_then(|_| signal_hook::flag::register(sig, stop.clone()));
        if let Err(e) = ok {
            eprintln!("loudqc sync: cannot handle signal {sig}: {e}");
        }
    }
    let limits = SyncLimits::at_fps(fps);
    let opts = AlignOptions::default().with_frame_s(limits.frame_s());
    let workers = jobs.div_ceil(2).max(1).min(work.len().max(1));
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, SyncRecord)>();
    let mut write_error: Option<String> = None;
    let mut errors_seen = HashSet::new();
    // Records of this run for --html (with their local offsets), in pair order.
    let mut for_html: Vec<SyncRecord> = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, stop, work, limits, opts) = (&next, &stop, &work, &limits, &opts);
            scope.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = work.get(k) else { break };
                let rec = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    check_pair(job, limits, opts)
                }))
                .unwrap_or_else(|_| {
                    let e = loudqc::Error::from(io::Error::other(
                        "internal error: loudqc panicked on this pair (please report it)",
                    ));
                    let (ai, ri) = job.key();
                    SyncRecord::from_error(
                        &job.audio.name(),
                        &job.reference.name(),
                        job.kind,
                        limits,
                        &e,
                    )
                    .with_inputs(ai, ri)
                });
                if tx.send((k, rec)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        // Write in pair order: hold finished records until those before them are written.
        let mut pending: BTreeMap<usize, SyncRecord> = BTreeMap::new();
        let mut emit_next = 0usize;
        for (k, rec) in rx {
            pending.insert(k, rec);
            while let Some(mut rec) = pending.remove(&emit_next) {
                emit_next += 1;
                verdicts.push(rec.verdict);
                if let Some(e) = &rec.error {
                    if errors_seen.insert(e.message.clone()) {
                        eprintln!("loudqc sync: {}", e.message);
                    }
                }
                if args.html.is_some() {
                    for_html.push(rec.clone());
                }
                if write_error.is_some() {
                    continue;
                }
                if !args.plot {
                    if let Some(y) = rec.sync.as_mut() {
                        y.local_offsets.clear();
                    }
                }
                let mut buf = Vec::with_capacity(4096);
                match &sink {
                    Sink::Stdout(OutputFormat::Text) => {
                        buf.extend_from_slice(rec.text().as_bytes())
                    }
                    _ => {
                        buf = serde_json::to_vec(&rec).expect("records serialise");
                        buf.push(b'\n');
                    }
                }
                match sink.write_bytes(&buf) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                        stop.store(true, Ordering::Relaxed);
                        write_error = Some(String::new());
                    }
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        write_error = Some(format!("cannot write the records: {e}"));
                    }
                }
            }
        }
    });
    match write_error {
        Some(m) if m.is_empty() => return ExitCode::SUCCESS, // a closed stdout (`| head`)
        Some(m) => return usage(m),
        None => {}
    }
    if let Err(e) = sink.finish() {
        return usage(format!("cannot finish the output: {e}"));
    }
    if let Some(h) = &args.html {
        if let Err(e) = write_html(h, &for_html) {
            return usage(format!("--html {}: {e}", h.display()));
        }
    }
    let sig = signal.load(Ordering::Relaxed);
    if sig != 0 {
        eprintln!("loudqc sync: interrupted; the pairs not written are checked by --resume",);
        return ExitCode::from((128 + sig) as u8);
    }
    if verdicts.contains(&Verdict::Error) {
        ExitCode::from(2)
    } else if verdicts.contains(&Verdict::Fail) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
