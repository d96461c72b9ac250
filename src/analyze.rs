//! The pipeline for one file: decode → meter (+ speech gate) → spec → report.
//!
//! Decoding runs on its own thread, a few blocks ahead of the meter (which itself splits
//! channels across threads), so reading and converting PCM overlaps with measuring it. The
//! speech gate ([`crate::dialog`]) sees every block too, alongside the meter (`rayon::join`).

use std::path::Path;
use std::sync::mpsc;

use crate::channels::{ChannelMap, MapSource};
use crate::decode::{self, AudioSource, StreamInfo};
use crate::dialog::{self, DialogConfig, DialogGate, DialogMeasurement};
use crate::error::{Error, ErrorKind, Result};
use crate::events::{self, EventConfig, EventScanner, SignalSummary};
use crate::ident::{self, IdentOptions, IdentReport};
use crate::integrity::{IntegrityConfig, IntegrityObservations, IntegrityScanner};
use crate::meter::{amplitude_to_db, energy_to_lufs, Measurements, Meter, MeterConfig};
use crate::report::{
    DialogGateReport, EngineInfo, ErrorReport, FileReport, FormatReport, IntegrityReport,
    LoudnessReport, PairReport, SignalReport, TimecodeReport, TimelineReport, SCHEMA_VERSION,
};
use crate::spec::{self, Finding, Observed, Profile, Verdict};
use crate::timecode::{Fps, Timecode};

/// Frames decoded per block handed to the meter.
const BLOCK_FRAMES: usize = 1 << 16;

/// Options of one analysis. `#[non_exhaustive]`: start from `AnalyzeOptions::default()`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AnalyzeOptions {
    /// The delivery profile.
    pub profile: Profile,
    /// A channel map overriding the file's (`--channels L,R,C,LFE,Ls,Rs`).
    pub channels: Option<String>,
    /// Meter options.
    pub meter: MeterConfig,
    /// Extra IMF asset maps (package folders or ASSETMAP files) used to find the track files
    /// of compositions: supplemental packages (`--assetmap`).
    pub assetmaps: Vec<std::path::PathBuf>,
    /// Which events (overs, loud regions, clipping, silence, DC) to report.
    pub events: EventConfig,
    /// Timecode frame rate of the findings (`--fps`, default 24).
    pub fps: Fps,
    /// Start timecode overriding the file's BWF `bext` reference (`--tc-start HH:MM:SS:FF`).
    pub tc_start: Option<String>,
    /// Put the 10 Hz loudness/true-peak timeline in the report (`--timeline`, `--html`).
    pub timeline: bool,
    /// Speech-gate options (dialog-gated loudness).
    pub dialog: DialogConfig,
    /// Ident detection at head and tail (`None`: not searched).
    pub ident: Option<IdentOptions>,
    /// Channel and signal integrity scan (`None`: off).
    pub integrity: Option<IntegrityConfig>,
    /// Told how far decoding has got (for progress bars).
    pub progress: Option<ProgressFn>,
    /// Audio tracks to measure, 1-based (`--track N`, repeatable); empty: loudqc chooses.
    pub tracks: Vec<usize>,
}

/// A progress callback: called from the decoding thread after each block with the frames
/// decoded so far and the stream's length in frames when the container says.
#[derive(Clone)]
pub struct ProgressFn(pub std::sync::Arc<dyn Fn(u64, Option<u64>) + Send + Sync>);

impl std::fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressFn(..)")
    }
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            profile: Profile::streaming(),
            channels: None,
            meter: MeterConfig::default(),
            assetmaps: Vec::new(),
            events: EventConfig::default(),
            fps: Fps::default(),
            tc_start: None,
            timeline: false,
            dialog: DialogConfig::default(),
            ident: None,
            progress: None,
            integrity: Some(IntegrityConfig::default()),
            tracks: Vec::new(),
        }
    }
}

