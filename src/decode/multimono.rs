//! Multi-mono sets: N mono sources read in lockstep as one N-channel stream.
//!
//! Film printmasters and stems are often delivered as one mono file per loudspeaker
//! (`Title_L.wav`, `Title_R.wav`, `Title_C.wav`, …). BS.1770-5 measures a *program*, so the
//! channels must be metered together with their positional weights (surrounds 1.41, LFE
//! excluded), not file by file. [`MultiMonoSource`] presents such a set as one planar stream
//! whose channel map comes from the file names ([`MapSource::FileNames`]).
//!
//! Members may hand out blocks of different lengths; each member's surplus is kept until the
//! others catch up, so the blocks given to the meter are frame-aligned across channels. The
//! stream ends with the shortest member. A length mismatch is a QC finding, not an error, so
//! the source then reads the longer members to their end and publishes every member's true
//! frame count through [`MemberFrames`] for the caller to report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{AudioSource, StreamInfo};
use crate::channels::{ChannelMap, MapSource, Position};
use crate::error::{Error, Result};

/// Frames decoded so far by each member, shared with the caller (the source itself usually
/// moves into the analysis). After the stream has ended these are the members' true lengths.
#[derive(Debug, Clone)]
pub struct MemberFrames(Arc<Vec<AtomicU64>>);

impl MemberFrames {
    /// Frames decoded per member, in channel order.
    pub fn get(&self) -> Vec<u64> {
        self.0.iter().map(|a| a.load(Ordering::Relaxed)).collect()
    }
}

struct Member {
    src: Box<dyn AudioSource>,
    /// The member's own read buffer (one channel).
    buf: Vec<Vec<f32>>,
    /// Decoded samples not yet handed out, from `start`.
    pending: Vec<f32>,
    start: usize,
    eof: bool,
    decoded: u64,
}

impl Member {
    fn available(&self) -> usize {
        self.pending.len() - self.start
    }

    /// Decode until `want` samples are pending or the member ends.
    fn fill(&mut self, want: usize) -> Result<()> {
        if self.start > 0 {
            self.pending.drain(..self.start);
            self.start = 0;
        }
        while self.available() < want && !self.eof {
            let n = self.src.read(&mut self.buf, want)?;
            if n == 0 {
                self.eof = true;
            } else {
                self.pending.extend_from_slice(&self.buf[0][..n]);
                self.decoded += n as u64;
            }
        }
        Ok(())
    }
}

/// N mono sources read in lockstep as one N-channel stream (see the module docs).
pub struct MultiMonoSource {
    members: Vec<Member>,
    info: StreamInfo,
    frames: MemberFrames,
    done: bool,
    /// The members' true lengths have been published (the stream was read to its end): later
    /// seeks (the ident search) must not overwrite them.
    lengths_final: bool,
}

