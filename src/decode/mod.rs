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

#[cfg(feature = "ffmpeg")]
pub mod ffmpeg;
pub mod memory;
pub mod multimono;
pub mod symphonia;
pub mod w64;
pub mod wav;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
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
#[derive(Debug, Clone, PartialEq, Default)]
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
    /// A WAVE_FORMAT_EXTENSIBLE channel mask whose bit count differs from the channel count
    /// (the map then comes from the count).
    pub channel_mask_mismatch: Option<u32>,
    /// What the container says about itself (size fields, tracks): observations that
    /// [`crate::spec::container`] turns into findings.
    pub observed: ContainerObservations,
}

/// Facts about a file's container, as the decoder saw them: no severities here (the rules are
/// in [`crate::spec::container`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerObservations {
    /// The data size field held an "unknown length" marker (0, all ones, or sox's
    /// `0x7ffff000`): the writer streamed to a pipe or the recording was never finalised. The
    /// audio was read to the end of the file.
    pub size_fields_unset: bool,
    /// Every audio track of a multi-track container (QuickTime/MP4, Matroska), in file order;
    /// empty for single-stream formats.
    pub tracks: Vec<TrackInfo>,
    /// The [`TrackInfo::index`] of each track measured, in channel order.
    pub measured_tracks: Vec<usize>,
    /// How the measured tracks were chosen.
    pub selection: TrackSelection,
    /// With [`TrackSelection::Combined`]: the channel map came from the track names (else
    /// from the track order).
    pub combined_by_names: bool,
}

/// How the tracks of a multi-track file were chosen for measurement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackSelection {
    /// The first audio track (the file has one, or its tracks do not form one programme).
    #[default]
    Default,
    /// Several tracks whose rates and lengths agree and whose channels add up to a known
    /// layout (six mono tracks → 5.1), measured as one programme.
    Combined,
    /// The tracks the user named (`--track N`).
    User,
}

/// One audio track of a multi-track file, as the report's `format.tracks` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrackInfo {
    /// Track number, 1-based in file order among the audio tracks (what `--track` takes).
    pub index: usize,
    /// `track N` with the name, for messages.
    #[serde(skip)]
    pub label: String,
    /// Codec (`pcm_s24le`, `aac`, …).
    pub codec: String,
    /// Channel count.
    pub channels: usize,
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// Length in frames, when the container says.
    pub frames: Option<u64>,
    /// Language (ISO 639-2 or RFC 5646 as the container stores it), when set.
    pub language: Option<String>,
    /// The track's name or title, when set.
    pub name: Option<String>,
    /// Whether this track was measured.
    pub measured: bool,
}

impl TrackInfo {
    /// Track `index` (1-based) with no language or name.
    pub fn new(
        index: usize,
        codec: &str,
        channels: usize,
        sample_rate_hz: u32,
        frames: Option<u64>,
    ) -> TrackInfo {
        TrackInfo {
            index,
            label: format!("track {index}"),
            codec: codec.to_string(),
            channels,
            sample_rate_hz,
            frames,
            language: None,
            name: None,
            measured: false,
        }
    }

    /// Set the language.
    pub fn with_language(mut self, language: Option<String>) -> TrackInfo {
        self.language = language.filter(|l| !l.is_empty() && l != "und");
        self
    }

    /// Set the name (and the label used in messages).
    pub fn with_name(mut self, name: Option<String>) -> TrackInfo {
        self.name = name.filter(|n| !n.trim().is_empty());
        self.label = match &self.name {
            Some(n) => format!("track {} \"{n}\"", self.index),
            None => format!("track {}", self.index),
        };
        self
    }

    /// One line for messages: `track 2 "M&E" (aac, 2 ch, eng)`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} ({}, {} ch", self.label, self.codec, self.channels);
        if let Some(l) = &self.language {
            s.push_str(", ");
            s.push_str(l);
        }
        s.push(')');
        s
    }
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

    /// Packets decoded so far, for sources that decode packets (`None` for PCM read directly):
    /// with [`AudioSource::skipped_packets`], the share of the stream that was lost.
    fn decoded_packets(&self) -> Option<u64> {
        None
    }

    /// The SMPTE ST 377-4 multichannel-audio labelling of the stream (IMF track files and
    /// compositions), if it has one.
    fn mca(&self) -> Option<McaInfo> {
        None
    }

    /// QC findings about the container itself, known once it is opened (e.g. IMF core
    /// constraints of an MXF track file). They go into the report with the loudness findings.
    fn container_findings(&self) -> Vec<crate::spec::Finding> {
        Vec::new()
    }
}