impl AnalyzeOptions {
    /// Use `profile`.
    pub fn with_profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }
    /// Override the channel map.
    pub fn with_channels(mut self, spec: Option<String>) -> Self {
        self.channels = spec;
        self
    }
    /// Use these meter options.
    pub fn with_meter(mut self, meter: MeterConfig) -> Self {
        self.meter = meter;
        self
    }
    /// Use these extra IMF asset maps (supplemental packages).
    pub fn with_assetmaps(mut self, assetmaps: Vec<std::path::PathBuf>) -> Self {
        self.assetmaps = assetmaps;
        self
    }
    /// Use these event options.
    pub fn with_events(mut self, events: EventConfig) -> Self {
        self.events = events;
        self
    }
    /// Label findings at `fps`, starting at `tc_start` (a label) if given, else at the file's
    /// BWF start.
    pub fn with_timecode(mut self, fps: Fps, tc_start: Option<String>) -> Self {
        self.fps = fps;
        self.tc_start = tc_start;
        self
    }
    /// Put the 10 Hz timeline in the report or not.
    pub fn with_timeline(mut self, on: bool) -> Self {
        self.timeline = on;
        self
    }

    /// The meter options this analysis needs: the configured ones, plus true-peak overs at the
    /// profile's limit (events) and the true-peak timeline (timeline).
    pub fn effective_meter(&self) -> MeterConfig {
        let mut m = self.meter.clone();
        if self.events.enabled && m.over_threshold_dbtp.is_none() {
            // At least 10 ms: the meter keeps every stretch, so the gap bounds its list (≤ 100
            // stretches a second per channel, whatever the signal).
            let gap_s = self.events.over_gap_s.max(events::MIN_OVER_GAP_S);
            m = m.with_overs(Some(self.profile.max_true_peak_dbtp), gap_s);
        }
        if self.timeline {
            m = m.with_true_peak_timeline(true);
        }
        m
    }
    /// Use these speech-gate options.
    pub fn with_dialog(mut self, dialog: DialogConfig) -> Self {
        self.dialog = dialog;
        self
    }
    /// Report decoding progress to `progress`.
    pub fn with_progress(mut self, progress: Option<ProgressFn>) -> Self {
        self.progress = progress;
        self
    }
    /// Run the integrity scan with `cfg` (`None`: off).
    pub fn with_integrity(mut self, cfg: Option<IntegrityConfig>) -> Self {
        self.integrity = cfg;
        self
    }
    /// Search for idents at head and tail.
    pub fn with_ident(mut self, ident: Option<IdentOptions>) -> Self {
        self.ident = ident;
        self
    }
    /// Measure these audio tracks (1-based; empty: loudqc chooses).
    pub fn with_tracks(mut self, tracks: Vec<usize>) -> Self {
        self.tracks = tracks;
        self
    }
}

/// The measurements of one stream, with what it was.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The stream as the decoder describes it.
    pub info: StreamInfo,
    /// The channel map used.
    pub map: ChannelMap,
    /// The readings.
    pub measurements: Measurements,
    /// Packets skipped by the decoder.
    pub skipped_packets: u64,
    /// Packets decoded, when the source counts them.
    pub decoded_packets: Option<u64>,
    /// MCA labelling of the source (IMF), if any.
    pub mca: Option<crate::decode::McaInfo>,
    /// Findings the source reported about its container (IMF core constraints).
    pub container_findings: Vec<Finding>,
    /// The per-sample scan (clipping, silence, DC), when events are on.
    pub signal: Option<SignalSummary>,
    /// The timecode clock of the file.
    pub timecode: Timecode,
    /// The speech gate's reading (`None` when it is off).
    pub dialog: Option<DialogMeasurement>,
    /// Ident search results, one per reference (empty when not searched).
    pub ident: Vec<IdentReport>,
    /// Findings of the ident search under its policy.
    pub ident_findings: Vec<Finding>,
    /// What the integrity scan observed (`None` when off).
    pub integrity: Option<IntegrityObservations>,
}

/// Decide the channel map: the user's, else the container's, else by count.
pub fn resolve_map(info: &StreamInfo, user: Option<&str>) -> Result<ChannelMap> {
    match user {
        Some(spec) => ChannelMap::parse_user(spec, info.channels),
        None => Ok(info
            .channel_map
            .clone()
            .unwrap_or_else(|| ChannelMap::from_count(info.channels))),
    }
}

