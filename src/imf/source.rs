//! IMF audio as an [`AudioSource`]: one track file ([`MxfSource`]), and the mapping of MCA
//! channel labels to loudspeaker positions ([`position_of_mca_label`], [`channel_map_of`]).
//!
//! MCA tag symbols are those of SMPTE ST 428-12 / ST 2067-8 (`chL`, `chR`, `chC`, `chLFE`,
//! `chLs`, `chRs`, `chLss`, `chRss`, `chLrs`, `chRrs`, …); the BS.1770-5 weight follows the
//! position (see [`crate::channels`]).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::channels::{ChannelMap, MapSource, Position};
use crate::decode::{AudioSource, Limits, McaInfo, StreamInfo};
use crate::error::{Error as CrateError, ErrorKind, Result as CrateResult};
use crate::spec::{Finding, Severity};

use super::mxf::{MxfAudioInfo, MxfAudioReader};
use super::Error;

impl From<Error> for CrateError {
    fn from(e: Error) -> Self {
        let kind = match e {
            Error::Io { context, source } => ErrorKind::Io(std::io::Error::new(
                source.kind(),
                format!("{context}: {source}"),
            )),
            Error::Unsupported(m) => ErrorKind::UnsupportedFormat(m),
            // An MXF without a sound descriptor: a video or data track file.
            Error::MissingMetadata("wave audio essence descriptor") => ErrorKind::NoAudioTrack,
            Error::InvalidValue {
                field,
                value,
                reason,
            } => ErrorKind::InvalidInput {
                what: field,
                expected: reason
                    .strip_prefix("must be ")
                    .map_or(reason.clone(), str::to_string),
                actual: value,
            },
            other => ErrorKind::Malformed(other.to_string()),
        };
        CrateError::new(kind)
    }
}

/// The loudspeaker position of an MCA audio channel label (tag symbol), or `None` for a label
/// loudqc does not know (it is then measured as `X`, weight 1.0, and reported).
///
/// Symbols per SMPTE ST 428-12 Table 1 and ST 2067-8: `chL` L, `chR` R, `chC` C, `chLFE` LFE,
/// `chLs`/`chRs` 5.1 surrounds (±110°), `chLss`/`chRss` side surrounds (±90°), `chLrs`/`chRrs`
/// rear surrounds (±135°), `chCs` centre surround, `chLc`/`chRc`, `chM1`/`chM2` mono, `chLt`/`chRt`
/// (matrix-encoded stereo: left/right), `chS` mono surround (weighted as `Cs`), and the
/// accessibility channels `chHI`/`chVIN` (measured as `X`: they are not part of the main mix, so
/// they should not be in a main soundfield at all).
pub fn position_of_mca_label(symbol: &str) -> Option<Position> {
    use Position::*;
    Some(match symbol.trim() {
        "chL" | "chLt" => L,
        "chR" | "chRt" => R,
        "chC" => C,
        "chLFE" => Lfe,
        "chLs" | "chLst" => Ls,
        "chRs" | "chRst" => Rs,
        "chLss" => Lss,
        "chRss" => Rss,
        "chLrs" => Lrs,
        "chRrs" => Rrs,
        "chCs" | "chS" => Cs,
        "chLc" => Lc,
        "chRc" => Rc,
        "chM1" | "chM2" | "chM" => M,
        "chHI" | "chVIN" => Other,
        _ => return None,
    })
}

/// The channel map of a track file: from its MCA labels when there is one per channel
/// (source `container`), else by channel count. The second value lists labels loudqc did not
/// recognise (measured as `X`).
pub fn channel_map_of(labels: &[String], channels: usize) -> (ChannelMap, Vec<String>) {
    if labels.len() != channels || labels.is_empty() {
        return (ChannelMap::from_count(channels), Vec::new());
    }
    let mut unknown = Vec::new();
    let positions = labels
        .iter()
        .map(|l| {
            position_of_mca_label(l).unwrap_or_else(|| {
                unknown.push(l.clone());
                Position::Other
            })
        })
        .collect();
    (
        ChannelMap {
            positions,
            source: MapSource::Container,
        },
        unknown,
    )
}