impl MultiMonoSource {
    /// Combine mono `sources` whose loudspeaker positions are `positions` (same order).
    ///
    /// Errors (`invalid_input`) when the counts differ, there are fewer than two sources, a
    /// position repeats, a source is not mono, or the sample rates differ: such a set cannot
    /// be measured as one program. Lengths may differ (the stream ends with the shortest; see
    /// [`MultiMonoSource::member_frames`]).
    pub fn new(sources: Vec<Box<dyn AudioSource>>, positions: Vec<Position>) -> Result<Self> {
        if sources.len() != positions.len() {
            return Err(Error::invalid(
                "multi-mono positions",
                format!("one per source ({})", sources.len()),
                positions.len(),
            ));
        }
        if sources.len() < 2 {
            return Err(Error::invalid(
                "multi-mono sources",
                "at least 2",
                sources.len(),
            ));
        }
        for (i, p) in positions.iter().enumerate() {
            if positions[..i].contains(p) {
                return Err(Error::invalid(
                    "multi-mono positions",
                    "each position once",
                    format!("{p} twice"),
                ));
            }
        }
        let first = sources[0].info().clone();
        for s in &sources {
            let i = s.info();
            if i.channels != 1 {
                return Err(Error::invalid(
                    "multi-mono member channels",
                    "1 (mono)",
                    i.channels,
                ));
            }
            if i.sample_rate_hz != first.sample_rate_hz {
                return Err(Error::invalid(
                    "multi-mono member sample rate",
                    format!("{} Hz like the first member", first.sample_rate_hz),
                    format!("{} Hz", i.sample_rate_hz),
                ));
            }
        }
        let infos: Vec<&StreamInfo> = sources.iter().map(|s| s.info()).collect();
        let all_same =
            |f: &dyn Fn(&StreamInfo) -> String| infos.iter().all(|i| f(i) == f(infos[0]));
        let container = if all_same(&|i| i.container.clone()) {
            format!("multi-mono {}", first.container)
        } else {
            "multi-mono".to_string()
        };
        let codec = if all_same(&|i| i.codec.clone()) {
            first.codec.clone()
        } else {
            "mixed".to_string()
        };
        let bits = if infos
            .iter()
            .all(|i| i.bits_per_sample == first.bits_per_sample)
        {
            first.bits_per_sample
        } else {
            None
        };
        let frames = infos
            .iter()
            .map(|i| i.frames)
            .collect::<Option<Vec<u64>>>()
            .and_then(|v| v.into_iter().min());
        let info = StreamInfo {
            container,
            codec,
            sample_rate_hz: first.sample_rate_hz,
            channels: sources.len(),
            bits_per_sample: bits,
            frames,
            channel_map: Some(ChannelMap {
                positions,
                source: MapSource::FileNames,
            }),
            bext_time_reference: first.bext_time_reference,
            observed: Default::default(),
        };
        let counters = MemberFrames(Arc::new(
            (0..sources.len()).map(|_| AtomicU64::new(0)).collect(),
        ));
        let members = sources
            .into_iter()
            .map(|src| Member {
                src,
                buf: Vec::new(),
                pending: Vec::new(),
                start: 0,
                eof: false,
                decoded: 0,
            })
            .collect();
        Ok(MultiMonoSource {
            members,
            info,
            frames: counters,
            done: false,
            lengths_final: false,
        })
    }

    /// A handle on the frames each member decoded; after the end of the stream, their lengths.
    pub fn member_frames(&self) -> MemberFrames {
        self.frames.clone()
    }

    fn publish(&self) {
        if self.lengths_final {
            return;
        }
        for (m, a) in self.members.iter().zip(self.frames.0.iter()) {
            a.store(m.decoded, Ordering::Relaxed);
        }
    }
}

