//! IMF audio track files: MXF OP1a (SMPTE ST 377-1), Wave audio essence
//! clip-wrapped per SMPTE ST 382, constrained by SMPTE ST 2067-2 §5.3, with
//! Multichannel Audio (MCA) labels per SMPTE ST 377-4.
//!
//! [`MxfAudioInfo::read`] parses the header partition's metadata; [`MxfAudioReader`]
//! streams the clip-wrapped PCM as planar `f32` with a fixed-size buffer.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::klv::{self, ul_eq, ul_to_string, KlvHeader, KlvIter, Ul};
use super::{format_uuid, io_err, Error, Result};

/// Largest run-in before the header partition pack (ST 377-1 §6.5: < 64 KiB).
const MAX_RUN_IN: u64 = 65_536;
/// Largest primer pack or metadata set we load into memory.
const MAX_SET_LEN: u64 = 16 << 20;
/// Largest number of metadata sets kept from one header partition.
const MAX_SETS: usize = 100_000;
/// Upper bound accepted for `ChannelCount`.
pub const MAX_CHANNELS: u32 = 1024;
/// Upper bound accepted for the audio sampling rate, in Hz.
pub const MAX_SAMPLE_RATE: u64 = 1_000_000;
/// Size of the streaming read buffer, in bytes (rounded down to whole frames).
const READ_BUF_BYTES: usize = 1 << 16;

const fn ul(b: [u8; 16]) -> Ul {
    b
}

// --- keys (byte 7 ignored on comparison) -----------------------------------
const PRIMER_PACK: Ul = ul([
    0x06, 0x0e, 0x2b, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0d, 0x01, 0x02, 0x01, 0x01, 0x05, 0x01, 0x00,
]);
/// Local set prefix bytes 0..13 (byte 13 = 0x01 for structural metadata, 14 = set kind).
const SET_PREFIX: [u8; 13] = [
    0x06, 0x0e, 0x2b, 0x34, 0x02, 0x53, 0x01, 0x01, 0x0d, 0x01, 0x01, 0x01, 0x01,
];
const ENCRYPTED_TRIPLET: Ul = ul([
    0x06, 0x0e, 0x2b, 0x34, 0x02, 0x04, 0x01, 0x01, 0x0d, 0x01, 0x03, 0x01, 0x02, 0x7e, 0x01, 0x00,
]);

// Set kinds (byte 14 of the set key, with byte 13 = 0x01), ST 377-1 Annex / ST 377-4.
const SET_SOURCE_PACKAGE: u8 = 0x37;
const SET_MULTIPLE_DESCRIPTOR: u8 = 0x44;
const SET_AES3_DESCRIPTOR: u8 = 0x47;
const SET_WAVE_DESCRIPTOR: u8 = 0x48;
const SET_GENERIC_SOUND_DESCRIPTOR: u8 = 0x42;
const SET_AUDIO_CHANNEL_LABEL: u8 = 0x6b;
const SET_SOUNDFIELD_GROUP_LABEL: u8 = 0x6c;

