//! Symphonia-backed decoding for every format the RIFF reader does not take: FLAC, AIFF, ALAC,
//! MP3, AAC, Vorbis, CAF, MKV and compressed WAV codecs.
//!
//! Gapless mode stays on (encoder delay and padding would bias peaks and short files). A packet
//! that fails to decode is skipped and counted — the count becomes a QC finding — rather than
//! ending the analysis; `ResetRequired` (a chained Ogg stream changing its parameters) ends the
//! stream at that point, since a deliverable with a mid-stream format change is not one program.

use std::io::{Read, Seek, SeekFrom};

use symphonia::core::codecs::audio::{
    AudioCodecId, AudioCodecParameters, AudioDecoder, AudioDecoderOptions,
};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::{Hint, Probe};
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, Track, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::Timestamp;

use super::wav::Encoding;
use super::{
    AudioSource, ContainerObservations, Limits, ReadSeek, StreamInfo, TrackInfo, TrackSelection,
};
use crate::channels::{ChannelMap, MapSource};
use crate::error::{Error, ErrorKind, Result};

/// A stream decoded by Symphonia: one audio track, or several read in lockstep as one
/// programme (multi-track files, see [`super::TrackSelection`]).
pub struct SymphoniaSource {
    format: Box<dyn FormatReader>,
    /// One lane per track measured, in channel order.
    lanes: Vec<Lane>,
    info: StreamInfo,
    skipped_packets: u64,
    decoded_packets: u64,
    ended: bool,
    /// Frames decoded since the start by the first lane (counted until the first seek).
    decoded_frames: u64,
    /// The most frames one packet of the first lane decoded to.
    max_packet_frames: u64,
    seeked: bool,
    /// The container's packet durations are exact (MP4 `stts`): frames decoded past a
    /// packet's block are padding to drop.
    trim_to_block: bool,
}

/// One track being decoded: its decoder and the frames decoded but not handed out yet.
struct Lane {
    track_id: u32,
    decoder: Box<dyn AudioDecoder>,
    /// First channel of this track in the programme.
    first_channel: usize,
    /// Decoded frames, planar, handed out from `pos`.
    pending: Vec<Vec<f32>>,
    pos: usize,
    /// Frames still to drop after an accurate seek landed early.
    skip_frames: u64,
    /// Frames of silence still to hand out before the decoded audio: an MP4/QuickTime leading
    /// empty edit (the track starts later than the presentation), or a seek into it.
    lead_zeros: u64,
    /// Plain PCM converted here from the packet bytes instead of by `decoder`.
    pcm: Option<Pcm>,
}

/// A PCM sample format loudqc converts itself (MP4/QuickTime PCM): Symphonia's `PcmDecoder`
/// reads sample by sample through a byte reader and cost more than all the rest of a QuickTime
/// decode (`benches/mov_vs_wav.sh`). The conversion is the WAV reader's (the same values:
/// integers scaled by a power of two, one rounding), in either byte order.
#[derive(Debug, Clone, Copy)]
struct Pcm {
    format: Encoding,
    big_endian: bool,
}

impl Pcm {
    /// The format of `params`, if it is plain PCM whose every coded bit is a sample bit.
    fn of(params: &AudioCodecParameters) -> Option<Pcm> {
        use symphonia::core::codecs::audio::well_known::*;
        let (format, big_endian) = match params.codec {
            CODEC_ID_PCM_U8 => (Encoding::U8, false),
            CODEC_ID_PCM_S16LE => (Encoding::S16, false),
            CODEC_ID_PCM_S16BE => (Encoding::S16, true),
            CODEC_ID_PCM_S24LE => (Encoding::S24, false),
            CODEC_ID_PCM_S24BE => (Encoding::S24, true),
            CODEC_ID_PCM_S32LE => (Encoding::S32, false),
            CODEC_ID_PCM_S32BE => (Encoding::S32, true),
            CODEC_ID_PCM_F32LE => (Encoding::F32, false),
            CODEC_ID_PCM_F32BE => (Encoding::F32, true),
            CODEC_ID_PCM_F64LE => (Encoding::F64, false),
            CODEC_ID_PCM_F64BE => (Encoding::F64, true),
            _ => return None,
        };
        let bits = 8 * format.bytes() as u32;
        let whole = |b: Option<u32>| b.is_none_or(|b| b == bits);
        (whole(params.bits_per_sample) && whole(params.bits_per_coded_sample))
            .then_some(Pcm { format, big_endian })
    }

