//! loudqc's own RIFF/WAVE reader: WAV, BWF and RF64/BW64 with PCM or IEEE-float data.
//!
//! Why not Symphonia here: Symphonia 0.6 does not read RF64 (EBU Tech 3306), which every
//! printmaster over 4 GiB is, and it exposes neither the BWF `bext` time reference (EBU Tech
//! 3285) nor the raw WAVE_FORMAT_EXTENSIBLE mask. PCM needs no codec, so this reader converts the
//! bytes straight into planar `f32` (one multiply per sample) — the fast path for the formats
//! QC farms see most.
//!
//! Every chunk size is checked against the file's length before it is trusted; RF64's `ds64`
//! 64-bit sizes likewise. Nothing is allocated from a header value.

use std::io::{BufReader, Read, Seek, SeekFrom};

use super::{read_up_to, AudioSource, ContainerObservations, Limits, ReadSeek, StreamInfo};
use crate::channels::ChannelMap;
use crate::error::{Error, ErrorKind, Result};

/// WAVE format tags (RFC 2361, mmreg.h).
const WAVE_FORMAT_PCM: u16 = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT: u16 = 0x0003;
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// Sample encoding of the data chunk (and of QuickTime PCM, see [`super::symphonia`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    U8,
    S16,
    S24,
    S32,
    F32,
    F64,
}

impl Encoding {
    pub(super) fn bytes(self) -> usize {
        match self {
            Encoding::U8 => 1,
            Encoding::S16 => 2,
            Encoding::S24 => 3,
            Encoding::S32 | Encoding::F32 => 4,
            Encoding::F64 => 8,
        }
    }
    fn codec(self) -> &'static str {
        match self {
            Encoding::U8 => "pcm_u8",
            Encoding::S16 => "pcm_s16le",
            Encoding::S24 => "pcm_s24le",
            Encoding::S32 => "pcm_s32le",
            Encoding::F32 => "pcm_f32le",
            Encoding::F64 => "pcm_f64le",
        }
    }
}

/// Result of opening a RIFF/WAVE file.
pub enum Opened {
    /// PCM or float data this reader decodes.
    Native(Box<WavSource>),
    /// A compressed WAVE codec (ADPCM, µ-law …): hand it (the reader, given back) to Symphonia.
    NotPcm(Box<dyn ReadSeek>),
}

/// A PCM/float WAV, BWF or RF64 stream.
pub struct WavSource {
    reader: BufReader<Box<dyn ReadSeek>>,
    info: StreamInfo,
    encoding: Encoding,
    block_align: usize,
    data_start: u64,
    total_frames: u64,
    pos_frames: u64,
    bytes: Vec<u8>,
}

pub(crate) struct Fmt {
    tag: u16,
    channels: usize,
    rate: u32,
    block_align: usize,
    bits: u16,
    valid_bits: Option<u16>,
    mask: Option<u32>,
}

/// What a chunk walk found: the format, the BWF time reference and where the samples are.
pub(crate) struct Layout {
    /// `wav`, `rf64`, `bw64` or `w64`.
    pub(crate) container: &'static str,
    pub(crate) fmt: Option<Fmt>,
    pub(crate) bext_time_reference: Option<u64>,
    /// Offset and length in bytes of the sample data.
    pub(crate) data: Option<(u64, u64)>,
    /// The data chunk's size field was an "unknown length" marker (a writer streaming to a
    /// pipe, or a recording never finalised): the data runs to the end of the file.
    pub(crate) size_unset: bool,
}

/// sox's data size for a WAV written to a pipe: `0x7ffff000` rounded down to whole frames
/// (sox `src/wav.c`, `wavwritehdr`, when the length is unknown).
const SOX_UNKNOWN_DATA_BYTES: u64 = 0x7fff_f000;

