//! Decoding: any supported file → a stream of planar `f32` blocks.
//!
//! WAV, BWF, RF64/BW64 with PCM or IEEE-float data are read by loudqc's own RIFF reader
//! ([`wav`]): it streams straight from the file into planar `f32` with one conversion per sample,
//! reads the WAVE_FORMAT_EXTENSIBLE channel mask and the BWF `bext` time reference, and handles
//! RF64 files over 4 GiB (EBU Tech 3306), which Symphonia does not. Everything else (FLAC, AIFF,
//! ALAC, MP3, AAC, Ogg/Vorbis, CAF, MKV, compressed WAV codecs) goes through Symphonia
//! ([`symphonia`]). Either way memory does not grow with the file's length.
//!
//! Untrusted input: every header value that sizes anything is checked against [`Limits`] and the
//! file's length before it is used.

pub mod memory;
pub mod symphonia;
pub mod wav;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::channels::ChannelMap;
use crate::error::{Error, Result};

/// Bounds on what a header may claim (issue: hostile input).
#[derive(Debug, Clone, Copy)]
pub struct Limits;

impl Limits {
    /// Most channels accepted (Dolby Atmos beds and IMF MCA stay far below).
    pub const MAX_CHANNELS: usize = 64;
    /// Lowest sample rate accepted, Hz.
    pub const MIN_RATE_HZ: u32 = 8_000;
    /// Highest sample rate accepted, Hz (DXD×2).
    pub const MAX_RATE_HZ: u32 = 768_000;

    /// Check a stream's rate and channel count.
    pub fn check(rate_hz: u32, channels: usize) -> Result<()> {
        if channels == 0 || channels > Self::MAX_CHANNELS {
            return Err(Error::invalid(
                "channel count",
                format!("1 to {}", Self::MAX_CHANNELS),
                channels,
            ));
        }
        if !(Self::MIN_RATE_HZ..=Self::MAX_RATE_HZ).contains(&rate_hz) {
            return Err(Error::invalid(
                "sample rate",
                format!("{} Hz to {} Hz", Self::MIN_RATE_HZ, Self::MAX_RATE_HZ),
                format!("{rate_hz} Hz"),
            ));
        }
        Ok(())
    }
}

/// What a stream is: container, codec, rate, channels.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    /// Container: `wav`, `rf64`, `bw64`, `flac`, `aiff`, …
    pub container: String,
    /// Codec: `pcm_s16le`, `pcm_s24le`, `pcm_f32le`, `flac`, …
    pub codec: String,
    /// Sample rate in Hz.
    pub sample_rate_hz: u32,
    /// Number of channels.
    pub channels: usize,
    /// Bits per sample of the coded data, when the codec has one.
    pub bits_per_sample: Option<u32>,
    /// Number of frames, when the container says.
    pub frames: Option<u64>,
    /// Channel map from the container (WAVE_FORMAT_EXTENSIBLE mask, FLAC/AIFF layout …).
    pub channel_map: Option<ChannelMap>,
    /// BWF `bext` TimeReference: the first sample's position in samples since midnight.
    pub bext_time_reference: Option<u64>,
}

impl StreamInfo {
    /// Duration in seconds, when the frame count is known.
    pub fn duration_s(&self) -> Option<f64> {
        self.frames.map(|f| f as f64 / self.sample_rate_hz as f64)
    }
}

/// A source of decoded audio, read front to back in blocks.
pub trait AudioSource: Send {
    /// What the stream is.
    fn info(&self) -> &StreamInfo;

    /// Read up to `max_frames` frames into `out`, one `Vec` per channel (cleared and refilled;
    /// `out` is resized to the channel count). Returns the number of frames read; 0 at the end.
    fn read(&mut self, out: &mut Vec<Vec<f32>>, max_frames: usize) -> Result<usize>;

    /// Position the stream so that the next `read` starts at `frame` (clamped to the end).
    fn seek(&mut self, frame: u64) -> Result<()>;

    /// Packets the decoder could not decode and skipped (a QC finding, not an error).
    fn skipped_packets(&self) -> u64 {
        0
    }
}

/// Open a file for decoding: loudqc's RIFF reader for PCM/float WAV, BWF and RF64, Symphonia
/// for everything else. Errors name the file.
pub fn open_path(path: &Path) -> Result<Box<dyn AudioSource>> {
    open_inner(path).map_err(|e| e.with_path(path))
}

fn open_inner(path: &Path) -> Result<Box<dyn AudioSource>> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(Error::malformed("is a directory, not an audio file"));
    }
    let len = meta.len();
    if len == 0 {
        return Err(Error::malformed("empty file (0 bytes)"));
    }
    let mut magic = [0u8; 12];
    let n = read_up_to(&mut file, &mut magic)?;
    let is_riff =
        n == 12 && matches!(&magic[0..4], b"RIFF" | b"RF64" | b"BW64") && &magic[8..12] == b"WAVE";
    if is_riff {
        match wav::WavSource::open(file, len)? {
            wav::Opened::Native(src) => return Ok(src),
            wav::Opened::NotPcm => {} // compressed WAV codec: let Symphonia try it
        }
    }
    let file = File::open(path)?;
    symphonia::SymphoniaSource::open(file, path.extension().and_then(|e| e.to_str()))
        .map(|s| Box::new(s) as Box<dyn AudioSource>)
}

/// `read_exact` that tolerates a short file: returns how many bytes were read.
pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