    /// Convert the whole frames of `bytes` into `out` (one slice per channel, each at least
    /// as long as the frame count), with the WAV reader's converter.
    fn convert(self, bytes: &[u8], out: &mut [&mut [f32]]) {
        super::wav::convert(self.format, self.big_endian, bytes, out.len(), out);
    }
}

impl Lane {
    fn available(&self) -> usize {
        self.pending.first().map_or(0, |p| p.len()) - self.pos
    }
}

/// Containers whose header frame count is exact (Symphonia's short names), so a stream that
/// ends short of it is a truncated file. MP3/Ogg/MP4/MKV counts can be estimates.
const EXACT_LENGTH_CONTAINERS: [&str; 4] = ["flac", "aiff", "caf", "wave"];

/// The longest leading empty edit accepted, seconds: hours of silence before a programme is a
/// damaged or hostile header (the silence is handed out lazily, but would still be measured).
const MAX_LEAD_S: u64 = 3600;

/// The longest leading empty edit of a track measured with others, seconds: its silence may
/// have to be held in memory while the other tracks catch up.
const MAX_LANE_LEAD_S: u64 = 10;

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

/// A codec's name in words, for reports and errors ("AAC", "E-AC-3", "Opus"), never a raw id.
pub fn codec_name(id: AudioCodecId) -> String {
    use symphonia::core::codecs::audio::well_known::*;
    let name = match id {
        CODEC_ID_AAC => "AAC",
        CODEC_ID_AC3 => "AC-3 (Dolby Digital)",
        CODEC_ID_EAC3 => "E-AC-3 (Dolby Digital Plus)",
        CODEC_ID_AC4 => "AC-4",
        CODEC_ID_DCA => "DTS",
        CODEC_ID_OPUS => "Opus",
        CODEC_ID_VORBIS => "Vorbis",
        CODEC_ID_SPEEX => "Speex",
        CODEC_ID_MP1 => "MPEG-1 Layer I",
        CODEC_ID_MP2 => "MPEG-1 Layer II",
        CODEC_ID_MP3 => "MP3",
        CODEC_ID_FLAC => "FLAC",
        CODEC_ID_ALAC => "ALAC (Apple Lossless)",
        CODEC_ID_WAVPACK => "WavPack",
        CODEC_ID_MONKEYS_AUDIO => "Monkey's Audio",
        CODEC_ID_TTA => "TTA",
        CODEC_ID_WMA => "WMA",
        CODEC_ID_ATRAC1 | CODEC_ID_ATRAC3 | CODEC_ID_ATRAC3PLUS | CODEC_ID_ATRAC9 => "ATRAC",
        CODEC_ID_PCM_ALAW => "PCM A-law",
        CODEC_ID_PCM_MULAW => "PCM µ-law",
        CODEC_ID_ADPCM_MS | CODEC_ID_ADPCM_IMA_WAV | CODEC_ID_ADPCM_IMA_QT => "ADPCM",
        _ => return format!("an audio codec Symphonia does not name ({id:?})"),
    };
    name.to_string()
}