// --- property ULs (with their static local tags where ST 377-1 fixes one) ---
type Prop = (Ul, Option<u16>);
const P_INSTANCE_UID: Prop = (
    ul([6, 0x0e, 0x2b, 0x34, 1, 1, 1, 1, 1, 1, 0x15, 2, 0, 0, 0, 0]),
    Some(0x3c0a),
);
const P_PACKAGE_UID: Prop = (
    ul([
        6, 0x0e, 0x2b, 0x34, 1, 1, 1, 1, 1, 1, 0x15, 0x10, 0, 0, 0, 0,
    ]),
    Some(0x4401),
);
const P_DESCRIPTOR_REF: Prop = (
    ul([6, 0x0e, 0x2b, 0x34, 1, 1, 1, 2, 6, 1, 1, 4, 2, 3, 0, 0]),
    Some(0x4701),
);
const P_SAMPLE_RATE: Prop = (
    ul([6, 0x0e, 0x2b, 0x34, 1, 1, 1, 1, 4, 6, 1, 1, 0, 0, 0, 0]),
    Some(0x3001),
);
const P_CONTAINER_DURATION: Prop = (
    ul([6, 0x0e, 0x2b, 0x34, 1, 1, 1, 1, 4, 6, 1, 2, 0, 0, 0, 0]),
    Some(0x3002),
);
const P_ESSENCE_CONTAINER: Prop = (
    ul([6, 0x0e, 0x2b, 0x34, 1, 1, 1, 2, 6, 1, 1, 4, 1, 2, 0, 0]),
    Some(0x3004),
);
const P_AUDIO_SAMPLING_RATE: Prop = (
    ul([6, 0x0e, 0x2b, 0x34, 1, 1, 1, 5, 4, 2, 3, 1, 1, 1, 0, 0]),
    Some(0x3d03),
);
const P_CHANNEL_COUNT: Prop = (
    ul([6, 0x0e, 0x2b, 0x34, 1, 1, 1, 5, 4, 2, 1, 1, 4, 0, 0, 0]),
    Some(0x3d07),
);
const P_QUANTIZATION_BITS: Prop = (
    ul([6, 0x0e, 0x2b, 0x34, 1, 1, 1, 4, 4, 2, 3, 3, 4, 0, 0, 0]),
    Some(0x3d01),
);
const P_BLOCK_ALIGN: Prop = (
    ul([6, 0x0e, 0x2b, 0x34, 1, 1, 1, 5, 4, 2, 3, 2, 1, 0, 0, 0]),
    Some(0x3d0a),
);
const P_CHANNEL_ASSIGNMENT: Prop = (
    ul([6, 0x0e, 0x2b, 0x34, 1, 1, 1, 7, 4, 2, 1, 1, 5, 0, 0, 0]),
    Some(0x3d32),
);
const P_SUB_DESCRIPTORS: Prop = (
    ul([6, 0x0e, 0x2b, 0x34, 1, 1, 1, 9, 6, 1, 1, 4, 6, 0x10, 0, 0]),
    None,
);
const P_MCA_TAG_SYMBOL: Prop = (
    ul([6, 0x0e, 0x2b, 0x34, 1, 1, 1, 0x0e, 1, 3, 7, 1, 2, 0, 0, 0]),
    None,
);
const P_MCA_CHANNEL_ID: Prop = (
    ul([
        6, 0x0e, 0x2b, 0x34, 1, 1, 1, 0x0e, 1, 3, 4, 0x0a, 0, 0, 0, 0,
    ]),
    None,
);
const P_SPOKEN_LANGUAGE: Prop = (
    ul([
        6, 0x0e, 0x2b, 0x34, 1, 1, 1, 0x0d, 3, 1, 1, 2, 3, 0x15, 0, 0,
    ]),
    None,
);
/// Channel Assignment UL for MCA labelling required by ST 2067-2 §5.3.4.2
/// (`060e2b34.0401010d.04020210.04010000`).
pub const IMF_CHANNEL_ASSIGNMENT: Ul = [
    6, 0x0e, 0x2b, 0x34, 4, 1, 1, 0x0d, 4, 2, 2, 0x10, 4, 1, 0, 0,
];

/// How the sound essence is wrapped in the generic container (ST 382 §7 / ST 379-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapping {
    /// One KLV for the whole clip (required by ST 2067-2 §5.3.3).
    Clip,
    /// One KLV per edit unit.
    Frame,
}

