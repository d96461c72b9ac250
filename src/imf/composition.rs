//! Measuring IMF compositions: what the viewer hears, not the loose files.
//!
//! A [`CompositionPlan`] is one main audio sequence (`TrackId`) of one CPL, resolved against
//! the asset maps: every resource becomes a sample-exact piece of a track file (entry point,
//! source duration and repeat count converted from the resource edit rate to samples,
//! ST 2067-3 §7), laid end to end across segments with no gap or overlap. The
//! [`CompositionSource`] plays the pieces as one continuous [`AudioSource`], so the meter's
//! filters and gating blocks run straight across segment and resource boundaries.
//!
//! CPL markers (ST 2067-3 §6.13, standard marker labels) are used: bars and tone
//! (`FFBT`..`LFBT`) and head/tail slates (`FFHS`..`LFHS`, `FFTS`..`LFTS`) are *not fed to the
//! meter* — program loudness and peaks leave them out, and the report says so; company and
//! distribution logos (`FFCL`..`LFCL`, `FFDL`..`LFDL`) are reported as `ident_ranges`.
//!
//! A resource whose track file is not present (partial package without its supplemental
//! package, or a file deleted) makes the record "incomplete": verdict `error`, with a finding
//! naming the missing track file UUIDs and the CPL.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::analyze::{self, AnalyzeOptions};
use crate::channels::ChannelMap;
use crate::decode::{AudioSource, Limits, McaInfo, StreamInfo};
use crate::error::{Error as CrateError, Result as CrateResult};
use crate::report::{
    CompositionReport, ErrorReport, FileReport, MarkerReport, TimeRange, TrackFileReport, Verdict,
};
use crate::spec::{self, Finding, Profile};

use super::mxf::{MxfAudioInfo, MxfAudioReader};
use super::source::{channel_map_of, mca_info};
use super::{
    check_core_constraints, codes, AssetIndex, Cpl, Error, Marker, Problem, Rational, Seconds,
    SequenceKind,
};

/// Marker label pairs that bound a stretch of the composition, with the kind reported and
/// whether the stretch is left out of program loudness (ST 2067-3:2016 Annex, standard marker
/// labels: "first/last frame of …").
pub const MARKER_RANGES: [(&str, &str, &str, bool); 5] = [
    ("FFBT", "LFBT", "bars_and_tone", true),
    ("FFHS", "LFHS", "head_slate", true),
    ("FFTS", "LFTS", "tail_slate", true),
    ("FFCL", "LFCL", "company_logo", false),
    ("FFDL", "LFDL", "distribution_logo", false),
];

/// Longest audio sequence measured, seconds (one week): a hostile `RepeatCount` must not make
/// loudqc read for years.
pub const MAX_COMPOSITION_S: u64 = 7 * 24 * 3600;

/// A marked stretch of the composition: from the first frame marker to the end of the last
/// frame marker's frame, in exact seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedRange {
    /// `bars_and_tone`, `head_slate`, `tail_slate`, `company_logo`, `distribution_logo`.
    pub kind: &'static str,
    /// Start (the `FF..` marker's position).
    pub start: Seconds,
    /// End, exclusive (the `LF..` marker's position plus one marker edit unit).
    pub end: Seconds,
}

impl MarkedRange {
    /// The range in samples at `sample_rate_hz`: start rounded down, end rounded up, so every
    /// sample of a marked frame is inside.
    pub fn frames(&self, sample_rate_hz: u32) -> (u64, u64) {
        (
            seconds_to_frames(self.start, sample_rate_hz, false),
            seconds_to_frames(self.end, sample_rate_hz, true),
        )
    }
}

/// Exact seconds → samples, rounded down (`ceil = false`) or up; saturates at `u64::MAX`.
fn seconds_to_frames(s: Seconds, rate_hz: u32, ceil: bool) -> u64 {
    let Some(num) = s.num.checked_mul(u128::from(rate_hz)) else {
        return u64::MAX;
    };
    let q = num / s.den + u128::from(ceil && num % s.den != 0);
    u64::try_from(q).unwrap_or(u64::MAX)
}

fn seconds_f64(s: Seconds) -> f64 {
    s.num as f64 / s.den as f64
}

/// One resource of the sequence, placed on the composition timeline in samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedResource {
    /// Resource `Id`.
    pub resource_id: String,
    /// Segment index.
    pub segment_index: usize,
    /// Track file UUID.
    pub track_file_id: String,
    /// The track file.
    pub path: PathBuf,
    /// First sample read in the track file (entry point).
    pub entry_frame: u64,
    /// Samples per repetition (source duration).
    pub duration_frames: u64,
    /// Repetitions (`RepeatCount`).
    pub repeat: u64,
    /// Where the resource starts on the composition timeline, samples.
    pub start_frame: u64,
}

impl PlannedResource {
    /// Samples the resource occupies on the timeline (`duration × repeat`).
    pub fn timeline_frames(&self) -> u64 {
        // Checked when the plan was built.
        self.duration_frames * self.repeat
    }
}

/// The playable audio of a plan (present when every track file was found and agrees).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanAudio {
    /// Sample rate of the track files, Hz.
    pub sample_rate_hz: u32,
    /// Channels.
    pub channels: usize,
    /// Quantization bits.
    pub bits_per_sample: u32,
    /// Bytes per sample frame (all track files agree).
    pub block_align: u32,
    /// Channel map from the MCA labels.
    pub map: ChannelMap,
    /// MCA labelling of the first track file.
    pub mca: McaInfo,
    /// Resources in playback order, end to end.
    pub resources: Vec<PlannedResource>,
    /// Length of the sequence in samples.
    pub total_frames: u64,
    /// The composition sample ranges fed to the meter: `[0, total)` minus the excluded
    /// ranges, sorted and disjoint.
    pub program: Vec<(u64, u64)>,
}