/// Multichannel-audio (MCA, SMPTE ST 377-4) labelling of a stream, as IMF carries it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct McaInfo {
    /// MCA tag symbol of the soundfield group, e.g. `sgST` (stereo), `sg51` (5.1).
    pub soundfield: Option<String>,
    /// RFC 5646 spoken language, e.g. `en`.
    pub language: Option<String>,
    /// MCA tag symbols of the channels in file order, e.g. `["chL", "chR"]`.
    pub labels: Vec<String>,
}

/// A byte source the decoders can read: a file, or bytes in memory (`std::io::Cursor`).
pub trait ReadSeek: Read + Seek + Send + Sync {}

impl<T: Read + Seek + Send + Sync> ReadSeek for T {}

/// Open a file for decoding: loudqc's RIFF reader for PCM/float WAV, BWF and RF64, Symphonia
/// for everything else. Errors name the file.
pub fn open_path(path: &Path) -> Result<Box<dyn AudioSource>> {
    open_path_with(path, &OpenOptions::default())
}

/// How to open a file. `#[non_exhaustive]`: start from `OpenOptions::default()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenOptions {
    /// Audio tracks to measure, by number (1-based in file order among the audio tracks:
    /// `--track N`); several are measured as one programme, in the order given. Empty: loudqc
    /// chooses (tracks forming one programme, else the default track).
    pub tracks: Vec<usize>,
}

impl OpenOptions {
    /// Measure these tracks (see [`OpenOptions::tracks`]).
    pub fn with_tracks(mut self, tracks: Vec<usize>) -> Self {
        self.tracks = tracks;
        self
    }
}

/// [`open_path`] with options (track choice).
pub fn open_path_with(path: &Path, opts: &OpenOptions) -> Result<Box<dyn AudioSource>> {
    open_file(path, opts).map_err(|e| e.with_path(path))
}

fn open_file(path: &Path, opts: &OpenOptions) -> Result<Box<dyn AudioSource>> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(Error::malformed("is a directory, not an audio file"));
    }
    // MXF (IMF audio track files): a partition pack key at offset 0 (SMPTE ST 377-1 §7.1), or
    // the `.mxf` extension (files with a run-in, or damaged ones, then get an MXF error).
    // Without the `imf` feature, MXF goes to Symphonia, which does not read it.
    #[cfg(feature = "imf")]
    {
        let mut magic = [0u8; 16];
        let n = read_up_to(&mut file, &mut magic)?;
        let is_mxf = n == 16 && crate::imf::klv::is_partition_key(&magic);
        let mxf_ext = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("mxf"));
        if is_mxf || mxf_ext {
            return crate::imf::MxfSource::open(path).map(|s| Box::new(s) as Box<dyn AudioSource>);
        }
    }
    file.seek(SeekFrom::Start(0))?;
    let opened = open_boxed(
        Box::new(file),
        meta.len(),
        path.extension().and_then(|e| e.to_str()),
        &opts.tracks,
    );
    #[cfg(feature = "ffmpeg")]
    if let Err(e) = &opened {
        // Symphonia has no decoder for the track (AC-3, E-AC-3, multichannel or HE AAC, Opus
        // …) or no reader for the container (raw AC-3): the system FFmpeg libraries try.
        if matches!(
            e.kind(),
            crate::error::ErrorKind::UnsupportedCodec(_)
                | crate::error::ErrorKind::UnsupportedFormat(_)
        ) {
            return ffmpeg::FfmpegSource::open(path, &opts.tracks)
                .map(|s| Box::new(s) as Box<dyn AudioSource>);
        }
    }
    opened
}

/// Open any seekable byte source (e.g. `std::io::Cursor<Vec<u8>>` over bytes in memory) the way
/// [`open_path`] opens a file. `ext_hint` is a file extension (`"flac"`) that helps Symphonia's
/// probe; the RIFF reader does not need it. Errors carry no path: attach one with
/// [`Error::with_path`] if there is one.
pub fn open_reader<R: ReadSeek + 'static>(
    mut reader: R,
    ext_hint: Option<&str>,
) -> Result<Box<dyn AudioSource>> {
    let len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    open_boxed(Box::new(reader), len, ext_hint, &[])
}

