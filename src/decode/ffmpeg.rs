//! Decoding through the system FFmpeg libraries (cargo feature `ffmpeg`, off by default): the
//! fallback for tracks Symphonia has no decoder for — AC-3, E-AC-3, AAC with more than two
//! channels or with SBR/PS (HE-AAC), Opus, DTS … (issue 16).
//!
//! libavformat demuxes and libavcodec decodes, so the samples are the ones `ffmpeg -i IN
//! OUT.wav` writes: libavcodec applies the container's priming and padding trims (MP4 edit
//! lists, Ogg pre-skip) itself. Decoding streams packet by packet and frame by frame; the
//! frames of one packet are handed out before the next packet is read, so memory does not grow
//! with the file. A packet the decoder rejects is skipped and counted, as with Symphonia.
//!
//! Samples arrive in whatever format the decoder produces (planar float for AC-3/E-AC-3/AAC,
//! packed float for Opus, 16/32-bit integers for others) and are converted here to planar
//! `f32` without resampling or dithering (integers are scaled by 2^(bits-1)).

use std::path::{Path, PathBuf};

use ff::format::sample::Type as SampleType;
use ff::format::Sample;
use ffmpeg_next as ff;

use super::{AudioSource, ContainerObservations, Limits, StreamInfo, TrackInfo, TrackSelection};
use crate::channels::{ChannelMap, MapSource};
use crate::error::{Error, ErrorKind, Result};

/// A stream decoded by libavcodec.
pub struct FfmpegSource {
    path: PathBuf,
    wanted: Vec<usize>,
    input: ff::format::context::Input,
    /// The stream index (libavformat's, over all streams) of the track measured.
    stream_index: usize,
    decoder: ff::codec::decoder::Audio,
    frame: ff::frame::Audio,
    /// Decoded frames, planar, handed out from `pos`.
    pending: Vec<Vec<f32>>,
    pos: usize,
    info: StreamInfo,
    /// End of input reached and the decoder drained.
    eof_sent: bool,
    ended: bool,
    skipped_packets: u64,
    decoded_packets: u64,
}

fn ff_err(what: &str, e: ff::Error) -> Error {
    Error::new(ErrorKind::Decode(format!("FFmpeg {what}: {e}")))
}

/// A codec's name in words for messages (`AC-3 (Dolby Digital)` …), from libavcodec's id.
fn codec_words(id: ff::codec::Id) -> String {
    use ff::codec::Id;
    let s = match id {
        Id::AC3 => "AC-3 (Dolby Digital)",
        Id::EAC3 => "E-AC-3 (Dolby Digital Plus)",
        Id::AAC => "AAC",
        Id::OPUS => "Opus",
        Id::DTS => "DTS",
        Id::TRUEHD => "Dolby TrueHD",
        Id::MP3 => "MP3",
        Id::VORBIS => "Vorbis",
        Id::FLAC => "FLAC",
        _ => return format!("{id:?}"),
    };
    s.to_string()
}

