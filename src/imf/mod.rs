//! Interoperable Master Format (IMF, SMPTE ST 2067) support for loudness QC.
//!
//! * [`klv`]: SMPTE ST 336 KLV reader (16-byte UL keys, BER lengths).
//! * [`mxf`]: IMF audio track files (MXF OP1a, SMPTE ST 377-1 / ST 382 / ST 2067-2
//!   §5.3), header metadata, MCA labels (ST 377-4) and a streaming PCM reader.
//! * [`cpl`]: Composition Playlists (ST 2067-3:2013 and :2016), audio flattening
//!   to sample-exact spans, markers.
//! * [`assetmap`]: ASSETMAP (ST 429-9 / ST 2067-2 Annex) and PKL (ST 2067-2),
//!   asset UUID → file path, CPL discovery.
//! * [`check_core_constraints`] / [`check_track_file`]: ST 2067-2 core-constraint
//!   checks relevant to audio, returned as a list of [`Problem`]s.
//! * [`source`]: a track file as an [`crate::decode::AudioSource`] (`loudqc check AUDIO.mxf`),
//!   MCA labels → channel positions and BS.1770-5 weights.
//! * [`composition`]: a CPL's main audio sequences measured as continuous streams across
//!   segments, markers (bars and tone, slates, logos), partial packages ([`ImfBatch`]).
//!
//! Every parser treats its input as hostile: no panics, no allocation sized from
//! an unchecked header field.
#![forbid(unsafe_code)]

pub mod assetmap;
pub mod composition;
pub mod cpl;
pub mod klv;
pub mod mxf;
pub mod source;

#[cfg(test)]
#[path = "../../tests/support/imf_testkit.rs"]
mod testkit;
#[cfg(test)]
mod tests;

pub use assetmap::{find_cpls, AssetEntry, AssetIndex, PackingList, PklAsset};
pub use composition::{
    check_plan, is_imf_input, CompositionPlan, CompositionSource, ImfBatch, MarkedRange,
};
pub use cpl::{
    AudioSpan, Cpl, CplAudioDescriptor, Marker, Rational, Resource, Seconds, Segment, Sequence,
    SequenceKind,
};
pub use mxf::{MxfAudioInfo, MxfAudioReader};
pub use source::{channel_map_of, position_of_mca_label, MxfSource};