/// What to do about a codec loudqc cannot decode: its name in words, and the cargo feature that
/// adds it (`ffmpeg`: the system FFmpeg libraries) or the decode to WAV that avoids it.
pub(crate) fn unsupported_codec_advice(id: AudioCodecId, channels: usize) -> String {
    use symphonia::core::codecs::audio::well_known::*;
    let name = codec_name(id);
    const FEATURE: &str = "a loudqc built with `--features ffmpeg` (the system FFmpeg \
                           libraries) decodes it; or decode to WAV first (ffmpeg -i IN -c:a \
                           pcm_s24le OUT.wav)";
    match id {
        CODEC_ID_AAC if channels > 2 => format!(
            "{name} with {channels} channels: Symphonia decodes mono and stereo AAC-LC only; \
             {FEATURE}"
        ),
        CODEC_ID_AAC => format!(
            "{name} of a profile Symphonia does not decode (HE-AAC/HE-AACv2 or another); \
             {FEATURE}"
        ),
        _ => format!("{name}: Symphonia has no decoder for it; {FEATURE}"),
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
        Self::open_as(source, ext, super::Family::sniff(&head[..n]), &[])
    }

    /// [`SymphoniaSource::open`] for a source whose first bytes name the container `family`:
    /// only that format's reader is tried (see [`super::Family`]).
    ///
    /// `tracks` chooses audio tracks by number (1-based, `--track`); empty = loudqc chooses:
    /// tracks that form one programme together, else the default track.
    pub fn open_as(
        source: impl MediaSource + 'static,
        ext: Option<&str>,
        family: Option<super::Family>,
        tracks: &[usize],
    ) -> Result<Self> {
        guarded("probe", || {
            Self::open_unguarded(source, ext, family, tracks)
        })
    }

    fn open_unguarded(
        source: impl MediaSource + 'static,
        ext: Option<&str>,
        family: Option<super::Family>,
        wanted: &[usize],
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
        // Every audio track, in file order (video, subtitles … are ignored).
        let audio: Vec<&Track> = format
            .tracks()
            .iter()
            .filter(|t| t.codec_params.as_ref().and_then(|p| p.audio()).is_some())
            .collect();
        if audio.is_empty() {
            return Err(ErrorKind::NoAudioTrack.into());
        }
        let params_of = |t: &Track| -> AudioCodecParameters {
            t.codec_params
                .as_ref()
                .and_then(|p| p.audio())
                .expect("audio tracks only")
                .clone()
        };
        let mut listed: Vec<TrackInfo> = audio
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let p = params_of(t);
                TrackInfo::new(
                    i + 1,
                    &codec_short(p.codec),
                    p.channels.as_ref().map_or(0, |c| c.count()),
                    p.sample_rate.unwrap_or(0),
                    t.num_frames,
                )
                .with_language(t.language.clone())
            })
            .collect();
        let default_index = format
            .default_track(TrackType::Audio)
            .and_then(|d| audio.iter().position(|t| t.id == d.id))
            .unwrap_or(0);
        let (chosen, selection): (Vec<usize>, TrackSelection) = if !wanted.is_empty() {
            for &w in wanted {
                if w == 0 || w > audio.len() {
                    return Err(Error::invalid(
                        "audio track (--track)",
                        format!("1 to {} (the file's audio tracks)", audio.len()),
                        w,
                    ));
                }
            }
            let mut seen = Vec::new();
            for &w in wanted {
                if !seen.contains(&w) {
                    seen.push(w);
                }
            }
            (seen, TrackSelection::User)
        } else if let Some(all) = one_programme(&listed) {
            (all, TrackSelection::Combined)
        } else {
            (vec![default_index + 1], TrackSelection::Default)
        };

        let mut lanes = Vec::with_capacity(chosen.len());
        let mut channels = 0usize;
        let mut rate = None;
        let mut first_params = None;
        let mut frames: Option<u64> = None;
        for &n in &chosen {
            let track = audio[n - 1];
            let params = params_of(track);
            let r = params.sample_rate.ok_or_else(|| {
                Error::malformed(format!("audio track {n} declares no sample rate"))
            })?;
            let ch = params.channels.as_ref().map(|c| c.count()).ok_or_else(|| {
                // Symphonia's demuxer leaves the count unset for codecs it has no decoder
                // for (AC-3/E-AC-3 in MP4 keep it in `dac3`/`dec3`): say which codec it is.
                let known = symphonia::default::get_codecs()
                    .get_audio_decoder(params.codec)
                    .is_some();
                Error::new(ErrorKind::UnsupportedCodec(if known {
                    format!("audio track {n} declares no channel count")
                } else {
                    format!(
                        "audio track {n}: {}",
                        unsupported_codec_advice(params.codec, 0)
                    )
                }))
            })?;
            match rate {
                None => rate = Some(r),
                Some(r0) if r0 != r => {
                    return Err(Error::invalid(
                        "sample rate of the tracks measured together",
                        format!("{r0} Hz like track {}", chosen[0]),
                        format!("{r} Hz (track {n})"),
                    ))
                }
                _ => {}
            }
            // Before the decoder exists: decoders size their buffers from these values.
            Limits::check(r, ch)?;
            Limits::check(r, channels + ch)?;
            let decoder = symphonia::default::get_codecs()
                .make_audio_decoder(&params, &AudioDecoderOptions::default())
                .map_err(|e| match e {
                    SymError::Unsupported(_) => Error::new(ErrorKind::UnsupportedCodec(
                        unsupported_codec_advice(params.codec, ch),
                    )),
                    other => sym_err(other),
                })?;
            frames = match (frames, track.num_frames) {
                (None, f) if lanes.is_empty() => f,
                (Some(a), Some(b)) => Some(a.min(b)),
                _ => None,
            };
            // The patched isomp4 demuxer gives a leading empty edit as the track's start time
            // (ISO/IEC 14496-12 §8.6.6): presented as silence, like ffmpeg's timeline.
            let lead_zeros = match format.format_info().short_name {
                "isomp4" => u64::try_from(track.start_ts.get()).unwrap_or(0),
                _ => 0,
            };
            if lead_zeros > u64::from(r) * MAX_LEAD_S {
                return Err(Error::malformed(format!(
                    "the edit list of audio track {n} delays it by {} s (at most {MAX_LEAD_S} s \
                     accepted)",
                    lead_zeros / u64::from(r)
                )));
            }
            // Only where the container hands out many frames a packet (the patched isomp4);
            // elsewhere Symphonia's decoder stays (and its codec checks).
            let pcm = match format.format_info().short_name {
                "isomp4" => Pcm::of(&params),
                _ => None,
            };
            lanes.push(Lane {
                track_id: track.id,
                pcm,
                decoder,
                first_channel: channels,
                pending: vec![Vec::new(); ch],
                pos: 0,
                skip_frames: 0,
                lead_zeros,
            });
            channels += ch;
            if first_params.is_none() {
                first_params = Some(params);
            }
        }
        let rate = rate.expect("at least one track");
        if lanes.len() > 1
            && lanes
                .iter()
                .any(|l| l.lead_zeros > u64::from(rate) * MAX_LANE_LEAD_S)
        {
            return Err(Error::invalid(
                "start of the tracks measured together",
                format!("delays of at most {MAX_LANE_LEAD_S} s (edit lists)"),
                "a longer delay",
            ));
        }
        let params = first_params.expect("at least one track");
        let channel_map = match (&params.channels, lanes.len()) {
            (Some(symphonia::core::audio::Channels::Positioned(pos)), 1) => {
                // Symphonia's first 18 position bits are the WAVE speaker-mask bits.
                ChannelMap::from_wave_mask((pos.bits() & 0x3_FFFF) as u32, channels).map(|mut m| {
                    m.source = MapSource::Container;
                    m
                })
            }
            _ => None,
        };
        let container = format.format_info().short_name.to_string();
        let codec = lanes[0].decoder.codec_info().short_name.to_string();
        for t in listed.iter_mut() {
            t.measured = chosen.contains(&t.index);
        }
        let observed = if listed.len() > 1 {
            ContainerObservations {
                tracks: listed,
                measured_tracks: chosen.clone(),
                selection,
                ..Default::default()
            }
        } else {
            ContainerObservations::default()
        };
        let info = StreamInfo {
            container: container.clone(),
            codec,
            sample_rate_hz: rate,
            channels,
            bits_per_sample: params.bits_per_sample,
            frames,
            channel_map,
            bext_time_reference: None,
            observed,
            ..Default::default()
        };
        Ok(SymphoniaSource {
            format,
            lanes,
            info,
            skipped_packets: 0,
            decoded_packets: 0,
            ended: false,
            decoded_frames: 0,
            max_packet_frames: 0,
            seeked: false,
            trim_to_block: container == "isomp4",
        })
    }

    /// Record that the container's data size was unset and the audio read to the end of the
    /// file (a CAF `data` chunk of size -1).
    pub(crate) fn set_size_fields_unset(&mut self) {
        self.info.observed.size_fields_unset = true;
    }

    /// The stream has ended: an error if it ended before the frame count its header declares
    /// (a truncated upload), else `Ok(false)`.
    fn end_of_stream(&mut self) -> Result<bool> {
        self.ended = true;
        match self.info.frames {
            Some(declared)
                if !self.seeked
                    && self.decoded_frames < declared
                    && EXACT_LENGTH_CONTAINERS.contains(&self.info.container.as_str())
                    && !self.last_packet_short(declared) =>
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

    /// A CAF of a packetised codec (ALAC, AAC) whose packet table counts every packet as full:
    /// ffmpeg's CAF muxer writes `mNumberValidFrames` = packets × frames per packet and no
    /// remainder, so the last, short packet ends the audio less than one packet before the
    /// declared count. That is the whole file, not a truncated one (ffmpeg decodes the same).
    fn last_packet_short(&self, declared: u64) -> bool {
        self.info.container == "caf"
            && !self.info.codec.starts_with("pcm")
            && self.max_packet_frames > 0
            && declared - self.decoded_frames < self.max_packet_frames
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
            let Some(li) = self
                .lanes
                .iter()
                .position(|l| l.track_id == packet.track_id)
            else {
                continue;
            };
            let trim_to_block = self.trim_to_block;
            let lane = &mut self.lanes[li];
            let channels = lane.pending.len();
            // Plain PCM is converted below straight from the packet; the rest is decoded.
            let buf = match lane.pcm {
                Some(_) => None,
                None => match lane.decoder.decode(&packet) {
                    Ok(buf) => {
                        if buf.num_planes() != channels {
                            return Err(Error::malformed(format!(
                                "a packet decoded to {} channels in a {channels}-channel track",
                                buf.num_planes()
                            )));
                        }
                        Some(buf)
                    }
                    Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                        self.skipped_packets += 1;
                        continue;
                    }
                    Err(e) => return Err(sym_err(e)),
                },
            };
            // Drop what was handed out already.
            if lane.pos > 0 {
                for ch in lane.pending.iter_mut() {
                    ch.drain(..lane.pos);
                }
                lane.pos = 0;
            }
            // A packet of a track whose leading silence is not all handed out (several
            // tracks in lockstep, starting at different times): the silence goes first.
            if lane.lead_zeros > 0 {
                let z = lane.lead_zeros as usize; // ≤ MAX_LANE_LEAD_S (checked at open)
                for ch in lane.pending.iter_mut() {
                    ch.resize(ch.len() + z, 0.0);
                }
                lane.lead_zeros = 0;
            }
            // The decoded frames go straight to the end of `pending`; what is trimmed is cut
            // out of it below.
            let old = lane.pending.first().map_or(0, |p| p.len());
            let decoded = match (&buf, lane.pcm) {
                (Some(buf), _) => buf.frames(),
                (None, Some(pcm)) => packet.data.len() / (channels * pcm.format.bytes()),
                (None, None) => 0,
            };
            for ch in lane.pending.iter_mut() {
                ch.resize(old + decoded, 0.0);
            }
            {
                let mut dst: Vec<&mut [f32]> =
                    lane.pending.iter_mut().map(|c| &mut c[old..]).collect();
                match (&buf, lane.pcm) {
                    (Some(buf), _) => buf.copy_to_slice_planar::<f32, _>(&mut dst),
                    (None, Some(pcm)) => pcm.convert(&packet.data, &mut dst),
                    (None, None) => {}
                }
            }
            // Encoder priming and padding the container marks for trimming (an MP4
            // edit list, Ogg granule positions …). Some decoders (MP3, Vorbis) trim
            // them themselves; the others (AAC, ALAC, PCM) hand out every decoded
            // frame, which is when the packet's whole block is what came out. MP4
            // also marks padding by shortening the last sample's `stts` duration:
            // what a decoder yields past the packet's block is padding.
            let (head, mut tail) = (packet.trim_start.get(), packet.trim_end.get());
            let whole = packet.block_dur().get();
            let mut extra = 0;
            if trim_to_block && whole > 0 && decoded as u64 > whole {
                extra = decoded as u64 - whole;
                tail += extra;
            }
            let (head, end) = if head + tail > 0 && decoded as u64 == whole + extra {
                (head as usize, decoded - tail as usize)
            } else {
                (0, decoded)
            };
            let mut from = head.min(end);
            if lane.skip_frames > 0 {
                let drop = lane.skip_frames.min((end - from) as u64) as usize;
                from += drop;
                lane.skip_frames -= drop as u64;
            }
            for ch in lane.pending.iter_mut() {
                ch.truncate(old + end);
                ch.drain(old..old + from);
            }
            if li == 0 {
                self.max_packet_frames = self.max_packet_frames.max(decoded as u64);
                self.decoded_frames += (end - head.min(end)) as u64;
                self.decoded_packets += 1;
            }
            if self.lanes[li].pending.first().map_or(0, |p| p.len()) > old {
                return Ok(true);
            }
        }
    }
}