/// Decode and measure a file.
pub fn analyze_path(path: &Path, opts: &AnalyzeOptions) -> Result<Analysis> {
    let source = decode::open_path_with(
        path,
        &decode::OpenOptions::default().with_tracks(opts.tracks.clone()),
    )?;
    analyze_source(source, opts).map_err(|e| e.with_path(path))
}

/// Measure an opened source to its end.
pub fn analyze_source(mut source: Box<dyn AudioSource>, opts: &AnalyzeOptions) -> Result<Analysis> {
    let info = source.info().clone();
    let mca = source.mca();
    let container_findings = source.container_findings();
    let map = resolve_map(&info, opts.channels.as_deref())?;
    let timecode = Timecode::for_file(
        opts.fps,
        opts.tc_start.as_deref(),
        info.bext_time_reference,
        info.sample_rate_hz,
    )
    .map_err(|e| Error::invalid("start timecode (--tc-start)", "HH:MM:SS:FF", e))?;
    let mut meter = Meter::new(info.sample_rate_hz, &map, &opts.effective_meter())?;
    let mut scanner = opts.events.enabled.then(|| {
        EventScanner::new(
            info.channels,
            info.sample_rate_hz,
            int_full_scale_of(&info),
            &opts.events,
        )
    });
    let mut integrity = opts.integrity.as_ref().map(|cfg| {
        // The spec's limits decide what the scan keeps (e.g. shorter drop-outs).
        let cfg = opts.profile.integrity.scanner_config(cfg);
        IntegrityScanner::new(info.sample_rate_hz, &map, &cfg)
    });
    let mut gate = if opts.dialog.enabled {
        // The spec decides how much speech a dialog-gated value needs.
        let cfg = opts
            .dialog
            .clone()
            .with_min_speech_percent(opts.profile.min_speech_percent);
        Some(DialogGate::new(info.sample_rate_hz, &map, &cfg)?)
    } else {
        None
    };

    // Reader thread → meter, with buffers recycled back to the reader.
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<Vec<f32>>>(2);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<Vec<f32>>>();
    for _ in 0..3 {
        empty_tx.send(Vec::new()).expect("receiver alive");
    }
    // The integrity scan runs on the reader thread, the event scan after the meter: on two
    // cores the reader and the meter's thread are each about half of a `--no-dialog` check
    // (issue 17). The source comes back for the ident search.
    type Done = (u64, Option<IntegrityScanner>, Box<dyn AudioSource>);
    let (skipped, integrity, mut source) = std::thread::scope(|scope| -> Result<Done> {
        let progress = opts.progress.clone();
        let reader = scope.spawn(move || -> Result<Done> {
            let mut decoded = 0u64;
            while let Ok(mut buf) = empty_rx.recv() {
                let n = source.read(&mut buf, BLOCK_FRAMES)?;
                if n == 0 {
                    break;
                }
                decoded += n as u64;
                if let Some(p) = &progress {
                    (p.0)(decoded, source.info().frames);
                }
                let refs: Vec<&[f32]> = buf.iter().map(|c| c.get(..n).unwrap_or(c)).collect();
                if let Some(sc) = integrity.as_mut() {
                    sc.push_planar(&refs);
                }
                if full_tx.send(buf).is_err() {
                    break;
                }
            }
            Ok((source.skipped_packets(), integrity, source))
        });
        let mut push_result = Ok(());
        for buf in full_rx.iter() {
            let refs: Vec<&[f32]> = buf.iter().map(|c| c.as_slice()).collect();
            let mut meter_and_events = || {
                let metered = meter.push_planar(&refs);
                if let Some(sc) = scanner.as_mut() {
                    sc.push_planar(&refs);
                }
                metered
            };
            let (metered, gated) = match gate.as_mut() {
                Some(g) => rayon::join(meter_and_events, || g.push_planar(&refs)),
                None => (meter_and_events(), Ok(())),
            };
            if let Err(e) = metered.and(gated) {
                push_result = Err(e);
                break;
            }
            let _ = empty_tx.send(buf);
        }
        drop(empty_tx);
        drop(full_rx);
        let done = reader
            .join()
            .map_err(|_| Error::malformed("decoder thread panicked"))??;
        push_result?;
        Ok(done)
    })?;
    let measurements = meter.finish();
    let decoded_packets = source.decoded_packets();
    // Nothing unmeasured is judged: no frames, mostly lost packets or impossible samples are
    // an error naming the container, never a reading.
    let labels = map.labels();
    spec::measurable(&Observed::new(&measurements, &labels).with_stream(
        &info,
        skipped,
        decoded_packets,
    ))
    .map_err(|why| Error::new(ErrorKind::Unmeasurable(why)))?;
    let dialog = gate
        .map(|g| g.finish(&measurements.block_energies))
        .transpose()?;
    // Ident search after the meter, on the same source: it seeks to the head, tail and a few
    // body windows only, and knows the exact length now even when the container did not say.
    let (ident, ident_findings) = match &opts.ident {
        Some(io) if !io.references.is_empty() => {
            let reports =
                ident::search_source(source.as_mut(), measurements.frames, &map.labels(), io)?;
            let f = crate::spec::ident::findings(&reports, io.policy);
            (reports, f)
        }
        _ => (Vec::new(), Vec::new()),
    };
    Ok(Analysis {
        info,
        map,
        measurements,
        skipped_packets: skipped,
        decoded_packets,
        mca,
        container_findings,
        signal: scanner.map(EventScanner::finish),
        timecode,
        dialog,
        ident,
        ident_findings,
        integrity: integrity.map(IntegrityScanner::finish),
    })
}

