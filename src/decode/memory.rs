//! An [`AudioSource`] over planar samples in memory: for embedding (audio already decoded by
//! the host), tests and benches.

use super::{AudioSource, Limits, StreamInfo};
use crate::error::{Error, Result};

/// Planar `f32` samples served as a seekable stream.
#[derive(Debug, Clone)]
pub struct MemorySource {
    info: StreamInfo,
    channels: Vec<Vec<f32>>,
    pos: usize,
}

impl MemorySource {
    /// A source over `channels` (one `Vec` per channel, equal lengths) at `rate_hz`.
    pub fn new(rate_hz: u32, channels: Vec<Vec<f32>>) -> Result<MemorySource> {
        Limits::check(rate_hz, channels.len())?;
        let frames = channels[0].len();
        if channels.iter().any(|c| c.len() != frames) {
            return Err(Error::invalid(
                "channel lengths",
                "equal",
                "channels of different lengths",
            ));
        }
        Ok(MemorySource {
            info: StreamInfo {
                container: "memory".into(),
                codec: "pcm_f32".into(),
                sample_rate_hz: rate_hz,
                channels: channels.len(),
                bits_per_sample: None,
                frames: Some(frames as u64),
                channel_map: None,
                bext_time_reference: None,
                observed: Default::default(),
            },
            channels,
            pos: 0,
        })
    }
}

impl AudioSource for MemorySource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut Vec<Vec<f32>>, max_frames: usize) -> Result<usize> {
        let total = self.channels[0].len();
        let n = max_frames.min(total - self.pos);
        out.resize(self.channels.len(), Vec::new());
        for (dst, src) in out.iter_mut().zip(&self.channels) {
            dst.clear();
            dst.extend_from_slice(&src[self.pos..self.pos + n]);
        }
        self.pos += n;
        Ok(n)
    }

    fn seek(&mut self, frame: u64) -> Result<()> {
        self.pos = usize::try_from(frame)
            .unwrap_or(usize::MAX)
            .min(self.channels[0].len());
        Ok(())
    }
}