impl PlanAudio {
    /// Map a composition sample index to the measured stream (excluded ranges removed); a
    /// sample inside an excluded range maps to where the stream resumes.
    pub fn measured_frame(&self, composition: u64) -> u64 {
        let mut measured = 0;
        for &(a, b) in &self.program {
            if composition < a {
                break;
            }
            if composition < b {
                return measured + (composition - a);
            }
            measured += b - a;
        }
        measured
    }

    /// Frames of the measured stream.
    pub fn measured_frames(&self) -> u64 {
        self.program.iter().map(|&(a, b)| b - a).sum()
    }

    /// Map a sample index of the measured stream (excluded ranges removed) back to composition
    /// time, in samples.
    pub fn composition_frame(&self, measured: u64) -> u64 {
        let mut left = measured;
        for &(a, b) in &self.program {
            if left < b - a {
                return a + left;
            }
            left -= b - a;
        }
        self.program.last().map_or(left, |&(_, b)| b + left)
    }

    /// Map an exclusive end (a sample index of the measured stream one past the last sample
    /// of a stretch) back to composition time: an end that meets an excluded range stays at
    /// the range's start instead of jumping past it.
    pub fn composition_end_frame(&self, measured_end: u64) -> u64 {
        let mut left = measured_end;
        for &(a, b) in &self.program {
            if left <= b - a {
                return a + left;
            }
            left -= b - a;
        }
        self.program.last().map_or(left, |&(_, b)| b + left)
    }
}

/// A track file the composition needs but which is not present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingTrackFile {
    /// Track file UUID.
    pub id: String,
    /// Why: not listed in any asset map, or the listed file is absent.
    pub reason: String,
}

/// One main audio sequence of one CPL, resolved and checked, ready to measure.
#[derive(Debug, Clone)]
pub struct CompositionPlan {
    /// The CPL file.
    pub cpl_path: PathBuf,
    /// CPL `Id`.
    pub cpl_id: String,
    /// CPL `ContentTitle`.
    pub cpl_title: String,
    /// Composition edit rate.
    pub edit_rate: Rational,
    /// `TrackId` of the sequence.
    pub track_id: String,
    /// Segments of the CPL.
    pub segments: usize,
    /// Resources of the sequence.
    pub resource_count: usize,
    /// Track files used, first-use order, with their path when present.
    pub track_files: Vec<(String, Option<PathBuf>)>,
    /// Track files not present.
    pub missing: Vec<MissingTrackFile>,
    /// Duration of the sequence on the timeline (exact).
    pub duration: Option<Seconds>,
    /// Core-constraint problems of the CPL restricted to this sequence (ST 2067-2/-3).
    pub problems: Vec<Problem>,
    /// Other findings (marker pairing, unknown MCA labels, track files that disagree).
    pub findings: Vec<Finding>,
    /// Ranges left out of program loudness.
    pub excluded: Vec<MarkedRange>,
    /// Company/distribution logo ranges (ident search bounds).
    pub ident_ranges: Vec<MarkedRange>,
    /// All markers of the CPL.
    pub markers: Vec<Marker>,
    /// Why the sequence cannot be played even though every file is present (error kind and
    /// message), e.g. track files of different channel counts.
    pub fatal: Option<(String, String)>,
    /// The playable audio (`None` when incomplete or `fatal`).
    pub audio: Option<PlanAudio>,
    /// Language of the sequence's track files.
    pub language: Option<String>,
    /// Soundfield of the sequence's track files.
    pub soundfield: Option<String>,
}

impl CompositionPlan {
    /// Plan every main audio sequence of the CPL at `cpl_path`, resolving track files through
    /// `index`. Errors only when the CPL itself cannot be read.
    pub fn for_cpl(cpl_path: &Path, index: &AssetIndex) -> Result<Vec<CompositionPlan>, Error> {
        let cpl = Cpl::read(cpl_path)?;
        let tracks = cpl.main_audio_track_ids();
        if tracks.is_empty() {
            return Err(Error::Cpl(format!(
                "cpl {} has no MainAudioSequence",
                cpl.id
            )));
        }
        let mut infos: HashMap<String, Result<(PathBuf, MxfAudioInfo), Error>> = HashMap::new();
        Ok(tracks
            .iter()
            .map(|t| plan_track(&cpl, cpl_path, t, index, &mut infos))
            .collect())
    }

    /// True when every track file is present.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// A source playing the sequence with the excluded ranges left out (`None` when the plan
    /// has no playable audio).
    pub fn source(&self) -> Option<CompositionSource> {
        self.audio
            .as_ref()
            .map(|a| CompositionSource::new(a, &a.program))
    }

    /// A source playing the whole sequence, excluded ranges included (for an ident search over
    /// the head and tail of the composition).
    pub fn full_source(&self) -> Option<CompositionSource> {
        self.audio
            .as_ref()
            .map(|a| CompositionSource::new(a, &[(0, a.total_frames)]))
    }