/// The largest positive sample of an integer PCM stream, as decoded; `None` for float.
fn int_full_scale_of(info: &StreamInfo) -> Option<f32> {
    let float =
        info.codec.contains("f32") || info.codec.contains("f64") || info.codec.contains("float");
    if float {
        None
    } else {
        info.bits_per_sample.and_then(events::int_full_scale)
    }
}

/// Round to the 0.1 dB of the compact timeline.
fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The 10 Hz timeline of `m` (see [`TimelineReport`] for the alignment).
pub fn timeline(m: &Measurements) -> TimelineReport {
    let s100 = (m.sample_rate_hz as u64 + 5) / 10;
    let n = (m.frames / s100.max(1)) as usize;
    let gate = crate::meter::ABSOLUTE_GATE_LUFS;
    let lufs = |e: Option<&f64>| {
        e.filter(|&&e| e > 0.0)
            .map(|&e| energy_to_lufs(e))
            .filter(|&l| l >= gate)
            .map(tenth)
    };
    let tp = |k: usize| {
        m.true_peak_timeline
            .iter()
            .filter_map(|c| c.get(k).copied())
            .fold(None, |acc: Option<f32>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            })
            .filter(|&v| v > 0.0)
            .map(|v| tenth(amplitude_to_db(f64::from(v))))
    };
    TimelineReport {
        interval_s: 0.1,
        momentary_lufs: (0..n)
            .map(|k| k.checked_sub(3).and_then(|j| lufs(m.block_energies.get(j))))
            .collect(),
        short_term_lufs: (0..n)
            .map(|k| {
                k.checked_sub(29)
                    .and_then(|j| lufs(m.short_term_energies.get(j)))
            })
            .collect(),
        true_peak_dbtp: (0..n).map(tp).collect(),
        speech_s: Vec::new(),
    }
}

/// The stretches the speech gate classified as speech: 400 ms blocks every 100 ms, merged.
pub fn speech_regions(d: &DialogMeasurement) -> Vec<[f64; 2]> {
    let mut out: Vec<[f64; 2]> = Vec::new();
    for (k, _) in d.block_speech.iter().enumerate().filter(|(_, &s)| s) {
        let (a, b) = (k as f64 * 0.1, k as f64 * 0.1 + 0.4);
        match out.last_mut() {
            Some(last) if a <= last[1] + 1e-9 => last[1] = b,
            _ => out.push([a, b]),
        }
    }
    out
}