/// Technical description of an IMF audio track file, read from its header
/// metadata (ST 377-1 / ST 382 Wave Audio Essence Descriptor, ST 377-4 MCA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxfAudioInfo {
    /// Audio sampling rate in Hz (`AudioSamplingRate`, must be an integer).
    pub sample_rate_hz: u32,
    /// Number of interleaved channels (`ChannelCount`).
    pub channels: u32,
    /// Quantization bits per sample (`QuantizationBits`).
    pub bits_per_sample: u32,
    /// Bytes per interleaved sample frame (`BlockAlign`); container width per
    /// channel is `block_align / channels` bytes (2, 3 or 4).
    pub block_align: u32,
    /// Number of sample frames in the essence (`essence_len / block_align`).
    pub duration_frames: u64,
    /// `ContainerDuration` of the descriptor, in `edit_rate` units, if present.
    pub container_duration: Option<u64>,
    /// `ContainerDuration` converted to sample frames, when the conversion is
    /// exact. Compare with `duration_frames` (see [`super::check_track_file`]).
    pub container_duration_frames: Option<u64>,
    /// Descriptor `SampleRate` (the track edit rate) as (numerator, denominator).
    /// For ST 2067-2 audio this equals the sampling rate, e.g. (48000, 1).
    pub edit_rate: (u64, u64),
    /// MCA tag symbols ("chL", "chR", ...) of the Audio Channel Label
    /// subdescriptors in channel order (by `MCAChannelID`, else by position);
    /// empty if the file carries none.
    pub channel_labels: Vec<String>,
    /// MCA tag symbol of the first Soundfield Group Label subdescriptor ("sg51").
    pub soundfield: Option<String>,
    /// RFC 5646 spoken language (from the soundfield group, else any label).
    pub language: Option<String>,
    /// Number of Soundfield Group Label subdescriptors.
    pub soundfield_count: usize,
    /// `ChannelAssignment` UL of the descriptor, if present.
    pub channel_assignment: Option<Ul>,
    /// `EssenceContainer` UL of the descriptor, if present.
    pub essence_container: Option<Ul>,
    /// True when the essence is clip-wrapped (always true for a returned info:
    /// frame wrapping is rejected as unsupported).
    pub clip_wrapped: bool,
    /// Byte offset of the first PCM byte of the clip-wrapped essence element.
    pub essence_offset: u64,
    /// Length of the PCM essence in bytes.
    pub essence_len: u64,
    /// File package UMID (`PackageUID`, 32 bytes) of the source package that
    /// references the sound descriptor, if found.
    pub file_package_uid: Option<[u8; 32]>,
    /// Track file UUID: the material number (last 16 bytes) of the file package
    /// UMID, which IMF uses as the track file id (ST 2067-2 §5.1).
    pub track_file_id: Option<String>,
}

/// One local set (ST 377-1 §9.6): kind byte and properties by local tag.
#[derive(Debug, Clone)]
struct LocalSet {
    kind: u8,
    props: Vec<(u16, Vec<u8>)>,
}

#[derive(Debug, Default)]
struct Metadata {
    primer: HashMap<u16, Ul>,
    sets: Vec<LocalSet>,
}

impl Metadata {
    fn get<'a>(&self, set: &'a LocalSet, prop: Prop) -> Option<&'a [u8]> {
        let (target, static_tag) = prop;
        for (tag, val) in &set.props {
            match self.primer.get(tag) {
                Some(u) if ul_eq(u, &target) => return Some(val),
                Some(_) => {}
                None if Some(*tag) == static_tag => return Some(val),
                None => {}
            }
        }
        None
    }

    fn by_instance(&self, uid: &[u8]) -> Option<&LocalSet> {
        self.sets
            .iter()
            .find(|s| self.get(s, P_INSTANCE_UID) == Some(uid))
    }
}

fn be_u16(v: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(v.get(..2)?.try_into().ok()?))
}
fn be_u32(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?))
}
fn be_u64(v: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(v.get(..8)?.try_into().ok()?))
}
fn rational(v: &[u8]) -> Option<(i64, i64)> {
    let n = i32::from_be_bytes(v.get(..4)?.try_into().ok()?);
    let d = i32::from_be_bytes(v.get(4..8)?.try_into().ok()?);
    Some((i64::from(n), i64::from(d)))
}
fn utf16be(v: &[u8]) -> String {
    let units: Vec<u16> = v
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}
fn iso7(v: &[u8]) -> String {
    let s: Vec<u8> = v.iter().copied().take_while(|&b| b != 0).collect();
    String::from_utf8_lossy(&s).trim().to_string()
}
fn ul_of(v: &[u8]) -> Option<Ul> {
    v.get(..16)?.try_into().ok()
}
/// Parse an MXF batch/array header (u32 count, u32 item size) and return items.
fn batch(v: &[u8], item: usize) -> Vec<&[u8]> {
    let (Some(n), Some(sz)) = (be_u32(v), v.get(4..8).and_then(be_u32)) else {
        return Vec::new();
    };
    if sz as usize != item {
        return Vec::new();
    }
    v.get(8..)
        .unwrap_or(&[])
        .chunks_exact(item)
        .take(n as usize)
        .collect()
}