    /// Why the sequence cannot be played: the error kind of its record and a message naming
    /// the CPL, the sequence and the cause (track files missing, track files that cannot
    /// play together); `None` when it can.
    pub fn unplayable(&self) -> Option<(String, String)> {
        let name = self.cpl_path.display();
        if !self.missing.is_empty() {
            let ids: Vec<&str> = self.missing.iter().map(|m| m.id.as_str()).collect();
            let reasons: Vec<&str> = self.missing.iter().map(|m| m.reason.as_str()).collect();
            return Some((
                "incomplete_composition".into(),
                format!(
                    "{name}: composition incomplete: audio sequence {} of cpl {} (\"{}\") needs track file(s) {} that are not present ({}); give the supplemental package with --assetmap",
                    self.track_id,
                    self.cpl_id,
                    self.cpl_title,
                    ids.join(", "),
                    reasons.join("; ")
                ),
            ));
        }
        if let Some((kind, msg)) = &self.fatal {
            return Some((kind.clone(), format!("{name}: {msg}")));
        }
        if self.audio.is_none() {
            return Some((
                "malformed".into(),
                format!("{name}: audio sequence {} is not playable", self.track_id),
            ));
        }
        None
    }

    /// The whole sequence on the composition timeline as one source (excluded ranges included:
    /// `loudqc sync` compares timelines), or an error saying why it cannot be played
    /// ([`CompositionPlan::unplayable`]).
    pub fn open_timeline(&self) -> CrateResult<CompositionSource> {
        if let Some((_, msg)) = self.unplayable() {
            return Err(CrateError::malformed(msg));
        }
        self.full_source()
            .ok_or_else(|| CrateError::malformed("no playable audio").with_path(&self.cpl_path))
    }

    /// What `--resume` compares: the CPL and every track file it plays that is present, with
    /// size and mtime.
    pub fn inputs(&self) -> Vec<crate::report::InputFile> {
        std::iter::once(self.cpl_path.clone())
            .chain(self.track_files.iter().filter_map(|t| t.1.clone()))
            .map(|p| crate::report::InputFile::stat(&p))
            .collect()
    }
}

fn plan_track(
    cpl: &Cpl,
    cpl_path: &Path,
    track_id: &str,
    index: &AssetIndex,
    infos: &mut HashMap<String, Result<(PathBuf, MxfAudioInfo), Error>>,
) -> CompositionPlan {
    let mut plan = CompositionPlan {
        cpl_path: cpl_path.to_path_buf(),
        cpl_id: cpl.id.clone(),
        cpl_title: cpl.title.clone(),
        edit_rate: cpl.edit_rate,
        track_id: track_id.to_string(),
        segments: cpl.segments.len(),
        resource_count: 0,
        track_files: Vec::new(),
        missing: Vec::new(),
        duration: None,
        problems: Vec::new(),
        findings: Vec::new(),
        excluded: Vec::new(),
        ident_ranges: Vec::new(),
        markers: cpl.markers.clone(),
        fatal: None,
        audio: None,
        language: None,
        soundfield: None,
    };
    // The CPL restricted to this sequence (plus image and marker sequences), so that the core
    // checks speak about this track only.
    let mut only = cpl.clone();
    for seg in &mut only.segments {
        seg.sequences
            .retain(|s| s.kind != SequenceKind::MainAudio || s.track_id == track_id);
    }
    let resources: Vec<_> = only
        .segments
        .iter()
        .flat_map(|s| &s.sequences)
        .filter(|s| s.kind == SequenceKind::MainAudio)
        .flat_map(|s| &s.resources)
        .collect();
    plan.resource_count = resources.len();
    plan.duration = only
        .segments
        .iter()
        .flat_map(|s| &s.sequences)
        .filter(|s| s.kind == SequenceKind::MainAudio)
        .try_fold(Seconds::ZERO, |acc, s| acc.checked_add(s.duration()?));

    // Track files: resolve and read their headers.
    let mut present: HashMap<String, MxfAudioInfo> = HashMap::new();
    for r in &resources {
        let Some(tf) = r.track_file_id.clone() else {
            continue;
        };
        if plan.track_files.iter().any(|(id, _)| *id == tf) {
            continue;
        }
        let entry = infos.entry(tf.clone()).or_insert_with(|| {
            let p = index.resolve(&tf)?;
            let info = MxfAudioInfo::read(&p).map_err(|e| Error::Mxf {
                offset: 0,
                reason: format!("track file {tf} ({}): {e}", p.display()),
            })?;
            Ok((p, info))
        });
        match entry {
            Ok((p, info)) => {
                plan.track_files.push((tf.clone(), Some(p.clone())));
                present.insert(tf, info.clone());
            }
            Err(e @ (Error::AssetNotFound { .. } | Error::AssetFileMissing { .. })) => {
                plan.track_files.push((tf.clone(), None));
                plan.missing.push(MissingTrackFile {
                    id: tf,
                    reason: e.to_string(),
                });
            }
            Err(e) => {
                plan.track_files.push((tf.clone(), None));
                if plan.fatal.is_none() {
                    plan.fatal = Some(("malformed".into(), e.to_string()));
                }
            }
        }
    }
    plan.problems = check_core_constraints(&only, &present)
        .into_iter()
        .filter(|p| p.code != codes::IMF_TRACK_FILE_MISSING)
        .collect();

    // The first present track file (in playback order) sets rate, channels and labels.
    let first_id = plan
        .track_files
        .iter()
        .find(|(id, _)| present.contains_key(id))
        .map(|(id, _)| id.clone());
    place_markers(&mut plan, cpl);
    let Some((first_id, first)) = first_id.and_then(|id| present.get(&id).map(|i| (id, i))) else {
        if plan.missing.is_empty() && plan.fatal.is_none() {
            plan.fatal = Some((
                "malformed".into(),
                format!(
                    "audio sequence {track_id} of cpl {} has no resource with a track file",
                    cpl.id
                ),
            ));
        }
        return plan;
    };
    plan.language = first.language.clone();
    plan.soundfield = first.soundfield.clone();
    for (id, i) in &present {
        let differs = i.sample_rate_hz != first.sample_rate_hz
            || i.channels != first.channels
            || i.block_align != first.block_align;
        if differs && plan.fatal.is_none() {
            plan.fatal = Some((
                "invalid_input".into(),
                format!(
                    "track files of audio sequence {track_id} differ: {first_id} is {} Hz, {} channels, block align {}; {id} is {} Hz, {} channels, block align {}",
                    first.sample_rate_hz, first.channels, first.block_align,
                    i.sample_rate_hz, i.channels, i.block_align
                ),
            ));
        }
        if i.channel_labels != first.channel_labels
            || i.language != first.language
            || i.soundfield != first.soundfield
        {
            plan.findings.push(Finding::new(codes::IMF_TRACK_FILES_DIFFER, format!(
                    "track files of audio sequence {track_id} disagree: {first_id} has labels {} ({:?}, {:?}) but {id} has {} ({:?}, {:?}); measured with the first",
                    first.channel_labels.join(","), first.soundfield, first.language,
                    i.channel_labels.join(","), i.soundfield, i.language
                ),
            ));
        }
    }
    plan.findings.sort_by(|a, b| a.message.cmp(&b.message));
    if !plan.missing.is_empty() || plan.fatal.is_some() {
        return plan;
    }
    let rate = first.sample_rate_hz;
    match build_audio(&only, track_id, rate, first, &present, index, &plan) {
        Ok(audio) => plan.audio = Some(audio),
        Err(e) => plan.fatal = Some(("malformed".into(), e)),
    }
    if let Some(a) = &plan.audio {
        let (_, unknown) = channel_map_of(&a.mca.labels, a.channels);
        if !unknown.is_empty() {
            plan.findings
                .push(super::source::unknown_labels_finding(&unknown));
        }
    }
    plan
}