impl AudioSource for MultiMonoSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut Vec<Vec<f32>>, max_frames: usize) -> Result<usize> {
        out.resize_with(self.members.len(), Vec::new);
        for c in out.iter_mut() {
            c.clear();
        }
        if self.done || max_frames == 0 {
            return Ok(0);
        }
        for m in &mut self.members {
            m.fill(max_frames)?;
        }
        let n = self
            .members
            .iter()
            .map(Member::available)
            .min()
            .unwrap_or(0)
            .min(max_frames);
        if n == 0 {
            // The shortest member has ended: read the others to their end so that their true
            // lengths are known (a mismatch is reported by the caller).
            self.done = true;
            for m in &mut self.members {
                m.pending.clear();
                m.start = 0;
                while !m.eof {
                    if m.src.read(&mut m.buf, max_frames)? == 0 {
                        m.eof = true;
                    } else {
                        m.decoded += m.buf[0].len() as u64;
                    }
                }
            }
            self.publish();
            self.lengths_final = true;
            return Ok(0);
        }
        for (m, o) in self.members.iter_mut().zip(out.iter_mut()) {
            o.extend_from_slice(&m.pending[m.start..m.start + n]);
            m.start += n;
        }
        self.publish();
        Ok(n)
    }

    fn seek(&mut self, frame: u64) -> Result<()> {
        for m in &mut self.members {
            m.src.seek(frame)?;
            m.pending.clear();
            m.start = 0;
            m.eof = false;
            m.decoded = frame;
        }
        self.done = false;
        self.publish();
        Ok(())
    }

    fn skipped_packets(&self) -> u64 {
        self.members.iter().map(|m| m.src.skipped_packets()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mono source handing out `data` in blocks of at most `block` frames.
    struct Vecs {
        info: StreamInfo,
        data: Vec<f32>,
        pos: usize,
        block: usize,
    }

    fn mono(data: Vec<f32>, block: usize, rate: u32) -> Box<dyn AudioSource> {
        Box::new(Vecs {
            info: StreamInfo {
                container: "test".into(),
                codec: "f32".into(),
                sample_rate_hz: rate,
                channels: 1,
                bits_per_sample: Some(32),
                frames: Some(data.len() as u64),
                channel_map: None,
                bext_time_reference: None,
                observed: Default::default(),
            },
            data,
            pos: 0,
            block,
        })
    }

    impl AudioSource for Vecs {
        fn info(&self) -> &StreamInfo {
            &self.info
        }
        fn read(&mut self, out: &mut Vec<Vec<f32>>, max_frames: usize) -> Result<usize> {
            out.resize_with(1, Vec::new);
            out[0].clear();
            let n = max_frames.min(self.block).min(self.data.len() - self.pos);
            out[0].extend_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
        fn seek(&mut self, frame: u64) -> Result<()> {
            self.pos = (frame as usize).min(self.data.len());
            Ok(())
        }
    }

    fn ramp(n: usize, offset: f32) -> Vec<f32> {
        (0..n).map(|i| offset + i as f32).collect()
    }

    #[test]
    fn members_with_different_block_sizes_stay_frame_aligned() {
        use Position::*;
        let srcs = vec![
            mono(ramp(1000, 0.0), 7, 48_000),
            mono(ramp(1000, 10_000.0), 333, 48_000),
            mono(ramp(1000, 20_000.0), 1000, 48_000),
        ];
        let mut mm = MultiMonoSource::new(srcs, vec![L, R, C]).unwrap();
        assert_eq!(mm.info().channels, 3);
        assert_eq!(mm.info().frames, Some(1000));
        let mut out = Vec::new();
        let mut got: Vec<Vec<f32>> = vec![Vec::new(); 3];
        loop {
            let n = mm.read(&mut out, 64).unwrap();
            if n == 0 {
                break;
            }
            assert!(n <= 64);
            for c in 0..3 {
                assert_eq!(out[c].len(), n);
                got[c].extend_from_slice(&out[c]);
            }
        }
        assert_eq!(got[0], ramp(1000, 0.0));
        assert_eq!(got[1], ramp(1000, 10_000.0));
        assert_eq!(got[2], ramp(1000, 20_000.0));
        assert_eq!(mm.member_frames().get(), [1000, 1000, 1000]);
    }

    #[test]
    fn stream_ends_with_the_shortest_and_reports_true_lengths() {
        use Position::*;
        let srcs = vec![
            mono(ramp(900, 0.0), 100, 48_000),
            mono(ramp(1000, 0.0), 64, 48_000),
        ];
        let mut mm = MultiMonoSource::new(srcs, vec![L, R]).unwrap();
        let frames = mm.member_frames();
        let mut out = Vec::new();
        let mut total = 0;
        loop {
            let n = mm.read(&mut out, 128).unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, 900);
        assert_eq!(frames.get(), [900, 1000]);
        mm.seek(850).unwrap();
        assert_eq!(mm.read(&mut out, 128).unwrap(), 50);
        assert_eq!(out[1][0], 850.0);
    }

    #[test]
    fn unmeasurable_sets_are_refused() {
        use Position::*;
        let two = |a, b| vec![mono(vec![0.0; 10], 10, a), mono(vec![0.0; 10], 10, b)];
        assert!(MultiMonoSource::new(two(48_000, 44_100), vec![L, R]).is_err());
        assert!(MultiMonoSource::new(two(48_000, 48_000), vec![L, L]).is_err());
        assert!(MultiMonoSource::new(two(48_000, 48_000), vec![L]).is_err());
        let one = vec![mono(vec![0.0; 10], 10, 48_000)];
        assert!(MultiMonoSource::new(one, vec![L]).is_err());
    }
}