fn parse_local_set(kind: u8, v: &[u8], offset: u64) -> Result<LocalSet> {
    let mut props = Vec::new();
    let mut p = 0usize;
    while p < v.len() {
        let hdr = v.get(p..p + 4).ok_or_else(|| Error::Mxf {
            offset: offset + p as u64,
            reason: "truncated local tag header in metadata set".into(),
        })?;
        let tag = u16::from_be_bytes([hdr[0], hdr[1]]);
        let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        let val = v.get(p + 4..p + 4 + len).ok_or_else(|| Error::Mxf {
            offset: offset + p as u64,
            reason: format!("local tag {tag:04x} length {len} runs past the end of its set"),
        })?;
        props.push((tag, val.to_vec()));
        p += 4 + len;
    }
    Ok(LocalSet { kind, props })
}

fn parse_primer(v: &[u8], offset: u64) -> Result<HashMap<u16, Ul>> {
    let n = v.get(..4).and_then(be_u32);
    let sz = v.get(4..8).and_then(be_u32);
    match (n, sz) {
        (Some(n), Some(18)) if (n as u64) * 18 <= (v.len() as u64).saturating_sub(8) => {}
        _ => {
            return Err(Error::Mxf {
                offset,
                reason: "primer pack batch header is inconsistent with its length".into(),
            });
        }
    }
    Ok(batch(v, 18)
        .into_iter()
        .filter_map(|e| Some((be_u16(e)?, ul_of(&e[2..])?)))
        .collect())
}

fn is_partition(key: &Ul) -> bool {
    klv::is_partition_key(key)
}

fn set_kind(key: &Ul) -> Option<u8> {
    let ok = key[..13]
        .iter()
        .zip(SET_PREFIX.iter())
        .enumerate()
        .all(|(i, (a, b))| i == 7 || a == b);
    (ok && key[15] == 0).then_some(key[14])
}

/// Sound essence element of the generic container (ST 379-1 §7, item type 0x16).
/// Returns the element type byte (ST 382 §7: 01 Wave frame, 02 Wave clip,
/// 03 AES3 frame, 04 AES3 clip) or `None` if the key is not a sound element.
fn sound_element_type(key: &Ul) -> Option<u8> {
    let gc = key[0..4] == [6, 0x0e, 0x2b, 0x34]
        && key[4] == 1
        && key[5] == 2
        && key[6] == 1
        && key[8..12] == [0x0d, 1, 3, 1];
    (gc && key[12] == 0x16).then_some(key[14])
}

fn find_header_partition<R: Read + Seek>(r: &mut R, file_size: u64) -> Result<u64> {
    let n = file_size.min(MAX_RUN_IN + 16) as usize;
    let mut buf = vec![0u8; n];
    klv::read_exact_at(r, 0, &mut buf, "run-in", file_size)?;
    (0..n.saturating_sub(15))
        .find(|&i| {
            let key: Ul = buf[i..i + 16].try_into().unwrap_or([0; 16]);
            is_partition(&key) && key[13] == 2
        })
        .map(|i| i as u64)
        .ok_or(Error::Mxf {
            offset: 0,
            reason: format!(
                "no header partition pack found in the first {} bytes (not an mxf file?)",
                MAX_RUN_IN
            ),
        })
}

fn positive_rational(field: &'static str, v: (i64, i64)) -> Result<(u64, u64)> {
    if v.0 <= 0 || v.1 <= 0 {
        return Err(Error::InvalidValue {
            field,
            value: format!("{}/{}", v.0, v.1),
            reason: "must be a positive rational".into(),
        });
    }
    Ok((v.0 as u64, v.1 as u64))
}

impl MxfAudioInfo {
    /// Open `path` and read its audio description (header partition metadata and
    /// the location of the clip-wrapped essence). See [`Self::from_reader`].
    pub fn read(path: &Path) -> Result<Self> {
        let f = File::open(path).map_err(io_err(format!("opening {}", path.display())))?;
        Self::from_reader(&mut BufReader::new(f))
    }