/// Every error produced by the IMF module. Messages are lower-case and name the
/// offending value and, for binary input, its byte offset.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system I/O error, with what was being done.
    #[error("i/o error while {context}: {source}")]
    Io {
        /// What was being done (e.g. "reading /x/y.mxf").
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A KLV value would extend past the end of the file.
    #[error("klv length {len} at offset {offset} runs past end of file (size {file_size})")]
    KlvPastEnd {
        /// Byte offset of the KLV key.
        offset: u64,
        /// Declared value length in bytes.
        len: u64,
        /// File size in bytes.
        file_size: u64,
    },
    /// The file ends inside a KLV key or length field.
    #[error("truncated {what} at offset {offset} (file size {file_size})")]
    Truncated {
        /// What was being read ("klv key", "ber length", ...).
        what: &'static str,
        /// Byte offset where the read started.
        offset: u64,
        /// File size in bytes.
        file_size: u64,
    },
    /// A BER length field (SMPTE ST 336 §6.3) that cannot be represented.
    #[error("invalid ber length at offset {offset}: {reason}")]
    BadBer {
        /// Byte offset of the length field.
        offset: u64,
        /// Why it is invalid.
        reason: String,
    },
    /// Structurally invalid MXF.
    #[error("invalid mxf at offset {offset}: {reason}")]
    Mxf {
        /// Byte offset of the problem.
        offset: u64,
        /// Description.
        reason: String,
    },
    /// A required MXF header-metadata item is absent.
    #[error("missing {0} in mxf header metadata")]
    MissingMetadata(&'static str),
    /// A header or XML value is out of range or malformed.
    #[error("invalid {field} {value}: {reason}")]
    InvalidValue {
        /// Field name (e.g. "channel count").
        field: &'static str,
        /// The value as read.
        value: String,
        /// Why it is rejected.
        reason: String,
    },
    /// Valid but unsupported input (frame wrapping, encryption, ...).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// XML that is not well-formed or not the expected document.
    #[error("xml error in {doc}: {msg}")]
    Xml {
        /// Which document (path or kind).
        doc: String,
        /// Description.
        msg: String,
    },
    /// A CPL that violates its schema in a way that prevents use.
    #[error("cpl error: {0}")]
    Cpl(String),
    /// An asset UUID that no loaded asset map lists.
    #[error("asset {id} is not listed in any asset map")]
    AssetNotFound {
        /// Asset UUID (lower-case, no `urn:uuid:` prefix).
        id: String,
    },
    /// An asset listed in an asset map whose file is absent.
    #[error("asset {id} file is missing: {path}")]
    AssetFileMissing {
        /// Asset UUID.
        id: String,
        /// Expected path.
        path: String,
    },
    /// A time conversion that would not land on a whole number of units.
    #[error("non-integer conversion: {0}")]
    NonInteger(String),
    /// Caller passed an argument that does not fit the object.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// Result alias for this module.
pub type Result<T> = std::result::Result<T, Error>;

/// Normalise a UUID string: strip a `urn:uuid:` prefix, trim, lower-case.
pub fn normalize_uuid(s: &str) -> String {
    let t = s.trim();
    let t = t
        .get(..9)
        .filter(|p| p.eq_ignore_ascii_case("urn:uuid:"))
        .map_or(t, |_| &t[9..]);
    t.to_ascii_lowercase()
}

/// Format 16 bytes as a canonical lower-case UUID string (RFC 4122 text form).
pub fn format_uuid(b: &[u8; 16]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

/// One core-constraint finding: a stable code, the rule cited and a lower-case message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Stable finding code (see [`codes`]), e.g. `IMF_EDIT_RATE_MISMATCH`.
    pub code: crate::spec::Code,
    /// Citation of the rule, e.g. "ST 2067-2:2016 §5.3.2.3".
    pub rule: &'static str,
    /// What is wrong, naming the values found.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.rule, self.message)
    }
}

fn problem(out: &mut Vec<Problem>, code: crate::spec::Code, rule: &'static str, message: String) {
    out.push(Problem {
        code,
        rule,
        message,
    });
}

/// The codes of IMF findings (in the rulebook's one [`crate::spec::Code`] enum).
pub use crate::spec::codes;

/// ST 2067-2 audio track file constraints that can be checked from the MXF
/// header alone (bit depth, sample rate, wrapping, MCA labelling, language,
/// edit rate, container duration).
pub fn check_track_file(info: &MxfAudioInfo) -> Vec<Problem> {
    let mut p = Vec::new();
    if info.bits_per_sample != 24 {
        problem(
            &mut p,
            codes::IMF_AUDIO_BIT_DEPTH,
            "ST 2067-2:2016 §5.3.2.3",
            format!("audio must be 24-bit, found {}-bit", info.bits_per_sample),
        );
    }
    if !matches!(info.sample_rate_hz, 48_000 | 96_000) {
        problem(
            &mut p,
            codes::IMF_AUDIO_SAMPLE_RATE,
            "ST 2067-2:2016 §5.3.2.2",
            format!(
                "audio sample rate must be 48000 or 96000 hz, found {} hz",
                info.sample_rate_hz
            ),
        );
    }
    if !info.clip_wrapped {
        problem(
            &mut p,
            codes::IMF_AUDIO_WRAPPING,
            "ST 2067-2:2016 §5.3.3",
            "audio essence must be wave clip-wrapped".into(),
        );
    }
    if info.channel_assignment != Some(mxf::IMF_CHANNEL_ASSIGNMENT) {
        problem(
            &mut p,
            codes::IMF_MCA_CHANNEL_ASSIGNMENT,
            "ST 2067-2:2016 §5.3.4.2",
            format!(
                "channel assignment must be the mca labelling ul {}, found {}",
                klv::ul_to_string(&mxf::IMF_CHANNEL_ASSIGNMENT),
                info.channel_assignment
                    .as_ref()
                    .map_or("none".into(), klv::ul_to_string)
            ),
        );
    }
    if info.channel_labels.len() != info.channels as usize {
        problem(
            &mut p,
            codes::IMF_CHANNEL_COUNT_VS_LABELS,
            "ST 2067-2:2016 §5.3.6.2",
            format!(
                "channel count {} differs from the {} audio channel label subdescriptors",
                info.channels,
                info.channel_labels.len()
            ),
        );
    }
    if info.soundfield_count != 1 {
        problem(
            &mut p,
            codes::IMF_SOUNDFIELD_GROUP,
            "ST 2067-2:2016 §5.3.6.3",
            format!(
                "exactly one soundfield group label subdescriptor is required, found {}",
                info.soundfield_count
            ),
        );
    }
    if info.language.as_deref().is_none_or(str::is_empty) {
        problem(
            &mut p,
            codes::IMF_LANGUAGE_MISSING,
            "ST 2067-2:2016 §5.3.6.5",
            "no rfc 5646 spoken language in the mca labels".into(),
        );
    }
    if u128::from(info.edit_rate.0)
        != u128::from(info.sample_rate_hz) * u128::from(info.edit_rate.1)
    {
        problem(
            &mut p,
            codes::IMF_EDIT_RATE_MISMATCH,
            "ST 2067-2:2016 §5.3.2",
            format!(
                "descriptor edit rate {}/{} differs from the audio sample rate {} hz",
                info.edit_rate.0, info.edit_rate.1, info.sample_rate_hz
            ),
        );
    }
    match (info.container_duration, info.container_duration_frames) {
        (Some(d), None) => problem(
            &mut p,
            codes::IMF_CONTAINER_DURATION,
            "ST 377-1 ContainerDuration",
            format!("container duration {d} edit units is not a whole number of samples"),
        ),
        (Some(_), Some(f)) if f != info.duration_frames => problem(
            &mut p,
            codes::IMF_CONTAINER_DURATION,
            "ST 377-1 ContainerDuration",
            format!(
                "container duration {f} samples differs from the essence length {} samples",
                info.duration_frames
            ),
        ),
        _ => {}
    }
    p
}

/// CPL core constraints for audio (ST 2067-2 / ST 2067-3) plus agreement between
/// the CPL and the audio track files it references.
///
/// `track_files` maps track-file UUIDs (normalised, see [`normalize_uuid`]) to
/// their header info; a referenced file absent from the map is reported.
/// [`check_track_file`] findings of each referenced file are included,
/// prefixed with the file id.
pub fn check_core_constraints(
    cpl: &Cpl,
    track_files: &std::collections::HashMap<String, MxfAudioInfo>,
) -> Vec<Problem> {
    let mut p = Vec::new();
    let mut checked_files: Vec<&str> = Vec::new();
    for (si, seg) in cpl.segments.iter().enumerate() {
        let mut first: Option<(Seconds, &str)> = None;
        for sq in &seg.sequences {
            let name = match &sq.kind {
                SequenceKind::MainImage => "mainimagesequence",
                SequenceKind::MainAudio => "mainaudiosequence",
                SequenceKind::Marker => "markersequence",
                SequenceKind::Other(n) => n.as_str(),
            };
            let Some(d) = sq.duration() else {
                problem(
                    &mut p,
                    codes::IMF_SEQUENCE_DURATION,
                    "ST 2067-3:2016 §6.9",
                    format!("segment {si} {name} duration overflows"),
                );
                continue;
            };
            if d.to_units(cpl.edit_rate).is_err() {
                problem(
                    &mut p,
                    codes::IMF_SEQUENCE_DURATION,
                    "ST 2067-3:2016 §6.9",
                    format!(
                        "segment {si} {name} lasts {}/{} s, not a whole number of composition edit units at {}",
                        d.num, d.den, cpl.edit_rate
                    ),
                );
            }
            match first {
                None => first = Some((d, name)),
                Some((f, fname)) if f != d => problem(
                    &mut p,
                    codes::IMF_SEQUENCE_DURATION,
                    "ST 2067-3:2016 §6.9",
                    format!(
                        "segment {si}: {name} lasts {}/{} s but {fname} lasts {}/{} s; sequences in a segment must have equal durations",
                        d.num, d.den, f.num, f.den
                    ),
                ),
                _ => {}
            }
            for r in &sq.resources {
                if r.entry_point
                    .checked_add(r.source_duration)
                    .is_none_or(|e| e > r.intrinsic_duration)
                {
                    problem(
                        &mut p,
                        codes::IMF_RESOURCE_RANGE,
                        "ST 2067-3:2016 §6.11",
                        format!(
                            "resource {}: entry point {} + source duration {} exceeds intrinsic duration {}",
                            r.id, r.entry_point, r.source_duration, r.intrinsic_duration
                        ),
                    );
                }
                if r.source_duration == 0 || r.repeat_count == 0 {
                    problem(
                        &mut p,
                        codes::IMF_RESOURCE_RANGE,
                        "ST 2067-3:2016 §6.11",
                        format!(
                            "resource {}: source duration {} and repeat count {} must be at least 1",
                            r.id, r.source_duration, r.repeat_count
                        ),
                    );
                }
                if sq.kind != SequenceKind::MainAudio {
                    continue;
                }
                let desc = r
                    .source_encoding
                    .as_deref()
                    .and_then(|e| cpl.audio_descriptor(e));
                if desc.is_none() {
                    problem(
                        &mut p,
                        codes::IMF_DESCRIPTOR_MISSING,
                        "ST 2067-3:2016 §6.5",
                        format!(
                            "resource {}: source encoding {} has no audio essence descriptor in the cpl",
                            r.id,
                            r.source_encoding.as_deref().unwrap_or("(none)")
                        ),
                    );
                }
                let Some(tf) = r.track_file_id.as_deref() else {
                    problem(
                        &mut p,
                        codes::IMF_RESOURCE_RANGE,
                        "ST 2067-3:2016 §6.11",
                        format!("audio resource {} has no track file id", r.id),
                    );
                    continue;
                };
                let Some(info) = track_files.get(tf) else {
                    problem(
                        &mut p,
                        codes::IMF_TRACK_FILE_MISSING,
                        "ST 2067-2:2016 §7",
                        format!("audio resource {}: track file {tf} is not available", r.id),
                    );
                    continue;
                };
                let fs = u64::from(info.sample_rate_hz);
                if u128::from(r.edit_rate.num) != u128::from(fs) * u128::from(r.edit_rate.den) {
                    problem(
                        &mut p,
                        codes::IMF_EDIT_RATE_MISMATCH,
                        "ST 2067-2:2016 §5.3.2",
                        format!(
                            "audio resource {}: edit rate {} differs from the track file sample rate {fs} hz",
                            r.id, r.edit_rate
                        ),
                    );
                }
                if let Some(fs_r) = Rational::new(fs, 1) {
                    match cpl::convert_units(r.intrinsic_duration, r.edit_rate, fs_r) {
                        Ok(n) if n != info.duration_frames => problem(
                            &mut p,
                            codes::IMF_INTRINSIC_DURATION,
                            "ST 2067-3:2016 §6.11",
                            format!(
                                "audio resource {}: intrinsic duration {n} samples differs from track file {tf} ({} samples)",
                                r.id, info.duration_frames
                            ),
                        ),
                        Err(e) => problem(
                            &mut p,
                            codes::IMF_INTRINSIC_DURATION,
                            "ST 2067-3:2016 §6.11",
                            format!("audio resource {}: {e}", r.id),
                        ),
                        _ => {}
                    }
                }
                if let Some(d) = desc {
                    compare_descriptor(&mut p, d, info, tf);
                }
                if !checked_files.contains(&tf) {
                    checked_files.push(tf);
                    for mut q in check_track_file(info) {
                        q.message = format!("track file {tf}: {}", q.message);
                        p.push(q);
                    }
                }
            }
        }
    }
    p
}

fn compare_descriptor(p: &mut Vec<Problem>, d: &CplAudioDescriptor, info: &MxfAudioInfo, tf: &str) {
    const RULE: &str = "ST 2067-3:2016 §6.5";
    let mut diff = |what: &str, cpl_v: String, file_v: String| {
        if cpl_v != file_v {
            problem(
                p,
                codes::IMF_DESCRIPTOR_MISMATCH,
                RULE,
                format!(
                    "essence descriptor {} {what} is {cpl_v} in the cpl but {file_v} in track file {tf}",
                    d.id
                ),
            );
        }
    };
    if let Some(r) = d.audio_sample_rate {
        let same = r.same_value(&Rational {
            num: u64::from(info.sample_rate_hz),
            den: 1,
        });
        if !same {
            diff(
                "audio sample rate",
                r.to_string(),
                format!("{}/1", info.sample_rate_hz),
            );
        }
    }
    if let Some(c) = d.channels {
        diff("channel count", c.to_string(), info.channels.to_string());
    }
    if let Some(b) = d.bits_per_sample {
        diff(
            "quantization bits",
            b.to_string(),
            info.bits_per_sample.to_string(),
        );
    }
    if let Some(b) = d.block_align {
        diff("block align", b.to_string(), info.block_align.to_string());
    }
    if !d.channel_labels.is_empty() {
        diff(
            "channel labels",
            d.channel_labels.join(","),
            info.channel_labels.join(","),
        );
    }
    if d.soundfield.is_some() {
        diff(
            "soundfield",
            format!("{:?}", d.soundfield),
            format!("{:?}", info.soundfield),
        );
    }
    if d.language.is_some() {
        diff(
            "language",
            format!("{:?}", d.language),
            format!("{:?}", info.language),
        );
    }
}