/// Is `size` (a 32-bit RIFF data chunk size, `remaining` bytes left in the file) one of the
/// "length unknown" markers writers leave when they cannot seek back: 0 (ffmpeg on a pipe,
/// unfinished recordings), 0xFFFFFFFF (ffmpeg on a pipe), or sox's `0x7ffff000` (rounded to
/// `block_align`) when the file is shorter?
fn riff_size_unset(size: u32, remaining: u64, block_align: Option<usize>) -> bool {
    let size = u64::from(size);
    let sox = block_align
        .filter(|&b| b > 0)
        .is_some_and(|b| size == SOX_UNKNOWN_DATA_BYTES - SOX_UNKNOWN_DATA_BYTES % b as u64);
    (size == 0 && remaining > 0) || size == u64::from(u32::MAX) || (sox && size > remaining)
}

/// Walk a RIFF/RF64/BW64 chunk list (`hdr`: the first 12 bytes) up to the data chunk.
fn walk_riff(r: &mut BufReader<Box<dyn ReadSeek>>, len: u64, hdr: &[u8]) -> Result<Layout> {
    let container = match hdr.get(0..4) {
        Some(b"RIFF") => "wav",
        Some(b"RF64") => "rf64",
        Some(b"BW64") => "bw64",
        _ => return Err(Error::malformed("not a RIFF/WAVE file")),
    };
    let is_rf64 = container != "wav";
    let mut pos: u64 = 12;
    let mut ds64_data: Option<u64> = None;
    let mut out = Layout {
        container,
        fmt: None,
        bext_time_reference: None,
        data: None,
        size_unset: false,
    };

    while pos + 8 <= len {
        let mut ch = [0u8; 8];
        r.seek(SeekFrom::Start(pos))?;
        if read_up_to(r, &mut ch)? < 8 {
            break;
        }
        let id = [ch[0], ch[1], ch[2], ch[3]];
        let size32 = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]);
        let body = pos + 8;
        let remaining = len - body;
        let size: u64 = if &id == b"data" && is_rf64 && size32 == u32::MAX {
            ds64_data.ok_or_else(|| {
                Error::malformed("RF64 data chunk size is 0xFFFFFFFF but no ds64 chunk precedes it")
            })?
        } else {
            u64::from(size32)
        };
        match &id {
            b"ds64" => {
                if size < 24 || size > remaining {
                    return Err(Error::malformed(format!(
                        "ds64 chunk of {size} bytes at offset {pos} (needs 24, {remaining} remain)"
                    )));
                }
                let mut b = [0u8; 24];
                r.read_exact(&mut b)?;
                ds64_data = Some(u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")));
            }
            b"fmt " => {
                if !(16..=1024).contains(&size) || size > remaining {
                    return Err(Error::malformed(format!(
                        "fmt chunk of {size} bytes at offset {pos} (expected 16 to 1024, {remaining} remain)"
                    )));
                }
                let mut b = vec![0u8; size as usize];
                r.read_exact(&mut b)?;
                out.fmt = Some(parse_fmt(&b)?);
            }
            // EBU Tech 3285: TimeReferenceLow/High at byte offsets 338/342.
            b"bext" if size >= 346 && size <= remaining => {
                out.bext_time_reference = Some(read_bext_time_reference(r)?);
            }
            b"data" if out.data.is_some() => break,
            b"data" => {
                let block_align = out.fmt.as_ref().map(|f| f.block_align);
                // RF64 (EBU Tech 3306 §4): the ds64 size is the real one; ffmpeg on a pipe
                // leaves it 0 (any other oversize, all ones included, is an error below).
                let unset = if is_rf64 && size32 == u32::MAX {
                    size == 0 && remaining > 0
                } else {
                    riff_size_unset(size32, remaining, block_align)
                };
                if unset {
                    out.size_unset = true;
                    out.data = Some((body, remaining));
                    break;
                }
                if size > remaining {
                    return Err(Error::malformed(format!(
                        "data chunk claims {size} bytes but only {remaining} remain in the file \
                         (truncated upload or wrong chunk size)"
                    )));
                }
                out.data = Some((body, size));
                if out.bext_time_reference.is_some() {
                    break;
                }
                // A `bext` may follow the audio (some recorders write it on close): look on
                // past the data for it.
            }
            _ => {}
        }
        if size > remaining {
            if out.data.is_some() {
                // Past the audio: a damaged trailing chunk does not matter.
                break;
            }
            let name = String::from_utf8_lossy(&id).into_owned();
            return Err(Error::malformed(format!(
                "chunk {name:?} at offset {pos} claims {size} bytes but only {remaining} remain \
                 (no data chunk before it)"
            )));
        }
        // Chunks are padded to an even length (RIFF).
        pos = body + size + (size & 1);
    }
    Ok(out)
}