/// The [`StreamInfo`] of an IMF track file (`mxf`, `pcm_s24le` …).
pub(crate) fn stream_info(info: &MxfAudioInfo, frames: u64) -> StreamInfo {
    let channels = info.channels as usize;
    let (map, _) = channel_map_of(&info.channel_labels, channels);
    let has_labels = map.source == MapSource::Container;
    StreamInfo {
        container: "mxf".into(),
        codec: format!("pcm_s{}le", info.bytes_per_sample() * 8),
        sample_rate_hz: info.sample_rate_hz,
        channels,
        bits_per_sample: Some(info.bits_per_sample),
        frames: Some(frames),
        channel_map: has_labels.then_some(map),
        bext_time_reference: None,
        observed: Default::default(),
    }
}

/// The MCA labelling of a track file, for reports.
pub(crate) fn mca_info(info: &MxfAudioInfo) -> McaInfo {
    McaInfo {
        soundfield: info.soundfield.clone(),
        language: info.language.clone(),
        labels: info.channel_labels.clone(),
    }
}

/// One IMF audio track file (MXF OP1a, clip-wrapped PCM) as a stream of planar `f32` blocks:
/// `loudqc check AUDIO.mxf`. Memory does not grow with the file.
#[derive(Debug)]
pub struct MxfSource {
    reader: MxfAudioReader<BufReader<File>>,
    info: StreamInfo,
    mca: McaInfo,
}

impl MxfSource {
    /// Open a track file and read its header metadata. Errors name the problem (not MXF,
    /// frame-wrapped, encrypted, absurd descriptor values); the caller adds the path.
    pub fn open(path: &Path) -> CrateResult<MxfSource> {
        let reader = MxfAudioReader::open(path)?;
        let i = reader.info();
        Limits::check(i.sample_rate_hz, i.channels as usize)?;
        let info = stream_info(i, i.duration_frames);
        let mca = mca_info(i);
        Ok(MxfSource { reader, info, mca })
    }

    /// The track file's header description.
    pub fn track_info(&self) -> &MxfAudioInfo {
        self.reader.info()
    }
}

impl AudioSource for MxfSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut Vec<Vec<f32>>, max_frames: usize) -> CrateResult<usize> {
        out.resize_with(self.info.channels, Vec::new);
        Ok(self.reader.read_block(max_frames, out)?)
    }

    fn seek(&mut self, frame: u64) -> CrateResult<()> {
        let f = frame.min(self.reader.info().duration_frames);
        Ok(self.reader.seek_frame(f)?)
    }

    fn mca(&self) -> Option<McaInfo> {
        Some(self.mca.clone())
    }

    /// ST 2067-2 core constraints of the track file (bit depth, rate, wrapping, MCA labelling,
    /// language, edit rate, container duration) and unknown MCA labels.
    fn container_findings(&self) -> Vec<Finding> {
        let i = self.reader.info();
        let mut out: Vec<Finding> = super::check_track_file(i)
            .iter()
            .map(super::composition::problem_finding)
            .collect();
        let (_, unknown) = channel_map_of(&i.channel_labels, i.channels as usize);
        if !unknown.is_empty() {
            out.push(unknown_labels_finding(&unknown));
        }
        out
    }
}

/// The finding for MCA labels loudqc does not know.
pub(crate) fn unknown_labels_finding(unknown: &[String]) -> Finding {
    Finding::new(
        super::codes::IMF_MCA_LABEL_UNKNOWN,
        Severity::Issue,
        format!(
            "unknown MCA channel label(s) {}: measured as X (weight 1.0)",
            unknown.join(", ")
        ),
    )
}