impl FfmpegSource {
    /// Open `path` with libavformat and prepare an audio track for decoding: the `--track`
    /// chosen in `wanted` (1-based among the audio tracks; one track only), else the stream
    /// libavformat ranks best.
    pub fn open(path: &Path, wanted: &[usize]) -> Result<Self> {
        ff::init().map_err(|e| ff_err("initialisation", e))?;
        // libavformat/libavcodec would print warnings about damaged packets on stderr; loudqc
        // counts them instead.
        ff::util::log::set_level(ff::util::log::Level::Fatal);
        let input = ff::format::input(&path).map_err(|e| {
            Error::new(ErrorKind::UnsupportedFormat(format!(
                "neither Symphonia nor FFmpeg reads this file ({e})"
            )))
        })?;
        let audio: Vec<usize> = input
            .streams()
            .filter(|s| s.parameters().medium() == ff::media::Type::Audio)
            .map(|s| s.index())
            .collect();
        if audio.is_empty() {
            return Err(ErrorKind::NoAudioTrack.into());
        }
        let listed: Vec<TrackInfo> = audio
            .iter()
            .enumerate()
            .map(|(i, &si)| {
                let s = input.stream(si).expect("listed stream");
                let meta = s.metadata();
                let (codec, channels, rate) = ff::codec::Context::from_parameters(s.parameters())
                    .ok()
                    .and_then(|c| c.decoder().audio().ok())
                    .map(|d| (d.id().name().to_string(), d.channels() as usize, d.rate()))
                    .unwrap_or_else(|| (String::from("unknown"), 0, 0));
                TrackInfo::new(i + 1, &codec, channels, rate, None)
                    .with_language(meta.get("language").map(str::to_string))
                    .with_name(meta.get("title").map(str::to_string))
            })
            .collect();
        let (chosen, selection) = match wanted {
            [] => {
                let best = input
                    .streams()
                    .best(ff::media::Type::Audio)
                    .map(|s| s.index())
                    .unwrap_or(audio[0]);
                let n = audio.iter().position(|&i| i == best).unwrap_or(0) + 1;
                (n, TrackSelection::Default)
            }
            [n] if *n >= 1 && *n <= audio.len() => (*n, TrackSelection::User),
            [n] => {
                return Err(Error::invalid(
                    "audio track (--track)",
                    format!("1 to {} (the file's audio tracks)", audio.len()),
                    n,
                ))
            }
            _ => {
                return Err(Error::invalid(
                    "audio tracks (--track)",
                    "one track: tracks decoded through FFmpeg are measured one at a time",
                    format!("{} tracks", wanted.len()),
                ))
            }
        };
        let stream_index = audio[chosen - 1];
        let stream = input.stream(stream_index).expect("listed stream");
        let ctx = ff::codec::Context::from_parameters(stream.parameters())
            .map_err(|e| ff_err("codec parameters", e))?;
        let id = ctx.id();
        let decoder = ctx.decoder().audio().map_err(|e| {
            Error::new(ErrorKind::UnsupportedCodec(format!(
                "{}: the system FFmpeg has no decoder for it ({e})",
                codec_words(id)
            )))
        })?;
        let channels = decoder.channels() as usize;
        let rate = decoder.rate();
        Limits::check(rate, channels)?;
        let mask = decoder.channel_layout().bits();
        let channel_map = u32::try_from(mask & 0x3_FFFF)
            .ok()
            .filter(|m| *m != 0 && u64::from(*m) == mask)
            .and_then(|m| ChannelMap::from_wave_mask(m, channels))
            .map(|mut m| {
                m.source = MapSource::Container;
                m
            });
        let container = input
            .format()
            .name()
            .split(',')
            .next()
            .unwrap_or("ffmpeg")
            .to_string();
        let codec = id.name().to_string();
        let mut listed = listed;
        for t in listed.iter_mut() {
            t.measured = t.index == chosen;
        }
        let observed = if listed.len() > 1 {
            ContainerObservations {
                tracks: listed,
                measured_tracks: vec![chosen],
                selection,
                ..Default::default()
            }
        } else {
            ContainerObservations::default()
        };
        let bits = match decoder.format() {
            Sample::I16(_) => Some(16),
            Sample::I32(_) => Some(32),
            _ => None,
        };
        let info = StreamInfo {
            container,
            codec,
            sample_rate_hz: rate,
            channels,
            bits_per_sample: bits,
            frames: None,
            channel_map,
            observed,
            ..Default::default()
        };
        Ok(FfmpegSource {
            path: path.to_path_buf(),
            wanted: wanted.to_vec(),
            input,
            stream_index,
            decoder,
            frame: ff::frame::Audio::empty(),
            pending: vec![Vec::new(); channels],
            pos: 0,
            info,
            eof_sent: false,
            ended: false,
            skipped_packets: 0,
            decoded_packets: 0,
        })
    }

    fn available(&self) -> usize {
        self.pending.first().map_or(0, |p| p.len()) - self.pos
    }

    /// Append every frame the decoder has ready to `pending`. False when it has none.
    fn drain_decoder(&mut self) -> Result<bool> {
        let mut got = false;
        loop {
            match self.decoder.receive_frame(&mut self.frame) {
                Ok(()) => {
                    append_frame(&self.frame, &mut self.pending)?;
                    got = true;
                }
                Err(ff::Error::Eof) => {
                    self.ended = true;
                    return Ok(got);
                }
                Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => {
                    return Ok(got)
                }
                Err(ff::Error::InvalidData) => self.skipped_packets += 1,
                Err(e) => return Err(ff_err("decoder", e)),
            }
        }
    }