    /// Parse an IMF audio track file from a seekable stream.
    ///
    /// Errors: not MXF, no Wave/AES3 sound descriptor, values out of range
    /// (0 Hz, channel count outside 1..=[`MAX_CHANNELS`], block align not
    /// `channels × {2,3,4}`), frame-wrapped or encrypted essence
    /// ([`Error::Unsupported`]), essence not a whole number of frames.
    pub fn from_reader<R: Read + Seek>(r: &mut R) -> Result<Self> {
        let file_size = klv::stream_len(r)?;
        let start = find_header_partition(r, file_size)?;
        let mut md = Metadata::default();
        let mut partitions = 0usize;
        let mut essence: Option<(KlvHeader, u8)> = None;
        let mut it = KlvIter::new(r, start, file_size);
        while let Some(h) = it.next() {
            let h = h?;
            if is_partition(&h.key) {
                partitions += 1;
                // The header metadata is complete at the second partition: a file without a
                // sound descriptor (a video track file) is rejected here rather than walked
                // to its end.
                let sound = md.sets.iter().any(|s| {
                    matches!(
                        s.kind,
                        SET_WAVE_DESCRIPTOR | SET_AES3_DESCRIPTOR | SET_GENERIC_SOUND_DESCRIPTOR
                    )
                });
                if partitions == 2 && !sound && !md.sets.is_empty() {
                    return Err(Error::MissingMetadata("wave audio essence descriptor"));
                }
                continue;
            }
            let in_header = partitions == 1;
            if in_header && ul_eq(&h.key, &PRIMER_PACK) {
                let v = klv::read_value(it.reader(), &h, MAX_SET_LEN, file_size)?;
                md.primer = parse_primer(&v, h.value_offset)?;
                continue;
            }
            if let Some(kind) = set_kind(&h.key).filter(|_| in_header) {
                if md.sets.len() >= MAX_SETS {
                    return Err(Error::Mxf {
                        offset: h.offset,
                        reason: format!("more than {MAX_SETS} header metadata sets"),
                    });
                }
                let v = klv::read_value(it.reader(), &h, MAX_SET_LEN, file_size)?;
                md.sets.push(parse_local_set(kind, &v, h.value_offset)?);
                continue;
            }
            if ul_eq(&h.key, &ENCRYPTED_TRIPLET) {
                return Err(Error::Unsupported(format!(
                    "encrypted essence (ST 429-6 triplet) at offset {}",
                    h.offset
                )));
            }
            if let Some(t) = sound_element_type(&h.key) {
                essence = Some((h, t));
                break;
            }
        }
        let (eh, etype) = essence.ok_or(Error::Mxf {
            offset: start,
            reason: "no sound essence element (wave/aes3) found".into(),
        })?;
        let wrapping = match etype {
            0x02 | 0x04 => Wrapping::Clip,
            0x01 | 0x03 => Wrapping::Frame,
            t => {
                return Err(Error::Unsupported(format!(
                    "sound essence element type {t:#04x} at offset {} (key {})",
                    eh.offset,
                    ul_to_string(&eh.key)
                )));
            }
        };
        if wrapping == Wrapping::Frame {
            return Err(Error::Unsupported(format!(
                "frame-wrapped audio essence at offset {} (ST 2067-2 §5.3.3 requires clip wrapping)",
                eh.offset
            )));
        }
        Self::from_metadata(&md, eh)
    }

