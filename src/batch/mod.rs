//! Batch mode: from a command line of files, folders and path lists to a plan of programs,
//! and the check of one program.
//!
//! The CLI (`loudqc check`) runs a batch as: [`walk::expand`] the inputs (folders recursively,
//! keeping audio files) → drop duplicates → [`group::find_sets`] multi-mono sets (unless
//! `--no-group`) → keep this machine's [`shard::Shard`] → stat every file ([`InputFile`]) →
//! skip what [`resume::ResumeIndex`] says is done → [`check_unit`] each program in parallel.
//! The order of programs is the order of the inputs (folders sorted by name), so output is
//! deterministic whatever the number of jobs.
//!
//! A program is one file or one multi-mono set; its record's `inputs` names the file(s) with
//! size and mtime. A multi-mono set whose members differ in channel count or sample rate
//! cannot be measured as one program: its record has the blocker finding
//! `MULTI_MONO_MISMATCH` and verdict `fail`. Members of different lengths are measured over
//! the shortest, with the same blocker naming each member's length.

pub mod group;
pub mod merge;
pub mod resume;
pub mod shard;
pub mod walk;

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::analyze::{analyze_source, report_with, AnalyzeOptions};
use crate::channels::Position;
use crate::decode::multimono::MultiMonoSource;
use crate::decode::{self, AudioSource, StreamInfo};
use crate::error::{Error, ErrorKind, Result};
use crate::report::{FileReport, InputFile};
use crate::spec::{codes, Finding};

pub use shard::{Shard, ShardSpec};
pub use walk::Skipped;

/// One file of a program.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its path.
    pub path: PathBuf,
    /// Its loudspeaker position, in a multi-mono set.
    pub position: Option<Position>,
    /// Size and mtime when planned.
    pub input: InputFile,
}

/// One program to check: a file, or a multi-mono set.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The record's `file`: the path, or `dir/Title_{L,R,C}.wav` for a set.
    pub name: String,
    /// Its file(s), in channel order.
    pub members: Vec<Member>,
    /// A problem met while walking (becomes an error record).
    pub problem: Option<(io::ErrorKind, String)>,
}

impl Unit {
    /// The record's `inputs`.
    pub fn inputs(&self) -> Vec<InputFile> {
        self.members.iter().map(|m| m.input.clone()).collect()
    }

    /// Bytes of all its files (0 for those that could not be stat'ed).
    pub fn size_bytes(&self) -> u64 {
        self.members
            .iter()
            .map(|m| m.input.size_bytes.unwrap_or(0))
            .sum()
    }
}

/// How to plan a batch.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Measure multi-mono sets as one program (`--no-group` turns this off).
    pub group: bool,
    /// Keep only this shard's programs.
    pub shard: Option<Shard>,
}

impl PlanOptions {
    /// Group multi-mono sets, no sharding.
    pub fn new() -> Self {
        PlanOptions {
            group: true,
            shard: None,
        }
    }
    /// Turn grouping on or off.
    pub fn with_group(mut self, group: bool) -> Self {
        self.group = group;
        self
    }
    /// Keep only `shard`'s share.
    pub fn with_shard(mut self, shard: Option<Shard>) -> Self {
        self.shard = shard;
        self
    }
}

/// The programs of a batch.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// This shard's programs, in order.
    pub units: Vec<Unit>,
    /// Programs of all shards together.
    pub all_units: usize,
    /// Position of each of `units` in the whole plan (all shards), 0-based.
    pub positions: Vec<usize>,
    /// 64-bit FNV-1a of the names of all programs of all shards, in plan order, each followed
    /// by `\n`: shards that planned the same batch agree on it.
    pub plan_hash: u64,
    /// Files skipped while walking folders, by reason.
    pub skipped: Skipped,
}