fn build_audio(
    cpl: &Cpl,
    track_id: &str,
    rate: u32,
    first: &MxfAudioInfo,
    present: &HashMap<String, MxfAudioInfo>,
    index: &AssetIndex,
    plan: &CompositionPlan,
) -> Result<PlanAudio, String> {
    Limits::check(rate, first.channels as usize).map_err(|e| e.to_string())?;
    let spans = cpl
        .flatten_audio_track(track_id, u64::from(rate))
        .map_err(|e| format!("cpl {}: {e}", cpl.id))?;
    let mut resources = Vec::with_capacity(spans.len());
    let mut at: u64 = 0;
    for s in spans {
        if s.duration_samples == 0 || s.repeat == 0 {
            continue; // plays nothing (reported by the core checks)
        }
        let info = present.get(&s.track_file_id).ok_or_else(|| {
            format!(
                "resource {}: track file {} was not read",
                s.resource_id, s.track_file_id
            )
        })?;
        let end_in_file = s.entry_point_samples.checked_add(s.duration_samples);
        if end_in_file.is_none_or(|e| e > info.duration_frames) {
            return Err(format!(
                "resource {} of cpl {} reads samples {}..{} of track file {}, which has {} samples",
                s.resource_id,
                cpl.id,
                s.entry_point_samples,
                end_in_file.map_or("overflow".into(), |e| e.to_string()),
                s.track_file_id,
                info.duration_frames
            ));
        }
        let len = s
            .duration_samples
            .checked_mul(s.repeat)
            .and_then(|l| at.checked_add(l).map(|end| (l, end)));
        let Some((_, end)) = len else {
            return Err(format!(
                "resource {} of cpl {}: the timeline overflows 2^64 samples",
                s.resource_id, cpl.id
            ));
        };
        let path = index.resolve(&s.track_file_id).map_err(|e| e.to_string())?;
        resources.push(PlannedResource {
            resource_id: s.resource_id,
            segment_index: s.segment_index,
            track_file_id: s.track_file_id,
            path,
            entry_frame: s.entry_point_samples,
            duration_frames: s.duration_samples,
            repeat: s.repeat,
            start_frame: at,
        });
        at = end;
    }
    let total = at;
    if total / u64::from(rate) > MAX_COMPOSITION_S {
        return Err(format!(
            "audio sequence {track_id} of cpl {} lasts {} s (repeat counts?), over the {MAX_COMPOSITION_S} s loudqc measures",
            cpl.id,
            total / u64::from(rate)
        ));
    }
    // Program = [0, total) minus the excluded ranges.
    let mut cut: Vec<(u64, u64)> = plan
        .excluded
        .iter()
        .map(|r| {
            let (a, b) = r.frames(rate);
            (a.min(total), b.min(total))
        })
        .filter(|(a, b)| a < b)
        .collect();
    cut.sort_unstable();
    let mut program = Vec::new();
    let mut pos = 0u64;
    for (a, b) in cut {
        if a > pos {
            program.push((pos, a));
        }
        pos = pos.max(b);
    }
    if pos < total {
        program.push((pos, total));
    }
    let (map, _) = channel_map_of(&first.channel_labels, first.channels as usize);
    Ok(PlanAudio {
        sample_rate_hz: rate,
        channels: first.channels as usize,
        bits_per_sample: first.bits_per_sample,
        block_align: first.block_align,
        map,
        mca: mca_info(first),
        resources,
        total_frames: total,
        program,
    })
}