    fn from_metadata(md: &Metadata, eh: KlvHeader) -> Result<Self> {
        let desc = md
            .sets
            .iter()
            .find(|s| matches!(s.kind, SET_WAVE_DESCRIPTOR | SET_AES3_DESCRIPTOR))
            .or_else(|| {
                md.sets
                    .iter()
                    .find(|s| s.kind == SET_GENERIC_SOUND_DESCRIPTOR)
            })
            .ok_or_else(|| {
                if md.sets.iter().any(|s| s.kind == SET_MULTIPLE_DESCRIPTOR) {
                    Error::Unsupported("multiple descriptor without a sound descriptor".into())
                } else {
                    Error::MissingMetadata("wave audio essence descriptor")
                }
            })?;

        let rate_raw = md
            .get(desc, P_AUDIO_SAMPLING_RATE)
            .and_then(rational)
            .ok_or(Error::MissingMetadata("audio sampling rate"))?;
        let (rn, rd) = positive_rational("audio sampling rate", rate_raw).map_err(|_| {
            Error::InvalidValue {
                field: "audio sampling rate",
                value: format!("{}/{}", rate_raw.0, rate_raw.1),
                reason: "must be a positive number of hz".into(),
            }
        })?;
        if rn % rd != 0 {
            return Err(Error::Unsupported(format!(
                "non-integer audio sampling rate {rn}/{rd}"
            )));
        }
        let sr = rn / rd;
        if sr > MAX_SAMPLE_RATE {
            return Err(Error::InvalidValue {
                field: "audio sampling rate",
                value: format!("{sr} hz"),
                reason: format!("exceeds {MAX_SAMPLE_RATE} hz"),
            });
        }
        let channels = md
            .get(desc, P_CHANNEL_COUNT)
            .and_then(be_u32)
            .ok_or(Error::MissingMetadata("channel count"))?;
        if channels == 0 || channels > MAX_CHANNELS {
            return Err(Error::InvalidValue {
                field: "channel count",
                value: channels.to_string(),
                reason: format!("must be within 1..={MAX_CHANNELS}"),
            });
        }
        let bits = md
            .get(desc, P_QUANTIZATION_BITS)
            .and_then(be_u32)
            .ok_or(Error::MissingMetadata("quantization bits"))?;
        if bits == 0 || bits > 32 {
            return Err(Error::InvalidValue {
                field: "quantization bits",
                value: bits.to_string(),
                reason: "must be within 1..=32".into(),
            });
        }
        let block_align = match md.get(desc, P_BLOCK_ALIGN).and_then(be_u16) {
            Some(b) => u32::from(b),
            None => channels * bits.div_ceil(8),
        };
        let bps = if block_align % channels == 0 {
            block_align / channels
        } else {
            0
        };
        if !matches!(bps, 2..=4) || bits > bps * 8 {
            return Err(Error::InvalidValue {
                field: "block align",
                value: block_align.to_string(),
                reason: format!(
                    "must be channels ({channels}) x 2, 3 or 4 bytes and hold {bits}-bit samples"
                ),
            });
        }
        if !eh.value_len.is_multiple_of(u64::from(block_align)) {
            return Err(Error::Mxf {
                offset: eh.offset,
                reason: format!(
                    "essence length {} is not a multiple of block align {block_align}",
                    eh.value_len
                ),
            });
        }
        let duration_frames = eh.value_len / u64::from(block_align);
        let edit_rate = match md.get(desc, P_SAMPLE_RATE).and_then(rational) {
            Some(v) => positive_rational("descriptor sample rate (edit rate)", v)?,
            None => (sr, 1),
        };
        let container_duration = md.get(desc, P_CONTAINER_DURATION).and_then(be_u64);
        let container_duration_frames = container_duration.and_then(|d| {
            let num = u128::from(d) * u128::from(sr) * u128::from(edit_rate.1);
            let den = u128::from(edit_rate.0);
            (num % den == 0)
                .then(|| u64::try_from(num / den).ok())
                .flatten()
        });

        // MCA labels (ST 377-4): walk SubDescriptors in order.
        let mut labels: Vec<(Option<u32>, String, Option<String>)> = Vec::new();
        let mut soundfields: Vec<(String, Option<String>)> = Vec::new();
        let refs: Vec<&[u8]> = md
            .get(desc, P_SUB_DESCRIPTORS)
            .map(|v| batch(v, 16))
            .unwrap_or_default();
        let subs: Vec<&LocalSet> = if refs.is_empty() {
            // Tolerate writers that omit the strong-reference array.
            md.sets
                .iter()
                .filter(|s| matches!(s.kind, SET_AUDIO_CHANNEL_LABEL | SET_SOUNDFIELD_GROUP_LABEL))
                .collect()
        } else {
            refs.iter().filter_map(|r| md.by_instance(r)).collect()
        };
        for s in subs {
            let sym = md.get(s, P_MCA_TAG_SYMBOL).map(utf16be);
            let lang = md
                .get(s, P_SPOKEN_LANGUAGE)
                .map(iso7)
                .filter(|l| !l.is_empty());
            match s.kind {
                SET_AUDIO_CHANNEL_LABEL => {
                    let id = md.get(s, P_MCA_CHANNEL_ID).and_then(be_u32);
                    labels.push((id, sym.unwrap_or_default(), lang));
                }
                SET_SOUNDFIELD_GROUP_LABEL => {
                    soundfields.push((sym.unwrap_or_default(), lang));
                }
                _ => {}
            }
        }
        if labels.iter().all(|l| l.0.is_some()) {
            labels.sort_by_key(|l| l.0);
        }
        let language = soundfields
            .iter()
            .find_map(|s| s.1.clone())
            .or_else(|| labels.iter().find_map(|l| l.2.clone()));

        // File package referencing this descriptor.
        let desc_uid = md.get(desc, P_INSTANCE_UID);
        let pkg = md.sets.iter().find(|s| {
            s.kind == SET_SOURCE_PACKAGE
                && md.get(s, P_DESCRIPTOR_REF) == desc_uid
                && desc_uid.is_some()
        });
        let file_package_uid: Option<[u8; 32]> = pkg
            .and_then(|p| md.get(p, P_PACKAGE_UID))
            .and_then(|v| v.get(..32)?.try_into().ok());
        let track_file_id = file_package_uid.and_then(|u| {
            let m: [u8; 16] = u[16..32].try_into().ok()?;
            Some(format_uuid(&m))
        });

        Ok(MxfAudioInfo {
            sample_rate_hz: sr as u32,
            channels,
            bits_per_sample: bits,
            block_align,
            duration_frames,
            container_duration,
            container_duration_frames,
            edit_rate,
            channel_labels: labels.into_iter().map(|l| l.1).collect(),
            soundfield: soundfields.first().map(|s| s.0.clone()),
            language,
            soundfield_count: soundfields.len(),
            channel_assignment: md.get(desc, P_CHANNEL_ASSIGNMENT).and_then(ul_of),
            essence_container: md.get(desc, P_ESSENCE_CONTAINER).and_then(ul_of),
            clip_wrapped: true,
            essence_offset: eh.value_offset,
            essence_len: eh.value_len,
            file_package_uid,
            track_file_id,
        })
    }

