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
//!
//! The plan is built here; `play` plays it ([`CompositionSource`]), `check` measures it
//! into a record, and `batch` finds IMF inputs and their asset maps.

mod batch;
mod check;
mod play;

pub use batch::{is_imf_input, ImfBatch};
pub use check::check_plan;
pub(crate) use check::problem_finding;
pub use play::CompositionSource;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::channels::ChannelMap;
use crate::decode::{Limits, McaInfo};
use crate::error::{Error as CrateError, Result as CrateResult};
use crate::spec::Finding;

use super::mxf::MxfAudioInfo;
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