/// Build the report of a finished analysis under `profile` (default event options, no timeline).
pub fn report(file: &str, a: &Analysis, profile: &Profile) -> FileReport {
    report_with(
        file,
        a,
        &AnalyzeOptions::default().with_profile(profile.clone()),
    )
}

/// The record's `loudness` object from the meter's readings and, when the speech gate ran, its
/// measurement (`None`: as `--no-dialog` writes it). `report_with` builds the record's with it;
/// embedders that meter samples themselves get the same object.
///
/// ```
/// use loudqc::analyze::loudness_report;
/// use loudqc::channels::ChannelMap;
/// use loudqc::meter::{Meter, MeterConfig};
/// let mut meter = Meter::new(48_000, &ChannelMap::from_count(1), &MeterConfig::default())?;
/// meter.push_interleaved(&vec![0.1f32; 48_000])?;
/// let loudness = loudness_report(&meter.finish(), None);
/// assert!((loudness.sample_peak_dbfs.unwrap() + 20.0).abs() < 1e-6);
/// assert!(loudness.null_reasons.contains_key("dialog_gated_lufs"));
/// # Ok::<(), loudqc::Error>(())
/// ```
pub fn loudness_report(m: &Measurements, dialog: Option<&DialogMeasurement>) -> LoudnessReport {
    let dialog_unmeasured = match dialog {
        Some(d) => d.unmeasured.clone(),
        None => DialogMeasurement::off_reasons(),
    };
    LoudnessReport {
        integrated_lufs: m.integrated_lufs,
        loudness_range_lu: m.loudness_range_lu,
        max_momentary_lufs: m.max_momentary_lufs,
        max_short_term_lufs: m.max_short_term_lufs,
        sample_peak_dbfs: m.sample_peak_dbfs,
        sample_peak_per_channel_dbfs: m.sample_peak_per_channel_dbfs.clone(),
        true_peak_dbtp: m.true_peak_dbtp,
        true_peak_per_channel_dbtp: m.true_peak_per_channel_dbtp.clone(),
        true_peak_oversampling: m.true_peak_oversampling,
        true_peak_at_s: m.true_peak_at_s,
        null_reasons: m
            .unmeasured
            .iter()
            .chain(&dialog_unmeasured)
            .map(|u| (u.field.to_string(), u.reason.clone()))
            .collect(),
        dialog_gated_lufs: dialog.and_then(|d| d.dialog_gated_lufs),
        speech_percent: dialog.and_then(|d| d.speech_percent),
    }
}