/// A container recognised by its first bytes. A file that starts like one of these is decoded
/// as that format or refused with that format's error: it never falls through to Symphonia's
/// byte-by-byte scan, which finds MPEG audio sync words inside PCM data (issue 13: a Wave64
/// mis-probed as MP3 read as 0 s, or as garbage at +162 LUFS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// RIFF/RF64/BW64 WAVE, or Sony Wave64 (loudqc's reader; compressed WAVE codecs go to
    /// Symphonia's WAVE reader only).
    Wave,
    /// `FORM` … `AIFF`/`AIFC`.
    Aiff,
    /// Apple Core Audio Format (`caff`).
    Caf,
    /// ISO base media / QuickTime (`ftyp` at offset 4).
    IsoMp4,
    /// Native FLAC (`fLaC`).
    Flac,
    /// Ogg (`OggS`).
    Ogg,
    /// Matroska / WebM (EBML magic).
    Matroska,
}

impl Family {
    /// Recognise `head` (the first 16 bytes of a file, or fewer if it is shorter).
    pub fn sniff(head: &[u8]) -> Option<Family> {
        let at = |o: usize, m: &[u8]| head.get(o..o + m.len()) == Some(m);
        if w64::is_w64(head)
            || ((at(0, b"RIFF") || at(0, b"RF64") || at(0, b"BW64")) && at(8, b"WAVE"))
        {
            Some(Family::Wave)
        } else if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
            Some(Family::Aiff)
        } else if at(0, b"caff") {
            Some(Family::Caf)
        } else if at(4, b"ftyp") {
            Some(Family::IsoMp4)
        } else if at(0, b"fLaC") {
            Some(Family::Flac)
        } else if at(0, b"OggS") {
            Some(Family::Ogg)
        } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
            Some(Family::Matroska)
        } else {
            None
        }
    }
}

/// Open `reader` of `len` bytes: the RIFF/Wave64 reader if it is a PCM/float WAVE, else
/// Symphonia (restricted to the container the first bytes name, when they name one).
fn open_boxed(
    mut reader: Box<dyn ReadSeek>,
    len: u64,
    ext_hint: Option<&str>,
    tracks: &[usize],
) -> Result<Box<dyn AudioSource>> {
    if len == 0 {
        return Err(Error::malformed("empty file (0 bytes)"));
    }
    let mut magic = [0u8; 16];
    let n = read_up_to(&mut reader, &mut magic)?;
    let family = Family::sniff(&magic[..n]);
    if family == Some(Family::Wave) {
        if tracks.iter().any(|&t| t != 1) {
            return Err(Error::invalid(
                "audio track (--track)",
                "1 (a WAVE file has one audio track)",
                tracks.iter().find(|&&t| t != 1).copied().unwrap_or(0),
            ));
        }
        match wav::WavSource::open(reader, len)? {
            wav::Opened::Native(src) => return Ok(src),
            // A compressed WAVE codec: let Symphonia try it.
            wav::Opened::NotPcm(back) => reader = back,
        }
    }
    // An AC-3 / E-AC-3 elementary stream (.ac3, .eac3): the sync word 0x0B77 (ATSC A/52 §5.4.1)
    // and no container. Symphonia has no reader or decoder for it.
    if family.is_none() && magic[..n].starts_with(&[0x0B, 0x77]) {
        return Err(Error::new(crate::error::ErrorKind::UnsupportedCodec(
            format!(
                "an elementary stream of {}",
                symphonia::unsupported_codec_advice(
                    ::symphonia::core::codecs::audio::well_known::CODEC_ID_AC3,
                    0
                )
                .replacen(
                    "AC-3 (Dolby Digital)",
                    "AC-3 or E-AC-3 (Dolby Digital / Plus)",
                    1
                )
            ),
        )));
    }
    let mut caf_size_unset = false;
    if family == Some(Family::Caf) {
        check_caf_desc(&mut reader)?;
        if let Some(at) = caf_unset_data_size(&mut reader, len)? {
            // The data chunk's size is -1 ("to the end of the file", what ffmpeg writes to a
            // pipe). Symphonia 0.6 then reads the audio as further chunk headers: it is shown
            // the real size instead.
            let size = len.saturating_sub(at + 8);
            reader = Box::new(Overlay {
                inner: reader,
                at,
                bytes: (size as i64).to_be_bytes(),
            });
            caf_size_unset = true;
        }
    }
    reader.seek(SeekFrom::Start(0))?;
    let mut src = symphonia::SymphoniaSource::open_as(
        symphonia::KnownLength::new(reader, len),
        ext_hint,
        family,
        tracks,
    )?;
    if caf_size_unset {
        src.set_size_fields_unset();
    }
    Ok(Box::new(src))
}