    /// Decode until there are frames pending. False at the end of the stream.
    fn decode_more(&mut self) -> Result<bool> {
        if self.pos > 0 {
            for ch in self.pending.iter_mut() {
                ch.drain(..self.pos);
            }
            self.pos = 0;
        }
        let mut packet = ff::Packet::empty();
        while !self.ended {
            if self.eof_sent {
                return self.drain_decoder();
            }
            match packet.read(&mut self.input) {
                Ok(()) => {
                    if packet.stream() != self.stream_index {
                        continue;
                    }
                    match self.decoder.send_packet(&packet) {
                        Ok(()) => self.decoded_packets += 1,
                        Err(ff::Error::InvalidData) => {
                            self.skipped_packets += 1;
                            continue;
                        }
                        Err(e) => return Err(ff_err("decoder", e)),
                    }
                }
                // A damaged packet the demuxer could not frame: it resyncs on the next read.
                Err(ff::Error::InvalidData) => {
                    self.skipped_packets += 1;
                    continue;
                }
                Err(ff::Error::Eof) => {
                    self.decoder.send_eof().map_err(|e| ff_err("decoder", e))?;
                    self.eof_sent = true;
                    continue;
                }
                Err(e) => return Err(ff_err("demuxer", e)),
            }
            if self.drain_decoder()? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Convert one decoded frame to planar `f32` and append it to `out` (one `Vec` per channel).
fn append_frame(frame: &ff::frame::Audio, out: &mut [Vec<f32>]) -> Result<()> {
    let channels = out.len();
    if frame.channels() as usize != channels {
        return Err(Error::malformed(format!(
            "a packet decoded to {} channels in a {channels}-channel track (mid-stream layout \
             change)",
            frame.channels()
        )));
    }
    let n = frame.samples();
    let format = frame.format();
    let width = format.bytes();
    let planar = matches!(
        format,
        Sample::U8(SampleType::Planar)
            | Sample::I16(SampleType::Planar)
            | Sample::I32(SampleType::Planar)
            | Sample::I64(SampleType::Planar)
            | Sample::F32(SampleType::Planar)
            | Sample::F64(SampleType::Planar)
    );
    let convert: fn(&[u8]) -> f32 = match format {
        Sample::U8(_) => |b| (f32::from(b[0]) - 128.0) / 128.0,
        Sample::I16(_) => |b| f32::from(i16::from_ne_bytes([b[0], b[1]])) / 32_768.0,
        Sample::I32(_) => {
            |b| (f64::from(i32::from_ne_bytes([b[0], b[1], b[2], b[3]])) / 2_147_483_648.0) as f32
        }
        Sample::F32(_) => |b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
        Sample::F64(_) => |b| f64::from_ne_bytes(b[..8].try_into().expect("8 bytes")) as f32,
        other => {
            return Err(Error::new(ErrorKind::UnsupportedCodec(format!(
                "the FFmpeg decoder produced samples of format {other:?}, which loudqc does not \
                 convert"
            ))))
        }
    };
    if planar {
        for (c, dst) in out.iter_mut().enumerate() {
            let bytes = frame.data(c);
            let bytes = bytes.get(..n * width).ok_or_else(|| {
                Error::malformed("an FFmpeg frame holds fewer bytes than its sample count")
            })?;
            dst.extend(bytes.chunks_exact(width).map(convert));
        }
    } else {
        let bytes = frame.data(0);
        let bytes = bytes.get(..n * width * channels).ok_or_else(|| {
            Error::malformed("an FFmpeg frame holds fewer bytes than its sample count")
        })?;
        for dst in out.iter_mut() {
            dst.reserve(n);
        }
        for f in bytes.chunks_exact(width * channels) {
            for (dst, b) in out.iter_mut().zip(f.chunks_exact(width)) {
                dst.push(convert(b));
            }
        }
    }
    Ok(())
}

impl AudioSource for FfmpegSource {
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
            let avail = self.available();
            if avail == 0 {
                if !self.decode_more()? {
                    break;
                }
                continue;
            }
            let take = avail.min(max_frames - total);
            for (dst, src) in out.iter_mut().zip(&self.pending) {
                dst.extend_from_slice(&src[self.pos..self.pos + take]);
            }
            self.pos += take;
            total += take;
        }
        Ok(total)
    }

    /// Sample-exact by decoding from the start and dropping frames up to `frame`: libavformat
    /// seeks land on packet boundaries whose priming the decoder would not trim again, and the
    /// fallback decoders are fast enough that a second pass costs little next to the analysis.
    fn seek(&mut self, frame: u64) -> Result<()> {
        let fresh = FfmpegSource::open(&self.path, &self.wanted)?;
        let (skipped, decoded) = (self.skipped_packets, self.decoded_packets);
        *self = fresh;
        let mut left = frame;
        while left > 0 {
            if self.available() == 0 && !self.decode_more()? {
                break;
            }
            let drop = (self.available() as u64).min(left) as usize;
            self.pos += drop;
            left -= drop as u64;
        }
        // The counts go on from before the seek (the packets decoded again to get here are
        // not counted twice).
        self.skipped_packets = skipped;
        self.decoded_packets = decoded;
        Ok(())
    }

    fn skipped_packets(&self) -> u64 {
        self.skipped_packets
    }

    fn decoded_packets(&self) -> Option<u64> {
        Some(self.decoded_packets)
    }
}