/// Expand, dedupe, group, shard and stat `inputs` (see the module docs).
pub fn plan(inputs: &[PathBuf], opts: &PlanOptions) -> Plan {
    let mut skipped = Skipped::default();
    let mut seen = HashSet::new();
    let entries: Vec<walk::Entry> = walk::expand(inputs, &mut skipped)
        .into_iter()
        .filter(|e| seen.insert(e.path.clone()))
        .collect();
    let sets = if opts.group {
        let paths: Vec<&Path> = entries
            .iter()
            .map(|e| {
                if e.problem.is_some() {
                    Path::new("")
                } else {
                    e.path.as_path()
                }
            })
            .collect();
        group::find_sets(&paths)
    } else {
        Vec::new()
    };
    // Index of the set each entry belongs to; a set is emitted at its first member.
    let mut set_of = vec![None; entries.len()];
    for (s, set) in sets.iter().enumerate() {
        for &(i, _) in &set.members {
            set_of[i] = Some(s);
        }
    }
    let mut units = Vec::new();
    let mut emitted = vec![false; sets.len()];
    for (i, e) in entries.iter().enumerate() {
        match set_of[i] {
            Some(s) if !emitted[s] => {
                emitted[s] = true;
                units.push(Unit {
                    name: sets[s].name.clone(),
                    members: sets[s]
                        .members
                        .iter()
                        .map(|&(j, p)| Member {
                            path: entries[j].path.clone(),
                            position: Some(p),
                            input: InputFile::default_for(&entries[j].path),
                        })
                        .collect(),
                    problem: None,
                });
            }
            Some(_) => {}
            None => units.push(Unit {
                name: e.path.display().to_string(),
                members: vec![Member {
                    path: e.path.clone(),
                    position: None,
                    input: InputFile::default_for(&e.path),
                }],
                problem: e.problem.clone(),
            }),
        }
    }
    let all_units = units.len();
    let mut hashed = Vec::new();
    for u in &units {
        hashed.extend_from_slice(u.name.as_bytes());
        hashed.push(b'\n');
    }
    let plan_hash = shard::fnv1a64(&hashed);
    let mut positions: Vec<usize> = (0..units.len()).collect();
    if let Some(shard) = opts.shard {
        let keep: Vec<bool> = units.iter().map(|u| shard.contains(&u.name)).collect();
        positions.retain(|&i| keep[i]);
        let mut i = 0;
        units.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }
    for u in &mut units {
        for m in &mut u.members {
            m.input = InputFile::stat(&m.path);
        }
    }
    Plan {
        units,
        all_units,
        positions,
        plan_hash,
        skipped,
    }
}

impl InputFile {
    fn default_for(path: &Path) -> InputFile {
        InputFile {
            path: path.display().to_string(),
            size_bytes: None,
            mtime_unix_s: None,
            mtime_ns: None,
        }
    }
}

/// The result of checking one program.
#[derive(Debug)]
pub enum Outcome {
    /// Finished: its record.
    Done(Box<FileReport>),
    /// Abandoned because `cancel` was set (no record: it is checked again by `--resume`).
    Cancelled,
}

/// A source that fails its next read once `cancel` is set, so a running check stops within
/// one block when a batch is interrupted.
struct Cancellable {
    inner: Box<dyn AudioSource>,
    cancel: Arc<AtomicBool>,
    tripped: Arc<AtomicBool>,
}

impl AudioSource for Cancellable {
    fn info(&self) -> &StreamInfo {
        self.inner.info()
    }
    fn read(&mut self, out: &mut Vec<Vec<f32>>, max_frames: usize) -> Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            self.tripped.store(true, Ordering::Relaxed);
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted").into());
        }
        self.inner.read(out, max_frames)
    }
    fn seek(&mut self, frame: u64) -> Result<()> {
        self.inner.seek(frame)
    }
    fn skipped_packets(&self) -> u64 {
        self.inner.skipped_packets()
    }

    fn decoded_packets(&self) -> Option<u64> {
        self.inner.decoded_packets()
    }
    fn mca(&self) -> Option<decode::McaInfo> {
        self.inner.mca()
    }
    fn container_findings(&self) -> Vec<Finding> {
        self.inner.container_findings()
    }
}

/// Refuse special files before opening them (opening a FIFO blocks until a writer comes).
fn open_regular(path: &Path, tracks: &[usize]) -> Result<Box<dyn AudioSource>> {
    if let Ok(m) = std::fs::metadata(path) {
        if !m.is_file() && !m.is_dir() {
            return Err(Error::new(ErrorKind::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file (a FIFO, socket or device); loudqc reads only files",
            )))
            .with_path(path));
        }
    }
    // Issue 16: `--track` chooses the audio tracks of a multi-track file.
    decode::open_path_with(
        path,
        &decode::OpenOptions::default().with_tracks(tracks.to_vec()),
    )
}

/// Check one program end to end. Never fails: problems are error records. Returns
/// [`Outcome::Cancelled`] when `cancel` is set before or during the check.
pub fn check_unit(unit: &Unit, opts: &AnalyzeOptions, cancel: &Arc<AtomicBool>) -> Outcome {
    if cancel.load(Ordering::Relaxed) {
        return Outcome::Cancelled;
    }
    let tripped = Arc::new(AtomicBool::new(false));
    let mut rec = if let Some((kind, msg)) = &unit.problem {
        let err = Error::new(ErrorKind::Io(io::Error::new(*kind, msg.clone())))
            .with_path(&unit.members[0].path);
        FileReport::from_error(&unit.name, &opts.profile, &err)
    } else if unit.members.len() == 1 {
        check_file(unit, opts, cancel, &tripped)
    } else {
        check_set(unit, opts, cancel, &tripped)
    };
    if tripped.load(Ordering::Relaxed) {
        return Outcome::Cancelled;
    }
    rec.inputs = unit.inputs();
    Outcome::Done(Box::new(rec))
}