/// Read a `bext` chunk body's TimeReference (EBU Tech 3285 §2.3: TimeReferenceLow/High at
/// byte offsets 338/342 of the body). `r` is at the start of the body, which holds ≥ 346 bytes.
pub(crate) fn read_bext_time_reference(r: &mut impl Read) -> Result<u64> {
    let mut b = [0u8; 346];
    r.read_exact(&mut b)?;
    let lo = u32::from_le_bytes(b[338..342].try_into().expect("4 bytes"));
    let hi = u32::from_le_bytes(b[342..346].try_into().expect("4 bytes"));
    Ok(u64::from(hi) << 32 | u64::from(lo))
}

impl WavSource {
    /// Parse the chunk list of `reader` (a file or bytes of `len` bytes), positioned anywhere:
    /// RIFF/WAVE, RF64/BW64 (EBU Tech 3306) or Sony Wave64.
    pub fn open<R: ReadSeek + 'static>(reader: R, len: u64) -> Result<Opened> {
        let mut reader: Box<dyn ReadSeek> = Box::new(reader);
        reader.seek(SeekFrom::Start(0))?;
        let mut r = BufReader::with_capacity(1 << 16, reader);
        let mut hdr = [0u8; 16];
        let n = read_up_to(&mut r, &mut hdr)?;
        let layout = if super::w64::is_w64(&hdr[..n]) {
            super::w64::walk(&mut r, len)?
        } else if n >= 12 && &hdr[8..12] == b"WAVE" {
            walk_riff(&mut r, len, &hdr[..12])?
        } else {
            return Err(Error::malformed("not a RIFF/WAVE file"));
        };
        let Layout {
            container,
            fmt,
            bext_time_reference: bext_tr,
            data,
            size_unset,
        } = layout;

        let fmt = fmt.ok_or_else(|| Error::malformed("no fmt chunk before the data chunk"))?;
        let (data_start, data_len) =
            data.ok_or_else(|| Error::malformed("no data chunk (no audio in the file)"))?;