/// Build the report of a finished analysis under `opts` (profile, events, timeline).
pub fn report_with(file: &str, a: &Analysis, opts: &AnalyzeOptions) -> FileReport {
    let profile = &opts.profile;
    let m = &a.measurements;
    let labels = a.map.labels();
    let obs = Observed::new(m, &labels)
        .with_dialog(a.dialog.as_ref())
        .with_signal(a.signal.as_ref())
        .with_stream(&a.info, a.skipped_packets, a.decoded_packets);
    let mut findings = spec::evaluate(&obs, profile, Some(&opts.events));
    findings.extend(a.container_findings.iter().cloned());
    // Issue 16: container observations (unset sizes, tracks) → findings.
    findings.extend(spec::container::evaluate(
        &a.info.observed,
        &spec::container::ContainerLimits::default(),
    ));
    findings.extend(a.ident_findings.iter().cloned());
    findings.extend(spec::integrity::findings(
        a.integrity.as_ref(),
        a.dialog.as_ref(),
        profile.element,
        &labels,
        &profile.integrity,
    ));
    let verdict = spec::finalize(&mut findings, profile, Some(&a.timecode));
    let error = (verdict == Verdict::Error).then(|| ErrorReport {
        kind: "invalid_samples".into(),
        message: format!(
            "{file}: {}",
            findings
                .iter()
                .find(|f| spec::ERROR_CODES.contains(&f.code))
                .map_or("", |f| f.message.as_str())
        ),
    });
    let format = FormatReport {
        container: a.info.container.clone(),
        codec: a.info.codec.clone(),
        sample_rate_hz: a.info.sample_rate_hz,
        channels: a.info.channels,
        channel_map: labels.clone(),
        channel_map_source: match a.map.source {
            MapSource::ChannelMask => "channel_mask",
            MapSource::Container => "container",
            MapSource::ChannelCount => "channel_count",
            MapSource::User => "user",
            MapSource::FileNames => "file_names",
        }
        .into(),
        channel_weights: a.map.weights(),
        bits_per_sample: a.info.bits_per_sample,
        duration_s: m.duration_s(),
        frames: m.frames,
        mca: a.mca.clone(),
        tracks: a.info.observed.tracks.clone(),
    };
    let loudness = loudness_report(m, a.dialog.as_ref());
    let dialog_gate = a.dialog.as_ref().map(|d| DialogGateReport {
        detector: dialog::DETECTOR_NAME.into(),
        version: dialog::GATE_VERSION.into(),
        model: dialog::MODEL_VERSION.into(),
        channels: d.channels.clone(),
        speech_blocks: d.speech_blocks,
        gated_blocks: d.gated_blocks,
        min_speech_percent: d.min_speech_percent,
    });
    let integrity = a.integrity.as_ref().map(|o| IntegrityReport {
        pairs: o
            .pairs
            .iter()
            .map(|p| PairReport {
                channels: format!(
                    "{}+{}",
                    labels.get(p.left).map_or("?", String::as_str),
                    labels.get(p.right).map_or("?", String::as_str)
                ),
                correlation: p.correlation,
                downmix_gain_db: p.downmix_gain_db,
            })
            .collect(),
        downmix_51_gain_db: o.downmix_51_gain_db,
        lfe_above_band_db: o.lfe.as_ref().and_then(|b| b.above_band_db),
        speech_s_per_channel: a
            .dialog
            .iter()
            .flat_map(|d| &d.per_channel)
            .map(|c| (c.channels.join("+"), c.speech_s))
            .collect(),
    });
    FileReport {
        integrity,
        schema_version: SCHEMA_VERSION,
        file: file.to_string(),
        engine: EngineInfo::default(),
        profile: profile.clone(),
        format: Some(format),
        loudness: Some(loudness),
        dialog_gate,
        findings,
        verdict,
        error,
        composition: None,
        inputs: Vec::new(),
        timecode: Some(TimecodeReport {
            fps: a.timecode.fps,
            drop_frame: a.timecode.fps.drop_frame(),
            start: a.timecode.start_label(),
            start_source: a.timecode.source,
        }),
        signal: a.signal.as_ref().map(|s| {
            let rate = f64::from(s.sample_rate_hz.max(1));
            SignalReport {
                leading_silence_s: s.leading_silence_frames as f64 / rate,
                trailing_silence_s: s.trailing_silence_frames as f64 / rate,
                silence_level_dbfs: opts.events.silence_dbfs,
                dc_offset_per_channel_dbfs: s.channels.iter().map(|c| c.dc_dbfs()).collect(),
                clipped_samples_per_channel: s.channels.iter().map(|c| c.clipped_samples).collect(),
                // The f32 level as its shortest decimal (0.999, not 0.9990000128746033).
                clip_level: s
                    .clip_level
                    .to_string()
                    .parse()
                    .unwrap_or(f64::from(s.clip_level)),
            }
        }),
        timeline: opts.timeline.then(|| {
            let mut t = timeline(m);
            t.speech_s = a.dialog.as_ref().map(speech_regions).unwrap_or_default();
            t
        }),
        ident: a.ident.clone(),
        rules: spec::rule_checks(m, a.dialog.as_ref(), profile),
        correction: spec::correction(m, a.dialog.as_ref(), profile),
    }
}

/// Check one file end to end. Never fails: an unreadable file is a report with verdict `error`.
pub fn check_path(path: &Path, opts: &AnalyzeOptions) -> FileReport {
    let name = path.display().to_string();
    match analyze_path(path, opts) {
        Ok(a) => report_with(&name, &a, opts),
        Err(e) => FileReport::from_error(&name, &opts.profile, &e.with_path(path)),
    }
}