/// The offset of a CAF `data` chunk's size field when it holds -1 (Apple CAF spec: "the data
/// chunk extends to the end of the file"; only the last chunk may). The chunk walk stops at the
/// data chunk, at the end of the file, or after a bounded number of chunks.
fn caf_unset_data_size(reader: &mut dyn ReadSeek, len: u64) -> Result<Option<u64>> {
    const MAX_CHUNKS: usize = 64;
    let mut at = 8u64; // after the file header: 'caff', version, flags
    for _ in 0..MAX_CHUNKS {
        if at.saturating_add(12) > len {
            return Ok(None);
        }
        reader.seek(SeekFrom::Start(at))?;
        let mut h = [0u8; 12];
        if read_up_to(reader, &mut h)? < h.len() {
            return Ok(None);
        }
        let size = i64::from_be_bytes(h[4..12].try_into().expect("8 bytes"));
        if &h[..4] == b"data" {
            return Ok((size == -1).then_some(at + 4));
        }
        match u64::try_from(size) {
            Ok(s) => at = at.saturating_add(12).saturating_add(s),
            Err(_) => return Ok(None), // a negative size elsewhere: Symphonia's error says so
        }
    }
    Ok(None)
}

/// A byte source with `bytes` shown at offset `at` in place of what the source holds there
/// (a corrected header field; the file itself is not changed).
struct Overlay {
    inner: Box<dyn ReadSeek>,
    at: u64,
    bytes: [u8; 8],
}

impl Read for Overlay {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let pos = self.inner.stream_position()?;
        let n = self.inner.read(buf)?;
        let end = self.at + self.bytes.len() as u64;
        let read_end = pos + n as u64;
        if pos < end && read_end > self.at {
            let from = self.at.max(pos);
            let to = end.min(read_end);
            for p in from..to {
                buf[(p - pos) as usize] = self.bytes[(p - self.at) as usize];
            }
        }
        Ok(n)
    }
}

impl Seek for Overlay {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Check a CAF file's `desc` chunk (Apple CAF spec: always the first chunk) against [`Limits`]
/// before Symphonia parses it: Symphonia 0.6's CAF reader multiplies these fields unchecked
/// (fuzz crash tests/fixtures/crashes/open_probe/caf-bytes-per-packet-overflow).
fn check_caf_desc(reader: &mut dyn ReadSeek) -> Result<()> {
    let mut b = [0u8; 52];
    reader.seek(SeekFrom::Start(0))?;
    if read_up_to(reader, &mut b)? < b.len() || &b[8..12] != b"desc" {
        return Ok(()); // not a CAF Symphonia will take; its probe says why
    }
    let be32 = |o: usize| u32::from_be_bytes(b[o..o + 4].try_into().expect("4 bytes"));
    let rate_hz = f64::from_be_bytes(b[20..28].try_into().expect("8 bytes"));
    let bytes_per_packet = be32(36);
    let channels = be32(44);
    Limits::check(Limits::MIN_RATE_HZ, channels as usize)?;
    if !(f64::from(Limits::MIN_RATE_HZ)..=f64::from(Limits::MAX_RATE_HZ)).contains(&rate_hz) {
        return Err(Error::invalid(
            "sample rate",
            format!("{} Hz to {} Hz", Limits::MIN_RATE_HZ, Limits::MAX_RATE_HZ),
            format!("{rate_hz} Hz"),
        ));
    }
    // The largest sane packet: 64 channels of 64-bit samples, 4096 frames.
    const MAX_BYTES_PER_PACKET: u32 = 64 * 8 * 4096;
    if bytes_per_packet > MAX_BYTES_PER_PACKET {
        return Err(Error::malformed(format!(
            "CAF desc chunk claims {bytes_per_packet} bytes per packet (at most \
             {MAX_BYTES_PER_PACKET})"
        )));
    }
    Ok(())
}

/// `read_exact` that tolerates a short file: returns how many bytes were read.
pub(crate) fn read_up_to(r: &mut (impl Read + ?Sized), buf: &mut [u8]) -> std::io::Result<usize> {
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