        let sub_tag = fmt.tag;
        let encoding = match (sub_tag, fmt.bits) {
            (WAVE_FORMAT_PCM, 8) => Encoding::U8,
            (WAVE_FORMAT_PCM, 16) => Encoding::S16,
            (WAVE_FORMAT_PCM, 24) => Encoding::S24,
            (WAVE_FORMAT_PCM, 32) => Encoding::S32,
            (WAVE_FORMAT_IEEE_FLOAT, 32) => Encoding::F32,
            (WAVE_FORMAT_IEEE_FLOAT, 64) => Encoding::F64,
            (WAVE_FORMAT_PCM | WAVE_FORMAT_IEEE_FLOAT, b) => {
                return Err(Error::new(ErrorKind::UnsupportedCodec(format!(
                    "{} with {b} bits per sample",
                    if sub_tag == WAVE_FORMAT_PCM {
                        "PCM"
                    } else {
                        "IEEE float"
                    }
                ))))
            }
            _ => {
                // Checked here too: Symphonia's WAVE reader trusts these (fuzz crash
                // wavex-511-channels-mask-shift; tests/it/hostile.rs).
                Limits::check(fmt.rate, fmt.channels)?;
                if container == "w64" {
                    // Symphonia has no Wave64 reader.
                    return Err(Error::new(ErrorKind::UnsupportedCodec(format!(
                        "Wave64 with WAVE format tag {sub_tag:#06x} (loudqc reads PCM and IEEE \
                         float Wave64; convert the file to WAV or FLAC)"
                    ))));
                }
                check_mask_for_symphonia(fmt.mask, fmt.channels)?;
                return Ok(Opened::NotPcm(r.into_inner()));
            }
        };
        Limits::check(fmt.rate, fmt.channels)?;
        let block_align = fmt.channels * encoding.bytes();
        if fmt.block_align != block_align {
            return Err(Error::malformed(format!(
                "block align {} does not match {} channels of {} bits",
                fmt.block_align, fmt.channels, fmt.bits
            )));
        }
        let total_frames = data_len / block_align as u64;
        // A mask naming more or fewer speakers than there are channels is not trusted (6
        // channels with mask 0x3 would read L R X X X X, LFE weighted 1.0): the map comes from
        // the count, and the mismatch is reported.
        let mask_mismatch = fmt
            .mask
            .filter(|&m| m != 0 && m.count_ones() as usize != fmt.channels);
        let channel_map = fmt
            .mask
            .filter(|_| mask_mismatch.is_none())
            .and_then(|m| ChannelMap::from_wave_mask(m, fmt.channels));
        let container = if container == "wav" && bext_tr.is_some() {
            "bwf"
        } else {
            container
        };
        let info = StreamInfo {
            container: container.to_string(),
            codec: encoding.codec().to_string(),
            sample_rate_hz: fmt.rate,
            channels: fmt.channels,
            bits_per_sample: Some(u32::from(fmt.valid_bits.unwrap_or(fmt.bits))),
            frames: Some(total_frames),
            channel_map,
            bext_time_reference: bext_tr,
            channel_mask_mismatch: mask_mismatch,
            observed: ContainerObservations {
                size_fields_unset: size_unset,
                ..Default::default()
            },
        };
        r.seek(SeekFrom::Start(data_start))?;
        Ok(Opened::Native(Box::new(WavSource {
            reader: r,
            info,
            encoding,
            block_align,
            data_start,
            total_frames,
            pos_frames: 0,
            bytes: Vec::new(),
        })))
    }
}

/// Reject a WAVE_FORMAT_EXTENSIBLE channel mask that Symphonia 0.6's `fix_wave_channel_mask`
/// cannot pad to the channel count without a shift overflow (a panic with overflow checks, a
/// garbage mask without): 32 or more channels missing from the mask, or missing channels with
/// bit 31 (reserved) set.
fn check_mask_for_symphonia(mask: Option<u32>, channels: usize) -> Result<()> {
    let Some(mask) = mask else { return Ok(()) };
    let missing = channels.saturating_sub(mask.count_ones() as usize);
    if missing >= 32 || (missing > 0 && mask & 0x8000_0000 != 0) {
        return Err(Error::malformed(format!(
            "WAVE_FORMAT_EXTENSIBLE channel mask {mask:#010x} names {} speakers for {channels} \
             channels and cannot be completed",
            mask.count_ones()
        )));
    }
    Ok(())
}

pub(crate) fn parse_fmt(b: &[u8]) -> Result<Fmt> {
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let mut f = Fmt {
        tag: u16_at(0),
        channels: usize::from(u16_at(2)),
        rate: u32_at(4),
        block_align: usize::from(u16_at(12)),
        bits: u16_at(14),
        valid_bits: None,
        mask: None,
    };
    if f.tag == WAVE_FORMAT_EXTENSIBLE {
        // WAVEFORMATEXTENSIBLE: cbSize(2) wValidBitsPerSample(2) dwChannelMask(4) SubFormat(16).
        if b.len() < 40 {
            return Err(Error::malformed(format!(
                "WAVE_FORMAT_EXTENSIBLE fmt chunk is {} bytes, needs 40",
                b.len()
            )));
        }
        let valid = u16_at(18);
        f.valid_bits = (valid != 0).then_some(valid);
        f.mask = Some(u32_at(20));
        // The SubFormat GUID starts with the format tag.
        f.tag = u16_at(24);
    }
    Ok(f)
}