/// Pair `FF..`/`LF..` markers into ranges; report unpaired ones.
fn place_markers(plan: &mut CompositionPlan, cpl: &Cpl) {
    let lt = |a: &Seconds, b: &Seconds| {
        // a < b without overflow: cross-multiplication in u128 may overflow for hostile
        // rates; compare as f64 then (ordering only, for pairing).
        match (a.num.checked_mul(b.den), b.num.checked_mul(a.den)) {
            (Some(x), Some(y)) => x < y,
            _ => seconds_f64(*a) < seconds_f64(*b),
        }
    };
    for (ff, lf, kind, excluded) in MARKER_RANGES {
        let firsts: Vec<&Marker> = cpl.markers.iter().filter(|m| m.label == ff).collect();
        let lasts: Vec<&Marker> = cpl.markers.iter().filter(|m| m.label == lf).collect();
        let mut used = vec![false; lasts.len()];
        for (i, f) in firsts.iter().enumerate() {
            let next_first = firsts.get(i + 1).map(|n| n.position);
            let pick = lasts.iter().enumerate().find(|(j, l)| {
                !used[*j]
                    && !lt(&l.position, &f.position)
                    && next_first.is_none_or(|n| lt(&l.position, &n))
            });
            match pick {
                Some((j, l)) => {
                    used[j] = true;
                    let end = l
                        .position
                        .checked_add(Seconds::from_units(1, l.edit_rate))
                        .unwrap_or(l.position);
                    let r = MarkedRange {
                        kind,
                        start: f.position,
                        end,
                    };
                    if excluded {
                        plan.excluded.push(r);
                    } else {
                        plan.ident_ranges.push(r);
                    }
                }
                None => plan.findings.push(Finding::new(
                    codes::IMF_MARKER_UNPAIRED,
                    format!(
                        "marker {ff} at {:.3} s has no matching {lf}: the {} range is not used",
                        seconds_f64(f.position),
                        kind.replace('_', " ")
                    ),
                )),
            }
        }
        for (j, l) in lasts.iter().enumerate() {
            if !used[j] {
                plan.findings.push(Finding::new(
                    codes::IMF_MARKER_UNPAIRED,
                    format!(
                        "marker {lf} at {:.3} s has no matching {ff}: the {} range is not used",
                        seconds_f64(l.position),
                        kind.replace('_', " ")
                    ),
                ));
            }
        }
    }
}

/// A composition's audio sequence as one continuous stream: resources end to end, repeats
/// played back to back, only the given composition ranges (the program) emitted.
///
/// Reads stop at resource and range boundaries (a short read is not the end; 0 is). Memory is
/// one track file reader at a time.
#[derive(Debug)]
pub struct CompositionSource {
    resources: Vec<PlannedResource>,
    ranges: Vec<(u64, u64)>,
    info: StreamInfo,
    mca: McaInfo,
    block_align: u32,
    /// Composition sample position of the next read.
    pos: u64,
    /// Index into `ranges` of the range holding `pos` (or `ranges.len()` at the end).
    range: usize,
    reader: Option<(String, MxfAudioReader)>,
}

impl CompositionSource {
    fn new(a: &PlanAudio, ranges: &[(u64, u64)]) -> CompositionSource {
        let frames: u64 = ranges.iter().map(|(x, y)| y - x).sum();
        let info = StreamInfo {
            container: "imf".into(),
            codec: format!("pcm_s{}le", a.block_align / a.channels as u32 * 8),
            sample_rate_hz: a.sample_rate_hz,
            channels: a.channels,
            bits_per_sample: Some(a.bits_per_sample),
            frames: Some(frames),
            channel_map: Some(a.map.clone()),
            bext_time_reference: None,
            ..Default::default()
        };
        let mut s = CompositionSource {
            resources: a.resources.clone(),
            ranges: ranges.to_vec(),
            info,
            mca: a.mca.clone(),
            block_align: a.block_align,
            pos: 0,
            range: 0,
            reader: None,
        };
        s.pos = s.ranges.first().map_or(0, |r| r.0);
        s
    }

    /// Composition sample position of the next read.
    pub fn composition_position(&self) -> u64 {
        self.pos
    }

    fn reader_for(&mut self, r: usize) -> CrateResult<&mut MxfAudioReader> {
        let want = &self.resources[r];
        let reopen = self
            .reader
            .as_ref()
            .is_none_or(|(id, _)| *id != want.track_file_id);
        if reopen {
            let rd = MxfAudioReader::open(&want.path)
                .map_err(|e| CrateError::from(e).with_path(&want.path))?;
            let i = rd.info();
            if i.channels as usize != self.info.channels
                || i.sample_rate_hz != self.info.sample_rate_hz
                || i.block_align != self.block_align
            {
                return Err(CrateError::malformed(format!(
                    "track file {} changed since the composition was planned",
                    want.track_file_id
                ))
                .with_path(&want.path));
            }
            self.reader = Some((want.track_file_id.clone(), rd));
        }
        Ok(&mut self.reader.as_mut().expect("just opened").1)
    }
}