fn check_file(
    unit: &Unit,
    opts: &AnalyzeOptions,
    cancel: &Arc<AtomicBool>,
    tripped: &Arc<AtomicBool>,
) -> FileReport {
    let path = &unit.members[0].path;
    let analysis = open_regular(path, &opts.tracks).and_then(|src| {
        let src = Cancellable {
            inner: src,
            cancel: cancel.clone(),
            tripped: tripped.clone(),
        };
        analyze_source(Box::new(src), opts).map_err(|e| e.with_path(path))
    });
    match analysis {
        Ok(a) => report_with(&unit.name, &a, opts),
        Err(e) => FileReport::from_error(&unit.name, &opts.profile, &e),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into())
}

/// Open every member of a multi-mono set and check that they can be one program (each mono,
/// all at one rate). `Ok(Err(message))` names each member that cannot (the set's finding, or
/// the error of a caller that needs one source).
fn open_set_members(unit: &Unit) -> Result<std::result::Result<Vec<Box<dyn AudioSource>>, String>> {
    let mut sources = Vec::with_capacity(unit.members.len());
    for m in &unit.members {
        sources.push(open_regular(&m.path, &[])?);
    }
    // Members that cannot be one program: not mono, or rates that differ.
    let mut problems = Vec::new();
    for (m, s) in unit.members.iter().zip(&sources) {
        if s.info().channels != 1 {
            problems.push(format!(
                "{} has {} channels, not 1",
                file_name(&m.path),
                s.info().channels
            ));
        }
    }
    let rates: Vec<u32> = sources.iter().map(|s| s.info().sample_rate_hz).collect();
    if rates.iter().any(|&r| r != rates[0]) {
        let list: Vec<String> = unit
            .members
            .iter()
            .zip(&rates)
            .map(|(m, r)| format!("{} {r} Hz", file_name(&m.path)))
            .collect();
        problems.push(format!("sample rates differ: {}", list.join(", ")));
    }
    if problems.is_empty() {
        Ok(Ok(sources))
    } else {
        Ok(Err(format!(
            "multi-mono set cannot be measured as one program: {}",
            problems.join("; ")
        )))
    }
}

fn set_positions(unit: &Unit) -> Vec<Position> {
    unit.members
        .iter()
        .map(|m| m.position.unwrap_or(Position::Other))
        .collect()
}

/// Open a program as one source, as `check` reads it: a file (its `tracks`, see
/// [`decode::OpenOptions::with_tracks`]), or a multi-mono set as one stream in its members'
/// channel order with the map from their names (it ends with the shortest member). A set whose
/// members cannot be one program (not mono, different rates) is an error naming them; so is a
/// problem met while planning. For `loudqc sync` and embedders that read programs themselves.
pub fn open_unit(unit: &Unit, tracks: &[usize]) -> Result<Box<dyn AudioSource>> {
    let first = &unit.members[0].path;
    if let Some((kind, msg)) = &unit.problem {
        return Err(Error::new(ErrorKind::Io(io::Error::new(*kind, msg.clone()))).with_path(first));
    }
    if unit.members.len() == 1 {
        return open_regular(first, tracks);
    }
    match open_set_members(unit)? {
        Ok(sources) => Ok(Box::new(MultiMonoSource::new(
            sources,
            set_positions(unit),
        )?)),
        Err(msg) => Err(Error::malformed(format!("{}: {msg}", unit.name))),
    }
}

