//! `loudqc sync --reference REF AUDIO...`: each audio file aligned against a picture
//! reference's audio; text or JSON Lines; exit codes as `check` (0 every pair passes, 1 a
//! blocker, 2 a pair could not be checked or the usage was wrong).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;

use loudqc::decode;
use loudqc::report::sync::SyncRecord;
use loudqc::report::Verdict;
use loudqc::spec::sync::{ReferenceKind, SyncLimits};
use loudqc::sync::{align, AlignOptions};
use loudqc::timecode::Fps;

use super::args::OutputFormat;

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Audio to check: printmasters, M&Es, stems (anything `check` opens as a file).
    #[arg(required_unless_present = "pairs", value_name = "AUDIO")]
    pub files: Vec<PathBuf>,

    /// The picture reference (its audio track: MP4/MOV proxies with AAC or PCM, or any audio
    /// file).
    #[arg(long, value_name = "REF", required_unless_present = "pairs")]
    pub reference: Option<PathBuf>,

    /// What the reference is: final (IMF-derived proxy: discrepancies are blockers), turnover,
    /// locked-cut or stage-mix (discrepancies are issues).
    #[arg(long, default_value = "final", value_name = "KIND")]
    pub reference_kind: String,

    /// Many pairs from a CSV file: `audio,reference[,kind]` per line (a header line starting
    /// with `audio` is skipped; relative paths are relative to the CSV's folder).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["files", "reference"])]
    pub pairs: Option<PathBuf>,

    /// Picture frame rate: offsets and drifts are judged in frames (23.976, 24, 25, 29.97, 30).
    #[arg(long, default_value = "24", value_name = "FPS")]
    pub fps: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Put the local offset along the programme (one per second) in the JSON records.
    #[arg(long)]
    pub plot: bool,

    /// Pairs checked at once (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    /// Write the records to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// One pair to check.
struct Pair {
    audio: PathBuf,
    reference: PathBuf,
    kind: ReferenceKind,
}

fn parse_kind(s: &str, flag: &str) -> Result<ReferenceKind, String> {
    ReferenceKind::parse(s.trim()).ok_or_else(|| {
        format!(
            "{flag} {s:?} is not a reference kind; use one of: {}",
            ReferenceKind::ALL.map(|k| k.name()).join(", ")
        )
    })
}

fn read_pairs(csv_path: &Path, default_kind: ReferenceKind) -> Result<Vec<Pair>, String> {
    let base = csv_path.parent().unwrap_or(Path::new("."));
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(csv_path)
        .map_err(|e| format!("--pairs {}: {e}", csv_path.display()))?;
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
        let (Some(a), Some(r)) = (rec.get(0), rec.get(1)) else {
            return Err(format!(
                "--pairs {} line {line}: expected audio,reference[,kind]",
                csv_path.display()
            ));
        };
        let kind = match rec.get(2) {
            Some(k) if !k.is_empty() => parse_kind(k, &format!("--pairs line {line}: kind"))?,
            _ => default_kind,
        };
        out.push(Pair {
            audio: base.join(a),
            reference: base.join(r),
            kind,
        });
    }
    Ok(out)
}

fn check_pair(p: &Pair, limits: &SyncLimits, opts: &AlignOptions, plot: bool) -> SyncRecord {
    let (a_name, r_name) = (
        p.audio.display().to_string(),
        p.reference.display().to_string(),
    );
    let result = decode::open_path(&p.audio).and_then(|mut a| {
        let mut r = decode::open_path(&p.reference)?;
        align(a.as_mut(), r.as_mut(), opts).map_err(|e| e.with_path(&p.audio))
    });
    match result {
        Ok(al) => SyncRecord::new(&a_name, &r_name, p.kind, limits, &al, plot),
        Err(e) => SyncRecord::from_error(&a_name, &r_name, p.kind, limits, &e),
    }
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
    let pairs = match (&args.pairs, &args.reference) {
        (Some(csv), _) => match read_pairs(csv, kind) {
            Ok(p) => p,
            Err(m) => return usage(m),
        },
        (None, Some(r)) => args
            .files
            .iter()
            .map(|a| Pair {
                audio: a.clone(),
                reference: r.clone(),
                kind,
            })
            .collect(),
        (None, None) => return usage("give --reference REF or --pairs FILE".into()),
    };
    let limits = SyncLimits::at_fps(fps);
    let opts = AlignOptions::default().with_frame_s(limits.frame_s());
    // Each alignment already uses two threads (one per file); pairs beyond that share cores.
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.div_ceil(2).max(1))
        .build()
    {
        Ok(p) => p,
        Err(e) => return usage(format!("cannot start workers: {e}")),
    };
    let records: Vec<SyncRecord> = pool.install(|| {
        pairs
            .par_iter()
            .map(|p| check_pair(p, &limits, &opts, args.plot))
            .collect()
    });
    let mut text = String::new();
    for r in &records {
        match args.format {
            OutputFormat::Json => {
                text.push_str(&serde_json::to_string(r).expect("records serialise"));
                text.push('\n');
            }
            OutputFormat::Text => text.push_str(&r.text()),
        }
    }
    let written = match &args.output {
        Some(path) => std::fs::write(path, text.as_bytes())
            .map_err(|e| format!("--output {}: {e}", path.display())),
        None => {
            let mut out = io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(format!("stdout: {e}")),
                _ => Ok(()),
            }
        }
    };
    if let Err(m) = written {
        eprintln!("loudqc sync: {m}");
        return ExitCode::from(2);
    }
    for r in &records {
        if let Some(e) = &r.error {
            eprintln!("loudqc sync: {}", e.message);
        }
    }
    if records.iter().any(|r| r.verdict == Verdict::Error) {
        ExitCode::from(2)
    } else if records.iter().any(|r| r.verdict == Verdict::Fail) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