impl AudioSource for CompositionSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut Vec<Vec<f32>>, max_frames: usize) -> CrateResult<usize> {
        out.resize_with(self.info.channels, Vec::new);
        for c in out.iter_mut() {
            c.clear();
        }
        // Skip to the range holding `pos`.
        while let Some(&(_, b)) = self.ranges.get(self.range) {
            if self.pos < b {
                break;
            }
            self.range += 1;
            if let Some(&(a, _)) = self.ranges.get(self.range) {
                self.pos = self.pos.max(a);
            }
        }
        let Some(&(_, range_end)) = self.ranges.get(self.range) else {
            return Ok(0);
        };
        if max_frames == 0 {
            return Ok(0);
        }
        // The resource holding `pos`.
        let r = self
            .resources
            .partition_point(|p| p.start_frame + p.timeline_frames() <= self.pos);
        let Some(res) = self.resources.get(r) else {
            return Ok(0);
        };
        let into = (self.pos - res.start_frame) % res.duration_frames;
        let file_frame = res.entry_frame + into;
        let n = (res.duration_frames - into)
            .min(range_end - self.pos)
            .min(max_frames as u64) as usize;
        let id = res.track_file_id.clone();
        let path = res.path.clone();
        let reader = self.reader_for(r)?;
        if reader.position() != file_frame {
            reader
                .seek_frame(file_frame)
                .map_err(|e| CrateError::from(e).with_path(&path))?;
        }
        let got = reader
            .read_block(n, out)
            .map_err(|e| CrateError::from(e).with_path(&path))?;
        if got != n {
            return Err(CrateError::malformed(format!(
                "track file {id} ended at sample {} while the composition needs {n} more",
                file_frame + got as u64
            ))
            .with_path(&path));
        }
        self.pos += n as u64;
        Ok(n)
    }

    /// `frame` counts samples of this source's output (excluded ranges removed).
    fn seek(&mut self, frame: u64) -> CrateResult<()> {
        let mut left = frame;
        for (i, &(a, b)) in self.ranges.iter().enumerate() {
            if left < b - a {
                self.range = i;
                self.pos = a + left;
                return Ok(());
            }
            left -= b - a;
        }
        self.range = self.ranges.len();
        self.pos = self.ranges.last().map_or(0, |r| r.1);
        Ok(())
    }

    fn mca(&self) -> Option<McaInfo> {
        Some(self.mca.clone())
    }
}

/// A core-constraint problem as a blocker finding citing its rule.
pub(crate) fn problem_finding(p: &Problem) -> Finding {
    Finding::new(p.code, format!("{} ({})", p.message, p.rule))
}

fn composition_report(plan: &CompositionPlan) -> CompositionReport {
    let range = |r: &MarkedRange| TimeRange {
        kind: r.kind.to_string(),
        start_s: seconds_f64(r.start),
        end_s: seconds_f64(r.end),
    };
    CompositionReport {
        cpl_id: plan.cpl_id.clone(),
        cpl_title: plan.cpl_title.clone(),
        cpl_path: plan.cpl_path.display().to_string(),
        edit_rate: plan.edit_rate.to_string(),
        track_id: plan.track_id.clone(),
        language: plan.language.clone(),
        soundfield: plan.soundfield.clone(),
        complete: plan.is_complete(),
        missing_track_files: plan.missing.iter().map(|m| m.id.clone()).collect(),
        track_files: plan
            .track_files
            .iter()
            .map(|(id, p)| TrackFileReport {
                id: id.clone(),
                path: p.as_ref().map(|p| p.display().to_string()),
            })
            .collect(),
        segments: plan.segments,
        resources: plan.resource_count,
        duration_s: plan.duration.map_or(0.0, seconds_f64),
        excluded: plan.excluded.iter().map(range).collect(),
        ident_ranges: plan.ident_ranges.iter().map(range).collect(),
        markers: plan
            .markers
            .iter()
            .map(|m| MarkerReport {
                label: m.label.clone(),
                at_s: seconds_f64(m.position),
            })
            .collect(),
    }
}