fn check_set(
    unit: &Unit,
    opts: &AnalyzeOptions,
    cancel: &Arc<AtomicBool>,
    tripped: &Arc<AtomicBool>,
) -> FileReport {
    let sources = match open_set_members(unit) {
        Ok(Ok(s)) => s,
        Ok(Err(msg)) => {
            let err = Error::new(ErrorKind::Malformed(msg.clone()));
            let mut r = FileReport::from_error(&unit.name, &opts.profile, &err);
            r.error = None;
            r.findings = vec![Finding::new(codes::MULTI_MONO_MISMATCH, msg)];
            r.verdict = crate::spec::finalize(&mut r.findings, &opts.profile, None);
            return r;
        }
        Err(e) => return FileReport::from_error(&unit.name, &opts.profile, &e),
    };
    let rate = sources[0].info().sample_rate_hz;
    let analysis = MultiMonoSource::new(sources, set_positions(unit)).and_then(|mm| {
        let frames = mm.member_frames();
        let src = Cancellable {
            inner: Box::new(mm),
            cancel: cancel.clone(),
            tripped: tripped.clone(),
        };
        // The names define the map; a --channels override is for single files.
        let mut o = opts.clone();
        o.channels = None;
        analyze_source(Box::new(src), &o).map(|a| (a, frames.get()))
    });
    let (a, lengths) = match analysis {
        Ok(v) => v,
        Err(e) => return FileReport::from_error(&unit.name, &opts.profile, &e),
    };
    let mut r = report_with(&unit.name, &a, opts);
    let (min, max) = (
        lengths.iter().copied().min().unwrap_or(0),
        lengths.iter().copied().max().unwrap_or(0),
    );
    if min != max {
        let list: Vec<String> = unit
            .members
            .iter()
            .zip(&lengths)
            .map(|(m, n)| format!("{} {n}", file_name(&m.path)))
            .collect();
        r.findings.push(
            Finding::new(
                codes::MULTI_MONO_MISMATCH,
                format!(
                    "multi-mono members differ in length (frames: {}); measured the first {min} \
                     frames",
                    list.join(", ")
                ),
            )
            .value((max - min) as f64 / f64::from(rate), Some(0.0)),
        );
        r.verdict = crate::spec::finalize(&mut r.findings, &opts.profile, None);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(path: &Path, channels: u16, seconds: f64) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..(48_000.0 * seconds) as usize {
            let v = (2000.0 * (i as f64 * 0.13).sin()) as i16;
            for _ in 0..channels {
                w.write_sample(v).unwrap();
            }
        }
        w.finalize().unwrap();
    }

    #[test]
    fn plan_groups_dedupes_and_check_unit_honours_cancel() {
        let d = tempfile::tempdir().unwrap();
        for t in ["L", "R", "C"] {
            wav(&d.path().join(format!("P_{t}.wav")), 1, 0.5);
        }
        wav(&d.path().join("solo.wav"), 2, 0.5);
        std::fs::write(d.path().join("readme.txt"), "x").unwrap();
        let inputs = vec![d.path().to_path_buf(), d.path().join("solo.wav")];
        let p = plan(&inputs, &PlanOptions::new());
        assert_eq!(p.units.len(), 2, "{:?}", p.units);
        assert_eq!(p.all_units, 2);
        assert_eq!(p.skipped.0.get(".txt"), Some(&1));
        let set = &p.units[0];
        assert!(set.name.ends_with("P_{L,R,C}.wav"), "{}", set.name);
        assert_eq!(set.members.len(), 3);
        assert!(set
            .members
            .iter()
            .all(|m| m.input.size_bytes == Some(48_044)));
        assert_eq!(p.units[1].members[0].input.size_bytes, Some(96_044));

        let opts = AnalyzeOptions::default();
        let cancel = Arc::new(AtomicBool::new(false));
        let Outcome::Done(r) = check_unit(set, &opts, &cancel) else {
            panic!("not cancelled")
        };
        assert_eq!(r.inputs, set.inputs());
        assert_eq!(r.format.as_ref().unwrap().channel_map, ["L", "R", "C"]);
        cancel.store(true, Ordering::Relaxed);
        assert!(matches!(
            check_unit(set, &opts, &cancel),
            Outcome::Cancelled
        ));
        // A check already running stops at its next block.
        let tripped = Arc::new(AtomicBool::new(false));
        let mut src = Cancellable {
            inner: decode::open_path(&set.members[0].path).unwrap(),
            cancel: Arc::new(AtomicBool::new(false)),
            tripped: tripped.clone(),
        };
        let mut buf = Vec::new();
        assert_eq!(src.read(&mut buf, 1000).unwrap(), 1000);
        src.cancel.store(true, Ordering::Relaxed);
        assert!(src.read(&mut buf, 1000).is_err());
        assert!(tripped.load(Ordering::Relaxed));

        let ungrouped = plan(&inputs, &PlanOptions::new().with_group(false));
        assert_eq!(ungrouped.units.len(), 4);
        let shards: Vec<usize> = (1..=2)
            .map(|k| {
                let s = Shard { index: k, count: 2 };
                plan(
                    &inputs,
                    &PlanOptions::new().with_group(false).with_shard(Some(s)),
                )
                .units
                .len()
            })
            .collect();
        assert_eq!(shards.iter().sum::<usize>(), 4);
    }
}
