//! The pipeline for one file: decode → meter → spec → report.
//!
//! Decoding runs on its own thread, a few blocks ahead of the meter (which itself splits
//! channels across threads), so reading and converting PCM overlaps with measuring it.

use std::path::Path;
use std::sync::mpsc;

use crate::channels::{ChannelMap, MapSource};
use crate::decode::{self, AudioSource, StreamInfo};
use crate::error::{Error, Result};
use crate::ident::{self, IdentOptions, IdentReport};
use crate::meter::{Measurements, Meter, MeterConfig};
use crate::report::{
    EngineInfo, ErrorReport, FileReport, FormatReport, LoudnessReport, Verdict, SCHEMA_VERSION,
};
use crate::spec::{self, codes, Finding, Profile, Severity};

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
    /// Ident detection at head and tail (`None`: not searched).
    pub ident: Option<IdentOptions>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            profile: Profile::streaming(),
            channels: None,
            meter: MeterConfig::default(),
            ident: None,
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
    /// Search for idents at head and tail.
    pub fn with_ident(mut self, ident: Option<IdentOptions>) -> Self {
        self.ident = ident;
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
    /// Ident search results, one per reference (empty when not searched).
    pub ident: Vec<IdentReport>,
    /// Findings of the ident search under its policy.
    pub ident_findings: Vec<Finding>,
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
    let source = decode::open_path(path)?;
    analyze_source(source, opts).map_err(|e| e.with_path(path))
}

/// Measure an opened source to its end.
pub fn analyze_source(mut source: Box<dyn AudioSource>, opts: &AnalyzeOptions) -> Result<Analysis> {
    let info = source.info().clone();
    let map = resolve_map(&info, opts.channels.as_deref())?;
    let mut meter = Meter::new(info.sample_rate_hz, &map, &opts.meter)?;

    // Reader thread → meter, with buffers recycled back to the reader.
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<Vec<f32>>>(2);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<Vec<f32>>>();
    for _ in 0..3 {
        empty_tx.send(Vec::new()).expect("receiver alive");
    }
    let (skipped, mut source) = std::thread::scope(|scope| -> Result<_> {
        let reader = scope.spawn(move || -> Result<(u64, Box<dyn AudioSource>)> {
            while let Ok(mut buf) = empty_rx.recv() {
                let n = source.read(&mut buf, BLOCK_FRAMES)?;
                if n == 0 {
                    break;
                }
                if full_tx.send(buf).is_err() {
                    break;
                }
            }
            Ok((source.skipped_packets(), source))
        });
        let mut push_result = Ok(());
        for buf in full_rx.iter() {
            let refs: Vec<&[f32]> = buf.iter().map(|c| c.as_slice()).collect();
            if let Err(e) = meter.push_planar(&refs) {
                push_result = Err(e);
                break;
            }
            let _ = empty_tx.send(buf);
        }
        drop(empty_tx);
        drop(full_rx);
        let skipped = reader
            .join()
            .map_err(|_| Error::malformed("decoder thread panicked"))??;
        push_result?;
        Ok(skipped)
    })?;
    let measurements = meter.finish();
    // Ident search after the meter, on the same source: it seeks to the head, tail and a few
    // body windows only, and knows the exact length now even when the container did not say.
    let (ident, ident_findings) = match &opts.ident {
        Some(io) if !io.references.is_empty() => {
            let reports =
                ident::search_source(source.as_mut(), measurements.frames, &map.labels(), io)?;
            let f = ident::findings(&reports, io.policy);
            (reports, f)
        }
        _ => (Vec::new(), Vec::new()),
    };
    Ok(Analysis {
        info,
        map,
        measurements,
        skipped_packets: skipped,
        ident,
        ident_findings,
    })
}

/// Build the report of a finished analysis under `profile`.
pub fn report(file: &str, a: &Analysis, profile: &Profile) -> FileReport {
    let m = &a.measurements;
    let labels = a.map.labels();
    let mut findings = spec::evaluate(m, profile, &labels);
    if a.skipped_packets > 0 {
        findings.push(
            Finding::new(
                codes::DECODE_SKIPPED_PACKETS,
                Severity::Issue,
                format!(
                    "{} packets could not be decoded and were skipped",
                    a.skipped_packets
                ),
            )
            .value(a.skipped_packets as f64, Some(0.0)),
        );
    }
    findings.extend(a.ident_findings.iter().cloned());
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let non_finite = findings
        .iter()
        .find(|f| f.code == codes::NON_FINITE_SAMPLES);
    let (verdict, error) = if let Some(f) = non_finite {
        (
            Verdict::Error,
            Some(ErrorReport {
                kind: "invalid_samples".into(),
                message: format!("{file}: {}", f.message),
            }),
        )
    } else if findings.iter().any(|f| f.severity == Severity::Blocker) {
        (Verdict::Fail, None)
    } else {
        (Verdict::Pass, None)
    };
    let format = FormatReport {
        container: a.info.container.clone(),
        codec: a.info.codec.clone(),
        sample_rate_hz: a.info.sample_rate_hz,
        channels: a.info.channels,
        channel_map: labels,
        channel_map_source: match a.map.source {
            MapSource::ChannelMask => "channel_mask",
            MapSource::Container => "container",
            MapSource::ChannelCount => "channel_count",
            MapSource::User => "user",
        }
        .into(),
        channel_weights: a.map.weights(),
        bits_per_sample: a.info.bits_per_sample,
        duration_s: m.duration_s(),
        frames: m.frames,
    };
    let loudness = LoudnessReport {
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
            .map(|u| (u.field.to_string(), u.reason.clone()))
            .collect(),
    };
    FileReport {
        schema_version: SCHEMA_VERSION,
        file: file.to_string(),
        engine: EngineInfo::default(),
        profile: profile.clone(),
        format: Some(format),
        loudness: Some(loudness),
        findings,
        verdict,
        error,
        ident: a.ident.clone(),
    }
}

/// Check one file end to end. Never fails: an unreadable file is a report with verdict `error`.
pub fn check_path(path: &Path, opts: &AnalyzeOptions) -> FileReport {
    let name = path.display().to_string();
    match analyze_path(path, opts) {
        Ok(a) => report(&name, &a, &opts.profile),
        Err(e) => FileReport::from_error(&name, &opts.profile, &e.with_path(path)),
    }
}
