//! Playing a [`CompositionPlan`](super::CompositionPlan): its resources end to end as one
//! [`AudioSource`].

use crate::decode::{AudioSource, McaInfo, StreamInfo};
use crate::error::{Error as CrateError, Result as CrateResult};

use super::super::mxf::MxfAudioReader;
use super::{PlanAudio, PlannedResource};

/// A composition's audio sequence as one continuous stream: resources end to end, repeats
/// played back to back, only the given composition ranges (the program) emitted.
///
/// Reads stop at resource and range boundaries (a short read is not the end; 0 is). Memory is
/// one track file reader at a time.
#[derive(Debug)]
pub struct CompositionSource {
    resources: Vec<PlannedResource>,
    ranges: Vec<(u64, u64)>,
    info: StreamInfo,
    mca: McaInfo,
    block_align: u32,
    /// Composition sample position of the next read.
    pos: u64,
    /// Index into `ranges` of the range holding `pos` (or `ranges.len()` at the end).
    range: usize,
    reader: Option<(String, MxfAudioReader)>,
}

impl CompositionSource {
    pub(super) fn new(a: &PlanAudio, ranges: &[(u64, u64)]) -> CompositionSource {
        let frames: u64 = ranges.iter().map(|(x, y)| y - x).sum();
        let info = StreamInfo {
            container: "imf".into(),
            codec: format!("pcm_s{}le", a.block_align / a.channels as u32 * 8),
            sample_rate_hz: a.sample_rate_hz,
            channels: a.channels,
            bits_per_sample: Some(a.bits_per_sample),
            frames: Some(frames),
            channel_map: Some(a.map.clone()),
            bext_time_reference: None,
            ..Default::default()
        };
        let mut s = CompositionSource {
            resources: a.resources.clone(),
            ranges: ranges.to_vec(),
            info,
            mca: a.mca.clone(),
            block_align: a.block_align,
            pos: 0,
            range: 0,
            reader: None,
        };
        s.pos = s.ranges.first().map_or(0, |r| r.0);
        s
    }

    /// Composition sample position of the next read.
    pub fn composition_position(&self) -> u64 {
        self.pos
    }

    fn reader_for(&mut self, r: usize) -> CrateResult<&mut MxfAudioReader> {
        let want = &self.resources[r];
        let reopen = self
            .reader
            .as_ref()
            .is_none_or(|(id, _)| *id != want.track_file_id);
        if reopen {
            let rd = MxfAudioReader::open(&want.path)
                .map_err(|e| CrateError::from(e).with_path(&want.path))?;
            let i = rd.info();
            if i.channels as usize != self.info.channels
                || i.sample_rate_hz != self.info.sample_rate_hz
                || i.block_align != self.block_align
            {
                return Err(CrateError::malformed(format!(
                    "track file {} changed since the composition was planned",
                    want.track_file_id
                ))
                .with_path(&want.path));
            }
            self.reader = Some((want.track_file_id.clone(), rd));
        }
        Ok(&mut self.reader.as_mut().expect("just opened").1)
    }
}

impl AudioSource for CompositionSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut Vec<Vec<f32>>, max_frames: usize) -> CrateResult<usize> {
        out.resize_with(self.info.channels, Vec::new);
        for c in out.iter_mut() {
            c.clear();
        }
        // Skip to the range holding `pos`.
        while let Some(&(_, b)) = self.ranges.get(self.range) {
            if self.pos < b {
                break;
            }
            self.range += 1;
            if let Some(&(a, _)) = self.ranges.get(self.range) {
                self.pos = self.pos.max(a);
            }
        }
        let Some(&(_, range_end)) = self.ranges.get(self.range) else {
            return Ok(0);
        };
        if max_frames == 0 {
            return Ok(0);
        }
        // The resource holding `pos`.
        let r = self
            .resources
            .partition_point(|p| p.start_frame + p.timeline_frames() <= self.pos);
        let Some(res) = self.resources.get(r) else {
            return Ok(0);
        };
        let into = (self.pos - res.start_frame) % res.duration_frames;
        let file_frame = res.entry_frame + into;
        let n = (res.duration_frames - into)
            .min(range_end - self.pos)
            .min(max_frames as u64) as usize;
        let id = res.track_file_id.clone();
        let path = res.path.clone();
        let reader = self.reader_for(r)?;
        if reader.position() != file_frame {
            reader
                .seek_frame(file_frame)
                .map_err(|e| CrateError::from(e).with_path(&path))?;
        }
        let got = reader
            .read_block(n, out)
            .map_err(|e| CrateError::from(e).with_path(&path))?;
        if got != n {
            return Err(CrateError::malformed(format!(
                "track file {id} ended at sample {} while the composition needs {n} more",
                file_frame + got as u64
            ))
            .with_path(&path));
        }
        self.pos += n as u64;
        Ok(n)
    }

    /// `frame` counts samples of this source's output (excluded ranges removed).
    fn seek(&mut self, frame: u64) -> CrateResult<()> {
        let mut left = frame;
        for (i, &(a, b)) in self.ranges.iter().enumerate() {
            if left < b - a {
                self.range = i;
                self.pos = a + left;
                return Ok(());
            }
            left -= b - a;
        }
        self.range = self.ranges.len();
        self.pos = self.ranges.last().map_or(0, |r| r.1);
        Ok(())
    }

    fn mca(&self) -> Option<McaInfo> {
        Some(self.mca.clone())
    }
}