/// Measure one planned sequence and build its record (never fails: problems become a record
/// with verdict `error`).
pub fn check_plan(plan: &CompositionPlan, opts: &AnalyzeOptions) -> FileReport {
    let name = plan.cpl_path.display().to_string();
    let mut findings: Vec<Finding> = plan.problems.iter().map(problem_finding).collect();
    findings.extend(plan.findings.iter().cloned());
    let error_record = |kind: String, message: String, mut findings: Vec<Finding>| {
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        FileReport {
            findings,
            verdict: Verdict::Error,
            error: Some(ErrorReport { kind, message }),
            composition: Some(composition_report(plan)),
            ..FileReport::from_error(&name, &opts.profile, &CrateError::malformed(""))
        }
    };
    if let Some((kind, message)) = plan.unplayable() {
        if !plan.missing.is_empty() {
            let ids: Vec<&str> = plan.missing.iter().map(|m| m.id.as_str()).collect();
            findings.push(Finding::new(codes::IMF_TRACK_FILE_MISSING, format!(
                    "track file(s) {} of cpl {} are missing: the composition is incomplete (ST 2067-2:2016 §7)",
                    ids.join(", "),
                    plan.cpl_id
                ),
            ));
        }
        return error_record(kind, message, findings);
    }
    let Some(source) = plan.source() else {
        return error_record(
            "malformed".into(),
            format!("{name}: audio sequence {} is not playable", plan.track_id),
            findings,
        );
    };
    let audio = plan.audio.as_ref().expect("source implies audio");
    let bounded;
    let opts = match ident_window_from_markers(plan, audio, opts) {
        Some(o) => {
            bounded = o;
            &bounded
        }
        None => opts,
    };
    let analysis = match analyze::analyze_source(Box::new(source), opts) {
        Ok(a) => a,
        Err(e) => {
            let e = e.with_path(&plan.cpl_path);
            return error_record(e.kind_name().into(), e.to_string(), findings);
        }
    };
    // The same report as for a file: events, timecodes, the dialog gate and the ident search
    // (head and tail of the composition) all ran on the composition stream.
    let mut rep = analyze::report_with(&name, &analysis, opts);
    // Times of the measured stream → composition time.
    let rate = f64::from(audio.sample_rate_hz);
    let to_comp = |s: f64| {
        let f = (s * rate).round().max(0.0) as u64;
        audio.composition_frame(f) as f64 / rate
    };
    let to_comp_end = |s: f64| {
        let f = (s * rate).round().max(0.0) as u64;
        audio.composition_end_frame(f) as f64 / rate
    };
    if let Some(l) = rep.loudness.as_mut() {
        l.true_peak_at_s = l.true_peak_at_s.map(to_comp);
    }
    for f in rep.findings.iter_mut() {
        if let Some(at) = f.at_s {
            *f = f.clone().at(to_comp(at));
        }
        f.start_s = f.start_s.map(to_comp);
        f.end_s = f.end_s.map(to_comp_end);
    }
    let stream_s = analysis.measurements.frames as f64 / rate;
    let composition_s = audio.total_frames as f64 / rate;
    for id in rep.ident.iter_mut() {
        for m in [&mut id.head, &mut id.tail] {
            if let Some(at) = m.offset_s.filter(|&s| s >= 0.0) {
                let comp = to_comp(at);
                m.offset_samples = Some((comp * rate).round() as i64);
                m.offset_s = Some(comp);
            }
            for c in m.copies.iter_mut().filter(|c| c.offset_s >= 0.0) {
                c.offset_s = to_comp(c.offset_s);
                c.offset_samples = (c.offset_s * rate).round() as i64;
            }
            m.window_start_s = to_comp(m.window_start_s);
            m.window_end_s = to_comp(m.window_end_s);
            // The gap after the ident, to the end of the composition (a tail slate counts).
            m.end_gap_s = m
                .end_gap_s
                .map(|g| composition_s - to_comp((stream_s - g).max(0.0)));
        }
    }
    if !plan.excluded.is_empty() {
        let list: Vec<String> = plan
            .excluded
            .iter()
            .map(|r| {
                format!(
                    "{} {}–{}",
                    r.kind.replace('_', " "),
                    crate::timecode::seconds_to_clock(seconds_f64(r.start)),
                    crate::timecode::seconds_to_clock(seconds_f64(r.end))
                )
            })
            .collect();
        findings.push(
            Finding::new(codes::IMF_EXCLUDED_FROM_LOUDNESS, format!(
                    "left out of program loudness and peaks (CPL markers): {}; {} of {} samples measured",
                    list.join(", "),
                    analysis.measurements.frames,
                    audio.total_frames
                ),
            )
            .value(
                (audio.total_frames - analysis.measurements.frames) as f64 / rate,
                None,
            ),
        );
    }
    rep.findings.extend(findings);
    // SMPTE labels from composition time, for every finding (the mapped ones and those added
    // here).
    rep.verdict = spec::finalize(&mut rep.findings, &opts.profile, Some(&analysis.timecode));
    let comp = composition_report(plan);
    // What `--resume` compares: the CPL and every track file it plays, with size and mtime.
    rep.inputs = plan.inputs();
    rep.composition = Some(comp);
    rep
}

/// Seconds of margin around a logo range when it bounds the ident search.
const LOGO_MARGIN_S: f64 = 1.0;

/// When the CPL marks company/distribution logos (where a stitched ident sits) and the user did
/// not set `--ident-window`, bound the head and tail searches to them: each window reaches just
/// past the farthest logo range on its side (plus [`LOGO_MARGIN_S`]). `None` keeps `opts`.
fn ident_window_from_markers(
    plan: &CompositionPlan,
    audio: &PlanAudio,
    opts: &AnalyzeOptions,
) -> Option<AnalyzeOptions> {
    let io = opts.ident.as_ref()?;
    if io.window_s.is_some() || plan.ident_ranges.is_empty() {
        return None;
    }
    let rate = audio.sample_rate_hz;
    let total = audio.measured_frames();
    let need = plan
        .ident_ranges
        .iter()
        .map(|r| {
            let (a, b) = r.frames(rate);
            let (ma, mb) = (audio.measured_frame(a), audio.measured_frame(b));
            // A range in the first half bounds the head window, else the tail window.
            if ma < total / 2 {
                mb
            } else {
                total - ma
            }
        })
        .max()?;
    let window_s = need as f64 / f64::from(rate) + LOGO_MARGIN_S;
    let window_s = window_s.min(crate::ident::MAX_WINDOW_S);
    Some(
        opts.clone()
            .with_ident(Some(io.clone().with_window_s(Some(window_s)))),
    )
}