    /// Bytes per sample per channel in the essence (2, 3 or 4).
    pub fn bytes_per_sample(&self) -> u32 {
        self.block_align / self.channels
    }
}

/// Streaming reader of the clip-wrapped PCM of an IMF audio track file.
///
/// Memory is constant (one 64 KiB buffer) regardless of file length.
#[derive(Debug)]
pub struct MxfAudioReader<R = BufReader<File>> {
    reader: R,
    info: MxfAudioInfo,
    pos: u64,
    buf: Vec<u8>,
    file_pos_valid: bool,
}

impl MxfAudioReader<BufReader<File>> {
    /// Open an audio track file for reading from frame 0.
    pub fn open(path: &Path) -> Result<Self> {
        let f = File::open(path).map_err(io_err(format!("opening {}", path.display())))?;
        Self::new(BufReader::new(f))
    }
}

impl<R: Read + Seek> MxfAudioReader<R> {
    /// Parse the header of `reader` (see [`MxfAudioInfo::from_reader`]) and
    /// position at frame 0.
    pub fn new(mut reader: R) -> Result<Self> {
        let info = MxfAudioInfo::from_reader(&mut reader)?;
        let ba = info.block_align as usize;
        let frames = (READ_BUF_BYTES / ba).max(1);
        Ok(MxfAudioReader {
            reader,
            info,
            pos: 0,
            buf: vec![0u8; frames * ba],
            file_pos_valid: false,
        })
    }

    /// The track file's audio description.
    pub fn info(&self) -> &MxfAudioInfo {
        &self.info
    }

