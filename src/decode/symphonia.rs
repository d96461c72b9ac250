//! Symphonia-backed decoding for every format the RIFF reader does not take: FLAC, AIFF, ALAC,
//! MP3, AAC, Vorbis, CAF, MKV and compressed WAV codecs.
//!
//! Gapless mode stays on (encoder delay and padding would bias peaks and short files). A packet
//! that fails to decode is skipped and counted — the count becomes a QC finding — rather than
//! ending the analysis; `ResetRequired` (a chained Ogg stream changing its parameters) ends the
//! stream at that point, since a deliverable with a mid-stream format change is not one program.

use std::io::{Read, Seek, SeekFrom};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::{Hint, Probe};
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::Timestamp;

use super::{AudioSource, Limits, ReadSeek, StreamInfo};
use crate::channels::{ChannelMap, MapSource};
use crate::error::{Error, ErrorKind, Result};

/// A stream decoded by Symphonia.
pub struct SymphoniaSource {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    info: StreamInfo,
    /// Decoded frames not yet handed out, planar, from `pending_pos`.
    pending: Vec<Vec<f32>>,
    pending_pos: usize,
    /// Frames still to drop after an accurate seek landed early.
    skip_frames: u64,
    skipped_packets: u64,
    ended: bool,
    /// Frames decoded since the start (counted until the first seek).
    decoded_frames: u64,
    seeked: bool,
    /// The container's packet durations are exact (MP4 `stts`): frames decoded past a
    /// packet's block are padding to drop.
    trim_to_block: bool,
}

/// Containers whose header frame count is exact (Symphonia's short names), so a stream that
/// ends short of it is a truncated file. MP3/Ogg/MP4/MKV counts can be estimates.
const EXACT_LENGTH_CONTAINERS: [&str; 4] = ["flac", "aiff", "caf", "wave"];

fn sym_err(e: SymError) -> Error {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::malformed("the file ends inside a header or chunk (truncated file)")
        }
        SymError::IoError(io) => Error::from(io),
        SymError::Unsupported(what) => Error::new(ErrorKind::UnsupportedFormat(what.to_string())),
        SymError::DecodeError(what) => Error::malformed(what),
        SymError::LimitError(what) => Error::malformed(format!("limit reached: {what}")),
        other => Error::new(ErrorKind::Decode(other.to_string())),
    }
}

/// The probe for `family`: Symphonia's full probe (which scans for any marker, MPEG audio
/// sync words included) only when the first bytes name no container; otherwise a probe that
/// knows that one container's reader, so a PCM container can never be read as MP3.
fn probe_for(family: Option<super::Family>) -> &'static Probe {
    use super::Family;
    use std::sync::OnceLock;
    use symphonia::default::formats as f;
    fn one<P: for<'a> symphonia::core::formats::probe::ProbeableFormat<'a> + 'static>(
        cell: &'static OnceLock<Probe>,
    ) -> &'static Probe {
        cell.get_or_init(|| {
            let mut p = Probe::new();
            p.register_format::<P>();
            p
        })
    }
    static WAVE: OnceLock<Probe> = OnceLock::new();
    static AIFF: OnceLock<Probe> = OnceLock::new();
    static CAF: OnceLock<Probe> = OnceLock::new();
    static MP4: OnceLock<Probe> = OnceLock::new();
    static FLAC: OnceLock<Probe> = OnceLock::new();
    static OGG: OnceLock<Probe> = OnceLock::new();
    static MKV: OnceLock<Probe> = OnceLock::new();
    match family {
        None => symphonia::default::get_probe(),
        Some(Family::Wave) => one::<f::WavReader<'static>>(&WAVE),
        Some(Family::Aiff) => one::<f::AiffReader<'static>>(&AIFF),
        Some(Family::Caf) => one::<f::CafReader<'static>>(&CAF),
        Some(Family::IsoMp4) => one::<f::IsoMp4Reader<'static>>(&MP4),
        Some(Family::Flac) => one::<f::FlacReader<'static>>(&FLAC),
        Some(Family::Ogg) => one::<f::OggReader<'static>>(&OGG),
        Some(Family::Matroska) => one::<f::MkvReader<'static>>(&MKV),
    }
}

/// A seekable byte source of known length, as Symphonia's [`MediaSource`].
pub struct KnownLength {
    inner: Box<dyn ReadSeek>,
    len: u64,
}

impl KnownLength {
    /// `inner` holds `len` bytes.
    pub fn new(inner: Box<dyn ReadSeek>, len: u64) -> Self {
        KnownLength { inner, len }
    }
}