/// True when `path` is an IMF input: a folder holding an `ASSETMAP.xml`/`ASSETMAP`, or an XML
/// file whose root element is `CompositionPlaylist`.
pub fn is_imf_input(path: &Path) -> bool {
    if path.is_dir() {
        return has_assetmap(path);
    }
    let is_xml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"));
    is_xml
        && super::cpl::read_xml_file(path).is_ok_and(|x| {
            roxmltree::Document::parse(&x)
                .is_ok_and(|d| d.root_element().tag_name().name() == "CompositionPlaylist")
        })
}

fn has_assetmap(dir: &Path) -> bool {
    ["ASSETMAP.xml", "ASSETMAP"]
        .iter()
        .any(|n| dir.join(n).is_file())
}

/// The package folder of an `--assetmap` value: the folder itself, or the folder of an
/// `ASSETMAP(.xml)` file.
fn package_dir(p: &Path) -> PathBuf {
    if p.is_file() {
        p.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        p.to_path_buf()
    }
}

/// The IMF side of a `loudqc check` run: one merged asset index over every IMF folder given
/// (and the folders of CPL files given) plus `--assetmap` packages, so that a supplemental
/// package's CPL finds the original package's track files and vice versa.
#[derive(Debug, Default)]
pub struct ImfBatch {
    index: AssetIndex,
    bad_maps: Vec<(PathBuf, Error)>,
}

impl ImfBatch {
    /// Load the asset maps of the IMF `inputs` (non-IMF paths are ignored) and of `assetmaps`.
    /// A broken asset map does not stop the others; see [`ImfBatch::assetmap_errors`].
    pub fn new(inputs: &[PathBuf], assetmaps: &[PathBuf]) -> ImfBatch {
        let mut b = ImfBatch::default();
        let mut seen: Vec<PathBuf> = Vec::new();
        let dirs = inputs
            .iter()
            .filter(|p| is_imf_input(p))
            .map(|p| package_dir(p))
            .chain(assetmaps.iter().map(|p| package_dir(p)));
        for d in dirs {
            let key = d.canonicalize().unwrap_or_else(|_| d.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let has_map = has_assetmap(&d);
            let explicit = assetmaps.iter().any(|a| package_dir(a) == d);
            if !has_map && !explicit {
                continue; // a CPL file in a folder without asset map
            }
            if let Err(e) = b.index.add_package(&d) {
                b.bad_maps.push((d, e));
            }
        }
        b
    }

    /// The merged index.
    pub fn index(&self) -> &AssetIndex {
        &self.index
    }

    /// The index plus the `.mxf` files of `dir` that no asset map lists, keyed by the track
    /// file id of their headers.
    fn with_sibling_track_files(&self, dir: &Path) -> AssetIndex {
        let mut idx = self.index.clone();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return idx;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("mxf")))
            .collect();
        files.sort();
        for p in files {
            let Ok(info) = MxfAudioInfo::read(&p) else {
                continue; // not an audio track file (video, damaged): not ours to judge here
            };
            let (Some(id), Some(name)) = (info.track_file_id, p.file_name()) else {
                continue;
            };
            idx.assets.entry(id.clone()).or_insert(super::AssetEntry {
                id,
                path: PathBuf::from(name),
                root: dir.to_path_buf(),
                is_packing_list: false,
                chunk_count: 1,
            });
        }
        idx
    }

    /// One error record per asset map that could not be read.
    pub fn assetmap_errors(&self, profile: &Profile) -> Vec<FileReport> {
        self.bad_maps
            .iter()
            .map(|(d, e)| {
                let err = CrateError::malformed(format!("asset map: {e}")).with_path(d);
                FileReport::from_error(&d.display().to_string(), profile, &err)
            })
            .collect()
    }

    /// Plan the compositions of one IMF input (a package folder: all its CPLs; a CPL file: that
    /// one). Errors (unreadable CPL, package without CPL) are returned per CPL/input.
    pub fn plans(&self, input: &Path) -> Vec<Result<CompositionPlan, (PathBuf, Error)>> {
        let cpls = if input.is_dir() {
            match super::find_cpls(input) {
                Ok(c) if c.is_empty() => {
                    return vec![Err((
                        input.to_path_buf(),
                        Error::Cpl("the package's asset map lists no composition playlist".into()),
                    ))]
                }
                Ok(c) => c,
                Err(e) => return vec![Err((input.to_path_buf(), e))],
            }
        } else {
            vec![input.to_path_buf()]
        };
        // A CPL file in a folder without an asset map: its sibling track files are found by the
        // track file id in their headers (ST 2067-2 §5.1: the file package UMID).
        let fallback;
        let index = if !input.is_dir() && !has_assetmap(&package_dir(input)) {
            fallback = self.with_sibling_track_files(&package_dir(input));
            &fallback
        } else {
            &self.index
        };
        let mut out = Vec::new();
        for c in cpls {
            match CompositionPlan::for_cpl(&c, index) {
                Ok(plans) => out.extend(plans.into_iter().map(Ok)),
                Err(e) => out.push(Err((c, e))),
            }
        }
        out
    }

    /// Check one IMF input: one record per (CPL, main audio sequence).
    pub fn check(&self, input: &Path, opts: &AnalyzeOptions) -> Vec<FileReport> {
        self.plans(input)
            .into_iter()
            .map(|p| match p {
                Ok(plan) => check_plan(&plan, opts),
                Err((path, e)) => FileReport::from_error(
                    &path.display().to_string(),
                    &opts.profile,
                    &CrateError::from(e).with_path(&path),
                ),
            })
            .collect()
    }
}