    /// Current position, in sample frames from the start of the essence.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Sample frames left from the current position to the end of the essence.
    pub fn remaining_frames(&self) -> u64 {
        self.info.duration_frames - self.pos
    }

    /// Move to sample frame `frame` (0-based; e.g. a CPL entry point converted
    /// to samples). `frame == duration_frames` is allowed (end of stream).
    pub fn seek_frame(&mut self, frame: u64) -> Result<()> {
        if frame > self.info.duration_frames {
            return Err(Error::InvalidArgument(format!(
                "seek to frame {frame} beyond duration {} frames",
                self.info.duration_frames
            )));
        }
        self.pos = frame;
        self.file_pos_valid = false;
        Ok(())
    }

    /// Read up to `max_frames` frames into planar buffers, one per channel,
    /// scaled to ±1.0 (`i16/32768`, `i24/8388608`, `i32/2147483648`).
    ///
    /// `out.len()` must equal the channel count; each vector is cleared and then
    /// filled with the frames read. Returns the number of frames read (0 at end).
    pub fn read_block(&mut self, max_frames: usize, out: &mut [Vec<f32>]) -> Result<usize> {
        let ch = self.info.channels as usize;
        if out.len() != ch {
            return Err(Error::InvalidArgument(format!(
                "read_block needs {ch} channel buffers, got {}",
                out.len()
            )));
        }
        for o in out.iter_mut() {
            o.clear();
        }
        let want = (max_frames as u64).min(self.remaining_frames()) as usize;
        if want == 0 {
            return Ok(0);
        }
        if !self.file_pos_valid {
            let off = self.info.essence_offset + self.pos * u64::from(self.info.block_align);
            self.reader
                .seek(SeekFrom::Start(off))
                .map_err(io_err(format!("seeking to essence offset {off}")))?;
            self.file_pos_valid = true;
        }
        let ba = self.info.block_align as usize;
        let bps = ba / ch;
        let per_chunk = self.buf.len() / ba;
        let mut done = 0usize;
        while done < want {
            let n = (want - done).min(per_chunk);
            let bytes = &mut self.buf[..n * ba];
            if let Err(e) = self.reader.read_exact(bytes) {
                self.file_pos_valid = false;
                return Err(Error::Io {
                    context: format!("reading essence at frame {}", self.pos),
                    source: e,
                });
            }
            for frame in bytes.chunks_exact(ba) {
                for (c, s) in frame.chunks_exact(bps).enumerate() {
                    let v = match bps {
                        2 => f32::from(i16::from_le_bytes([s[0], s[1]])) / 32_768.0,
                        3 => (i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) as f32 / 8_388_608.0,
                        _ => {
                            (f64::from(i32::from_le_bytes([s[0], s[1], s[2], s[3]]))
                                / 2_147_483_648.0) as f32
                        }
                    };
                    out[c].push(v);
                }
            }
            done += n;
            self.pos += n as u64;
        }
        Ok(done)
    }

    /// Read up to `max_frames` frames as raw interleaved little-endian PCM bytes
    /// (exactly as stored), appending to `out`. Returns frames read.
    pub fn read_raw(&mut self, max_frames: usize, out: &mut Vec<u8>) -> Result<usize> {
        let want = (max_frames as u64).min(self.remaining_frames()) as usize;
        if want == 0 {
            return Ok(0);
        }
        let ba = u64::from(self.info.block_align);
        let off = self.info.essence_offset + self.pos * ba;
        self.reader
            .seek(SeekFrom::Start(off))
            .map_err(io_err(format!("seeking to essence offset {off}")))?;
        let start = out.len();
        let len = want
            .checked_mul(self.info.block_align as usize)
            .ok_or_else(|| Error::InvalidArgument("read_raw size overflows".into()))?;
        out.resize(start + len, 0);
        self.reader.read_exact(&mut out[start..]).map_err(|e| {
            out.truncate(start);
            Error::Io {
                context: format!("reading essence at frame {}", self.pos),
                source: e,
            }
        })?;
        self.pos += want as u64;
        self.file_pos_valid = true;
        Ok(want)
    }
}