impl Read for KnownLength {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Seek for KnownLength {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl MediaSource for KnownLength {
    fn is_seekable(&self) -> bool {
        true
    }
    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

impl SymphoniaSource {
    /// Probe `source` (a `File`, a [`KnownLength`] …; extension `ext` as a hint) and prepare its
    /// first audio track for decoding.
    pub fn open(source: impl MediaSource + 'static, ext: Option<&str>) -> Result<Self> {
        let mut source = source;
        let mut head = [0u8; 16];
        let n = super::read_up_to(&mut source, &mut head)?;
        source.seek(SeekFrom::Start(0))?;
        Self::open_as(source, ext, super::Family::sniff(&head[..n]))
    }

    /// [`SymphoniaSource::open`] for a source whose first bytes name the container `family`:
    /// only that format's reader is tried (see [`super::Family`]).
    pub fn open_as(
        source: impl MediaSource + 'static,
        ext: Option<&str>,
        family: Option<super::Family>,
    ) -> Result<Self> {
        guarded("probe", || Self::open_unguarded(source, ext, family))
    }

    fn open_unguarded(
        source: impl MediaSource + 'static,
        ext: Option<&str>,
        family: Option<super::Family>,
    ) -> Result<Self> {
        let mss = MediaSourceStream::new(Box::new(source), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = ext {
            hint.with_extension(ext);
        }
        let format = probe_for(family)
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymError::Unsupported(_) => {
                    Error::new(ErrorKind::UnsupportedFormat(match family {
                        Some(f) => {
                            format!("{f:?} header found, but its reader does not accept the file")
                        }
                        None => "not a recognised audio container (probe found no format)".into(),
                    }))
                }
                other => sym_err(other),
            })?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or(ErrorKind::NoAudioTrack)?;
        let track_id = track.id;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or(ErrorKind::NoAudioTrack)?
            .clone();
        let rate = params
            .sample_rate
            .ok_or_else(|| Error::malformed("the audio track declares no sample rate"))?;
        let channels = params
            .channels
            .as_ref()
            .map(|c| c.count())
            .ok_or_else(|| Error::malformed("the audio track declares no channel count"))?;
        // Before the decoder exists: decoders size their buffers from these values.
        Limits::check(rate, channels)?;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| match e {
                SymError::Unsupported(_) => Error::new(ErrorKind::UnsupportedCodec(format!(
                    "codec {:?} has no decoder",
                    params.codec
                ))),
                other => sym_err(other),
            })?;
        let channel_map = match &params.channels {
            Some(symphonia::core::audio::Channels::Positioned(pos)) => {
                // Symphonia's first 18 position bits are the WAVE speaker-mask bits.
                ChannelMap::from_wave_mask((pos.bits() & 0x3_FFFF) as u32, channels).map(|mut m| {
                    m.source = MapSource::Container;
                    m
                })
            }
            _ => None,
        };
        let container = format.format_info().short_name.to_string();
        let codec = decoder.codec_info().short_name.to_string();
        let info = StreamInfo {
            container: container.clone(),
            codec,
            sample_rate_hz: rate,
            channels,
            bits_per_sample: params.bits_per_sample,
            frames: track.num_frames,
            channel_map,
            bext_time_reference: None,
            observed: Default::default(),
        };
        Ok(SymphoniaSource {
            format,
            decoder,
            track_id,
            info,
            pending: vec![Vec::new(); channels],
            pending_pos: 0,
            skip_frames: 0,
            skipped_packets: 0,
            ended: false,
            decoded_frames: 0,
            seeked: false,
            trim_to_block: container == "isomp4",
        })
    }

    /// The stream has ended: an error if it ended before the frame count its header declares
    /// (a truncated upload), else `Ok(false)`.
    fn end_of_stream(&mut self) -> Result<bool> {
        self.ended = true;
        match self.info.frames {
            Some(declared)
                if !self.seeked
                    && self.decoded_frames < declared
                    && EXACT_LENGTH_CONTAINERS.contains(&self.info.container.as_str()) =>
            {
                // Damaged packets also shorten the stream; either way the file is not whole.
                let cause = match self.skipped_packets {
                    0 => "truncated file".to_string(),
                    n => format!("truncated file, or {n} damaged packets skipped"),
                };
                Err(Error::malformed(format!(
                    "the audio ends at frame {} of the {declared} its header declares ({cause})",
                    self.decoded_frames
                )))
            }
            _ => Ok(false),
        }
    }

    /// Decode the next packet of our track into `pending`. False at the end of the stream.
    fn decode_next(&mut self) -> Result<bool> {
        let r = guarded("decoder", || self.decode_next_unguarded());
        if r.is_err() {
            self.ended = true;
        }
        r
    }