impl AudioSource for WavSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut Vec<Vec<f32>>, max_frames: usize) -> Result<usize> {
        let channels = self.info.channels;
        out.resize_with(channels, Vec::new);
        let want = (self.total_frames - self.pos_frames).min(max_frames as u64) as usize;
        if want == 0 {
            for ch in out.iter_mut() {
                ch.clear();
            }
            return Ok(0);
        }
        let nbytes = want * self.block_align;
        self.bytes.resize(nbytes, 0);
        let got = read_up_to(&mut self.reader, &mut self.bytes[..nbytes])?;
        let frames = got / self.block_align;
        if frames == 0 {
            return Err(Error::malformed(format!(
                "file ends inside the data chunk at frame {} of {}",
                self.pos_frames, self.total_frames
            )));
        }
        for ch in out.iter_mut() {
            // Every sample is overwritten below: only grow or shrink, never re-zero.
            ch.resize(frames, 0.0);
        }
        convert(
            self.encoding,
            false,
            &self.bytes[..frames * self.block_align],
            channels,
            out,
        );
        self.pos_frames += frames as u64;
        Ok(frames)
    }

    fn seek(&mut self, frame: u64) -> Result<()> {
        let frame = frame.min(self.total_frames);
        self.reader.seek(SeekFrom::Start(
            self.data_start + frame * self.block_align as u64,
        ))?;
        self.pos_frames = frame;
        Ok(())
    }
}

/// Interleaved bytes (little-endian, or big-endian as QuickTime stores them) → planar f32 in
/// [-1, 1). The byte order is chosen once here, not per sample.
pub(super) fn convert<D: AsMut<[f32]>>(
    enc: Encoding,
    big_endian: bool,
    bytes: &[u8],
    channels: usize,
    out: &mut [D],
) {
    match (enc, big_endian) {
        (Encoding::U8, _) => convert_with::<1, _>(bytes, channels, out, |s| {
            (f32::from(s[0]) - 128.0) * (1.0 / 128.0)
        }),
        (Encoding::S16, false) => convert_with::<2, _>(bytes, channels, out, |s| {
            f32::from(i16::from_le_bytes(*s)) * (1.0 / 32768.0)
        }),
        (Encoding::S16, true) => convert_with::<2, _>(bytes, channels, out, |s| {
            f32::from(i16::from_be_bytes(*s)) * (1.0 / 32768.0)
        }),
        (Encoding::S24, false) if channels > 1 => convert_s24le_wide(bytes, channels, out),
        (Encoding::S24, false) => convert_with::<3, _>(bytes, channels, out, |s| {
            (i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) as f32 * (1.0 / 8_388_608.0)
        }),
        (Encoding::S24, true) => convert_with::<3, _>(bytes, channels, out, |s| {
            (i32::from_be_bytes([s[0], s[1], s[2], 0]) >> 8) as f32 * (1.0 / 8_388_608.0)
        }),
        (Encoding::S32, false) => convert_with::<4, _>(bytes, channels, out, |s| {
            (f64::from(i32::from_le_bytes(*s)) * (1.0 / 2_147_483_648.0)) as f32
        }),
        (Encoding::S32, true) => convert_with::<4, _>(bytes, channels, out, |s| {
            (f64::from(i32::from_be_bytes(*s)) * (1.0 / 2_147_483_648.0)) as f32
        }),
        (Encoding::F32, false) => {
            convert_with::<4, _>(bytes, channels, out, |s| f32::from_le_bytes(*s))
        }
        (Encoding::F32, true) => {
            convert_with::<4, _>(bytes, channels, out, |s| f32::from_be_bytes(*s))
        }
        (Encoding::F64, false) => {
            convert_with::<8, _>(bytes, channels, out, |s| f64::from_le_bytes(*s) as f32)
        }
        (Encoding::F64, true) => {
            convert_with::<8, _>(bytes, channels, out, |s| f64::from_be_bytes(*s) as f32)
        }
    }
}