/// Short codec names for `format.tracks` (`aac`, `pcm_s24le`, …): Symphonia's registry name
/// when it has a decoder, else the name in words.
fn codec_short(id: AudioCodecId) -> String {
    symphonia::default::get_codecs()
        .get_audio_decoder(id)
        .map(|d| d.codec.info.short_name.to_string())
        .unwrap_or_else(|| codec_name(id))
}

/// The tracks of `listed` if together they are one programme: at least two, all mono or all
/// stereo, the same rate and length, and a channel count with a known layout (2 = L R,
/// 6 = 5.1, 8 = 7.1, in SMPTE/ITU order).
fn one_programme(listed: &[TrackInfo]) -> Option<Vec<usize>> {
    let first = listed.first()?;
    let total: usize = listed.iter().map(|t| t.channels).sum();
    let agree = listed.len() >= 2
        && (first.channels == 1 || first.channels == 2)
        && listed.iter().all(|t| {
            t.channels == first.channels
                && t.sample_rate_hz == first.sample_rate_hz
                && t.frames.is_some()
                && t.frames == first.frames
        })
        && matches!(total, 2 | 6 | 8);
    agree.then(|| listed.iter().map(|t| t.index).collect())
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
            for lane in self.lanes.iter_mut() {
                if lane.lead_zeros > 0 && lane.available() == 0 {
                    let n = lane.lead_zeros.min(max_frames as u64) as usize;
                    for ch in lane.pending.iter_mut() {
                        ch.clear();
                        ch.resize(n, 0.0);
                    }
                    lane.pos = 0;
                    lane.lead_zeros -= n as u64;
                }
            }
            let avail = self.lanes.iter().map(Lane::available).min().unwrap_or(0);
            if avail == 0 {
                if !self.decode_next()? {
                    break;
                }
                continue;
            }
            let take = avail.min(max_frames - total);
            for lane in self.lanes.iter_mut() {
                for (c, src) in lane.pending.iter().enumerate() {
                    out[lane.first_channel + c].extend_from_slice(&src[lane.pos..lane.pos + take]);
                }
                lane.pos += take;
            }
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

    fn decoded_packets(&self) -> Option<u64> {
        Some(self.decoded_packets)
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
                    track_id: self.lanes[0].track_id,
                },
            )
            .map_err(sym_err)?;
        self.seeked = true;
        self.ended = false;
        let early = seeked
            .required_ts
            .get()
            .saturating_sub(seeked.actual_ts.get());
        // Landed late: the target is inside a leading empty edit, silence until the audio.
        let late = u64::try_from(-early).unwrap_or(0);
        // The other tracks were sought to the same time; tracks of one programme share their
        // packet grid, so they landed as early as the first.
        for lane in self.lanes.iter_mut() {
            lane.decoder.reset();
            for ch in lane.pending.iter_mut() {
                ch.clear();
            }
            lane.pos = 0;
            lane.skip_frames = u64::try_from(early).unwrap_or(0);
            lane.lead_zeros = late;
        }
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