    fn decode_next_unguarded(&mut self) -> Result<bool> {
        loop {
            if self.ended {
                return Ok(false);
            }
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) | Err(SymError::ResetRequired) => return self.end_of_stream(),
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return self.end_of_stream();
                }
                Err(e) => return Err(sym_err(e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    let channels = self.info.channels;
                    if buf.num_planes() != channels {
                        return Err(Error::malformed(format!(
                            "a packet decoded to {} channels in a {channels}-channel stream",
                            buf.num_planes()
                        )));
                    }
                    let decoded = buf.frames();
                    for ch in self.pending.iter_mut() {
                        ch.clear();
                        ch.resize(decoded, 0.0);
                    }
                    buf.copy_to_slice_planar::<f32, _>(&mut self.pending);
                    // Encoder priming and padding the container marks for trimming (an MP4
                    // edit list, Ogg granule positions …). Some decoders (MP3, Vorbis) trim
                    // them themselves; the others (AAC, ALAC, PCM) hand out every decoded
                    // frame, which is when the packet's whole block is what came out.
                    let (head, mut tail) = (packet.trim_start.get(), packet.trim_end.get());
                    let block = packet.block_dur().get();
                    // MP4 also marks padding by shortening the last sample's duration (`stts`):
                    // what a decoder yields past the packet's block is padding.
                    if self.trim_to_block && block > 0 && decoded as u64 > block {
                        tail += decoded as u64 - block;
                    }
                    let (head, frames) = if head + tail > 0
                        && decoded as u64 == block + (tail - packet.trim_end.get())
                    {
                        let end = decoded - tail as usize;
                        for ch in self.pending.iter_mut() {
                            ch.truncate(end);
                        }
                        (head as usize, end)
                    } else {
                        (0, decoded)
                    };
                    self.decoded_frames += (frames - head) as u64;
                    self.pending_pos = head;
                    if self.skip_frames > 0 {
                        let drop = self.skip_frames.min((frames - head) as u64) as usize;
                        self.pending_pos += drop;
                        self.skip_frames -= drop as u64;
                    }
                    if self.pending_pos < frames {
                        return Ok(true);
                    }
                }
                Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                    self.skipped_packets += 1;
                }
                Err(e) => return Err(sym_err(e)),
            }
        }
    }
}

impl AudioSource for SymphoniaSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut Vec<Vec<f32>>, max_frames: usize) -> Result<usize> {
        out.resize_with(self.info.channels, Vec::new);
        for ch in out.iter_mut() {
            ch.clear();
        }
        let mut total = 0;
        while total < max_frames {
            let avail = self.pending.first().map_or(0, |p| p.len()) - self.pending_pos;
            if avail == 0 {
                if !self.decode_next()? {
                    break;
                }
                continue;
            }
            let take = avail.min(max_frames - total);
            for (dst, src) in out.iter_mut().zip(&self.pending) {
                dst.extend_from_slice(&src[self.pending_pos..self.pending_pos + take]);
            }
            self.pending_pos += take;
            total += take;
        }
        Ok(total)
    }

    fn seek(&mut self, frame: u64) -> Result<()> {
        guarded("seek", || self.seek_unguarded(frame))
    }

    fn skipped_packets(&self) -> u64 {
        self.skipped_packets
    }
}

impl SymphoniaSource {
    fn seek_unguarded(&mut self, frame: u64) -> Result<()> {
        let ts = Timestamp::new(i64::try_from(frame).unwrap_or(i64::MAX));
        let seeked = self
            .format
            .seek(
                SeekMode::Accurate,
                SeekTo::Timestamp {
                    ts,
                    track_id: self.track_id,
                },
            )
            .map_err(sym_err)?;
        self.decoder.reset();
        self.seeked = true;
        for ch in self.pending.iter_mut() {
            ch.clear();
        }
        self.pending_pos = 0;
        self.ended = false;
        let early = seeked
            .required_ts
            .get()
            .saturating_sub(seeked.actual_ts.get());
        self.skip_frames = u64::try_from(early).unwrap_or(0);
        Ok(())
    }
}

/// Run a call into Symphonia, turning a panic inside it into an error that ends this file only.
///
/// Symphonia promises never to panic on untrusted input, and loudqc checks what it can before
/// handing bytes over; this is the net for what slips through (a QC farm's batch must not die
/// on one hostile file). The fuzz targets still see such panics: libFuzzer's panic hook aborts
/// before the unwind reaches here.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(Error::new(ErrorKind::Decode(format!(
            "the Symphonia {what} failed on this input ({msg}); the file is damaged"
        ))))
    })
}