/// Little-endian 24-bit samples of two or more channels, each read with one 4-byte load from
/// within its frame: the sample and the byte after it, shifted up and back down to drop that
/// byte; for the last channel, the byte before it and the sample, shifted down. The same
/// values as the 3-byte gather of [`convert_with`], at one load per sample instead of two
/// or three (the WAV decode sits on the reader thread, the critical path of a check without
/// the speech gate: issue 17).
fn convert_s24le_wide<D: AsMut<[f32]>>(bytes: &[u8], channels: usize, out: &mut [D]) {
    const SCALE: f32 = 1.0 / 8_388_608.0;
    let stride = 3 * channels;
    for (c, dst) in out.iter_mut().enumerate() {
        let frames = dst.as_mut().iter_mut().zip(bytes.chunks_exact(stride));
        if c + 1 < channels {
            let at = 3 * c;
            for (d, frame) in frames {
                let w: [u8; 4] = frame[at..at + 4].try_into().expect("4 bytes");
                *d = ((i32::from_le_bytes(w) << 8) >> 8) as f32 * SCALE;
            }
        } else {
            let at = 3 * c - 1;
            for (d, frame) in frames {
                let w: [u8; 4] = frame[at..at + 4].try_into().expect("4 bytes");
                *d = (i32::from_le_bytes(w) >> 8) as f32 * SCALE;
            }
        }
    }
}

/// One channel at a time over fixed-size sample slices, so each loop is a tight, bounds-check-free
/// gather the compiler can unroll (this was a fifth of a 5.1 check's CPU time with `chunks`).
#[inline]
fn convert_with<const B: usize, D: AsMut<[f32]>>(
    bytes: &[u8],
    channels: usize,
    out: &mut [D],
    f: impl Fn(&[u8; B]) -> f32 + Copy,
) {
    let stride = channels * B;
    for (c, dst) in out.iter_mut().enumerate() {
        for (d, frame) in dst.as_mut().iter_mut().zip(bytes.chunks_exact(stride)) {
            let s: &[u8; B] = frame[c * B..c * B + B].try_into().expect("B bytes");
            *d = f(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-load 24-bit path gives the 3-byte gather's values bit for bit, for every
    /// channel position (the last one reads the byte before its sample), every byte value in
    /// every byte of a sample (full scale both ways included), and a partial output.
    #[test]
    fn s24le_one_load_per_sample_matches_the_gather() {
        let gather = |bytes: &[u8], channels: usize, out: &mut [Vec<f32>]| {
            convert_with::<3, _>(bytes, channels, out, |s| {
                (i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) as f32 * (1.0 / 8_388_608.0)
            })
        };
        for channels in 2..=8 {
            let frames = 700;
            let mut bytes: Vec<u8> = (0..frames * 3 * channels)
                .map(|i| (i * 131 + i / 7 + channels) as u8)
                .collect();
            // Full scale: 0x800000 (-1.0) and 0x7FFFFF, in the first and last channel.
            bytes[..3].copy_from_slice(&[0x00, 0x00, 0x80]);
            let last = 3 * (channels - 1);
            bytes[last..last + 3].copy_from_slice(&[0xFF, 0xFF, 0x7F]);
            let mut want = vec![vec![0.0f32; frames]; channels];
            gather(&bytes, channels, &mut want);
            let mut got = vec![vec![9.0f32; frames]; channels];
            convert(Encoding::S24, false, &bytes, channels, &mut got);
            for (c, (g, w)) in got.iter().zip(&want).enumerate() {
                let same = g.iter().zip(w).all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{channels} channels, channel {c}");
            }
            assert_eq!(
                (got[0][0], got[channels - 1][0]),
                (-1.0, 8_388_607.0 / 8_388_608.0)
            );
            // An output shorter than the bytes (the last block of a file) is filled as far as
            // it goes.
            let mut short = vec![vec![0.0f32; 5]; channels];
            convert(Encoding::S24, false, &bytes, channels, &mut short);
            assert!(short.iter().zip(&want).all(|(s, w)| s[..] == w[..5]));
        }
    }
}
