//! The streaming engine of the speech gate: dialog channels → 16 kHz mono → Silero VAD
//! probabilities, one per 32 ms chunk.
//!
//! # Stages
//!
//! 1. **Downmix** each *candidate* (automatically the centre, L and R each on its own, see
//!    [`super::DialogChannels`]) to one mono signal at the file's rate. Every candidate is
//!    classified (its own probabilities); the caller takes speech where any has it.
//! 2. **Resample** the candidates to 16 kHz with rubato's synchronous FFT resampler
//!    ([`rubato::Fft`]'s filter and sub-chunks, computed two sub-chunks per complex FFT by
//!    [`PairedFft`]); its output delay is dropped at the start and the tail is flushed at the
//!    end, so 16 kHz sample `n` is at time `n / 16000` s exactly.
//! 3. **Segments**: the 16 kHz stream is cut into fixed segments of [`SEGMENT_CHUNKS`] chunks
//!    (32.8 s). Each segment is run by its own detector, started from the zero state and
//!    warmed over the [`WARMUP_CHUNKS`] chunks (2.05 s) before it, whose outputs are dropped.
//!    Segment boundaries depend only on the stream position, so the probabilities do not
//!    depend on how the input is chunked or on the number of threads, and segments of a batch
//!    run in parallel (rayon). The candidates of a segment run in lockstep, up to
//!    [`LOCKSTEP_STREAMS`] at a time, so that their LSTM recurrences share each load of `W_hh`
//!    ([`SileroVad::process_streams_gated`]). Silero's LSTM forgets its start within a few
//!    hundred milliseconds of audio; the test `segmented_equals_sequential_decisions` measures
//!    the agreement with one uninterrupted pass.
//! 4. **Energy pre-gate**: a chunk whose mean square is below [`PRE_GATE_MEAN_SQUARE`]
//!    (−70 dBFS, the level of the BS.1770 absolute gate) is not run through the network: its
//!    probability is 0 and the detector restarts from the zero state after it (what the
//!    network itself does at the start of a stream). Digital silence and near-silence cost
//!    nothing.
//!
//! Memory is nearly flat: one batch of segments of 16 kHz audio per candidate (2 MiB per
//! segment and candidate) and two `f32` per 32 ms chunk per candidate (probability and power:
//! 1.8 MB per candidate for two hours).

use rayon::prelude::*;

use super::resample::PairedFft;
use super::silero::{GatedStream, SileroVad, CHUNK_SAMPLES, LOCKSTEP_STREAMS, SAMPLE_RATE_HZ};
use crate::error::{Error, ErrorKind, Result};

/// Chunks per segment (1024 × 32 ms = 32.768 s).
pub const SEGMENT_CHUNKS: usize = 1024;
/// Chunks before a segment used to warm the detector's state (64 × 32 ms = 2.048 s).
pub const WARMUP_CHUNKS: usize = 64;
/// Segments collected before a batch is classified (in parallel), at least. A segment's
/// candidates run in lockstep as one work item ([`LOCKSTEP_STREAMS`]), so a batch is one work
/// item per segment: two keep a 2-core machine busy at a peak RSS of 43 MiB for the 10-minute
/// 5.1 file (issue 17 asks under 64 MiB); with more threads, up to [`MAX_BATCH_SEGMENTS`] are
/// collected (8 MiB of 16 kHz audio each for 5.1: the centre, left, right and the LFE probe).
const BATCH_SEGMENTS: usize = 2;
/// Segments per batch at most, however many threads there are.
const MAX_BATCH_SEGMENTS: usize = 4;
/// Mean square under which a 32 ms chunk is not classified: 1e-7 = −70 dBFS, the level of the
/// BS.1770-5 §2.3 absolute gate (−70 LKFS), below which no block counts anyway.
pub const PRE_GATE_MEAN_SQUARE: f32 = 1e-7;
/// Input frames per resampler sub-chunk (rounded up to a multiple of `rate / gcd(rate, 16 kHz)`):
/// 48 kHz → 16 kHz runs on complex FFTs of 768 and 256 points. (rubato's default, sub-chunks of
/// about 256 frames, gives 534 and 178, i.e. the prime 89, which rustfft can only do by Rader's
/// algorithm: 3–4× slower per sample.) 44.1 kHz gives 882/320 and 96 kHz 768/128 points.
const RESAMPLE_SUB_CHUNK: usize = 384;

use super::Candidate;

/// Per-candidate resampling to 16 kHz (or a pass-through at 16 kHz), two sub-chunks per FFT
/// ([`PairedFft`]).
struct To16k {
    fft: Option<PairedFft>,
    /// Input waiting for a full pair of sub-chunks, per candidate.
    input: Vec<Vec<f32>>,
    /// The second half of the last sub-chunk's output, to add to the next, per candidate.
    overlap: Vec<Vec<f32>>,
    /// This call's output, per candidate.
    out: Vec<Vec<f32>>,
    /// One pair's outputs before the overlap-add.
    pair_out: [Vec<f32>; 2],
    /// Output frames still to drop (the resampler delay).
    to_trim: usize,
    frames_in: u64,
    frames_out: u64,
    ratio: f64,
}

impl To16k {
    fn new(rate_hz: u32, n: usize) -> Result<To16k> {
        if rate_hz == 0 {
            return Err(Error::new(ErrorKind::Resample(
                "sample rate 0 Hz".to_string(),
            )));
        }
        let fft = (rate_hz != SAMPLE_RATE_HZ).then(|| {
            PairedFft::new(
                rate_hz as usize,
                SAMPLE_RATE_HZ as usize,
                RESAMPLE_SUB_CHUNK,
            )
        });
        let fft_out = fft.as_ref().map_or(0, |f| f.fft_out);
        Ok(To16k {
            fft,
            input: vec![Vec::new(); n],
            overlap: vec![vec![0.0; fft_out]; n],
            out: vec![Vec::new(); n],
            pair_out: [vec![0.0; 2 * fft_out], vec![0.0; 2 * fft_out]],
            // The filter is linear-phase around the middle of a sub-chunk (rubato's
            // `output_delay`).
            to_trim: fft_out / 2,
            frames_in: 0,
            frames_out: 0,
            ratio: f64::from(SAMPLE_RATE_HZ) / f64::from(rate_hz),
        })
    }

    /// Resample what can be resampled; append the 16 kHz output to `dst`.
    fn push(&mut self, dst: &mut [Vec<f32>]) -> Result<()> {
        let Some(fft) = self.fft.as_ref() else {
            for (d, i) in dst.iter_mut().zip(self.input.iter_mut()) {
                d.append(i);
            }
            return Ok(());
        };
        let pairs = self.input[0].len() / (2 * fft.fft_in);
        self.frames_in += (pairs * 2 * fft.fft_in) as u64;
        self.run_pairs(pairs, dst, u64::MAX);
        Ok(())
    }

    /// Resample the first `pairs` pairs of sub-chunks of every candidate's input, consume them,
    /// and append the output to `dst` (up to `limit` frames in all).
    fn run_pairs(&mut self, pairs: usize, dst: &mut [Vec<f32>], limit: u64) {
        let Some(fft) = self.fft.as_mut() else {
            return;
        };
        let (fi, fo) = (fft.fft_in, fft.fft_out);
        for ((input, overlap), out) in self
            .input
            .iter_mut()
            .zip(self.overlap.iter_mut())
            .zip(self.out.iter_mut())
        {
            out.clear();
            for pair in input[..pairs * 2 * fi].chunks_exact(2 * fi) {
                let [oa, ob] = &mut self.pair_out;
                let (a, b) = pair.split_at(fi);
                fft.pair(a, b, oa, ob);
                for o in [&*oa, &*ob] {
                    out.extend(o[..fo].iter().zip(overlap.iter()).map(|(v, p)| v + p));
                    overlap.copy_from_slice(&o[fo..]);
                }
            }
            input.drain(..pairs * 2 * fi);
        }
        emit(
            &self.out,
            pairs * 2 * fo,
            &mut self.to_trim,
            &mut self.frames_out,
            dst,
            limit,
        );
    }

    /// Flush the tail: the pending input, then zeros until every input frame has its output.
    fn finish(&mut self, dst: &mut [Vec<f32>]) -> Result<()> {
        self.push(dst)?;
        let Some(fi) = self.fft.as_ref().map(|f| f.fft_in) else {
            return Ok(());
        };
        self.frames_in += self.input[0].len() as u64;
        let expected = (self.frames_in as f64 * self.ratio).ceil() as u64;
        // Bounded: each pair yields output once the delay is trimmed.
        for _ in 0..64 {
            if self.frames_out >= expected {
                break;
            }
            for i in self.input.iter_mut() {
                i.resize(2 * fi, 0.0);
            }
            self.run_pairs(1, dst, expected);
        }
        for i in self.input.iter_mut() {
            i.clear();
        }
        Ok(())
    }
}

use super::MAX_RESAMPLED_SAMPLE;

/// Append `made` output frames to `dst`, dropping the first `to_trim` of the stream and
/// anything beyond `limit` frames in total.
fn emit(
    out: &[Vec<f32>],
    made: usize,
    to_trim: &mut usize,
    frames_out: &mut u64,
    dst: &mut [Vec<f32>],
    limit: u64,
) {
    let skip = (*to_trim).min(made);
    *to_trim -= skip;
    let avail = (made - skip) as u64;
    let keep = avail.min(limit.saturating_sub(*frames_out)) as usize;
    for (d, o) in dst.iter_mut().zip(out) {
        d.extend_from_slice(&o[skip..skip + keep]);
    }
    *frames_out += keep as u64;
}

/// The outcome of one segment.
struct SegmentOut {
    probs: Vec<f32>,
    /// Mean square of each chunk classified.
    power: Vec<f32>,
    /// The candidate classified.
    candidate: usize,
    /// Chunks run through the network (not pre-gated), warm-up included.
    network_chunks: usize,
}

/// Streaming speech probabilities of the dialog channels.
pub(crate) struct Engine {
    candidates: Vec<Candidate>,
    resampler: To16k,
    /// 16 kHz audio per candidate, from chunk `buf_chunk0` on.
    buf16: Vec<Vec<f32>>,
    buf_chunk0: usize,
    /// The next segment to classify.
    next_segment: usize,
    parallel: bool,
    /// Probability of every 32 ms chunk so far, per candidate.
    pub probs: Vec<Vec<f32>>,
    /// Mean square of every 32 ms chunk so far, per candidate.
    pub power: Vec<Vec<f32>>,
    /// Segments classified on each candidate.
    pub segments_per_candidate: Vec<usize>,
    /// Chunks run through the network (warm-up included).
    pub network_chunks: usize,
    /// Scratch for the downmix.
    mix: Vec<f32>,
}

impl Engine {
    pub fn new(rate_hz: u32, candidates: Vec<Candidate>, parallel: bool) -> Result<Engine> {
        let n = candidates.len();
        Ok(Engine {
            resampler: To16k::new(rate_hz, n)?,
            buf16: vec![Vec::new(); n],
            segments_per_candidate: vec![0; n],
            candidates,
            buf_chunk0: 0,
            next_segment: 0,
            parallel,
            probs: vec![Vec::new(); n],
            power: vec![Vec::new(); n],
            network_chunks: 0,
            mix: Vec::new(),
        })
    }

    /// Push planar audio of all the file's channels.
    pub fn push_planar(&mut self, block: &[&[f32]]) -> Result<()> {
        let frames = block.first().map_or(0, |c| c.len());
        for (cand, input) in self.candidates.iter().zip(self.resampler.input.iter_mut()) {
            let scale = 1.0 / cand.indices.len() as f32;
            self.mix.clear();
            self.mix
                .extend_from_slice(&block[cand.indices[0]][..frames]);
            for &c in &cand.indices[1..] {
                for (m, &v) in self.mix.iter_mut().zip(&block[c][..frames]) {
                    *m += v;
                }
            }
            // Non-finite samples are measured as silence, as the meter does; absurd float values
            // are clamped so the resampler's FFT cannot overflow to inf/NaN, which would reach
            // the network (found by fuzzing, when rubato's FFT panicked on a NaN spectrum).
            input.extend(self.mix.iter().map(|&v| {
                let v = v * scale;
                if v.is_finite() {
                    v.clamp(-MAX_RESAMPLED_SAMPLE, MAX_RESAMPLED_SAMPLE)
                } else {
                    0.0
                }
            }));
        }
        self.resampler.push(&mut self.buf16)?;
        self.classify(false);
        Ok(())
    }

    /// Flush everything and classify the last (partial) segment.
    pub fn finish(&mut self) -> Result<()> {
        self.resampler.finish(&mut self.buf16)?;
        // Zero-pad the last partial chunk (it belongs to no complete 400 ms block anyway).
        let len = self.buf16[0].len();
        let padded = len.div_ceil(CHUNK_SAMPLES) * CHUNK_SAMPLES;
        for b in self.buf16.iter_mut() {
            b.resize(padded, 0.0);
        }
        self.classify(true);
        Ok(())
    }

    /// Classify every complete segment in the buffer (all of them when `last`), a batch at a
    /// time.
    fn classify(&mut self, last: bool) {
        loop {
            let chunks_avail = self.buf_chunk0 + self.buf16[0].len() / CHUNK_SAMPLES;
            let complete = chunks_avail / SEGMENT_CHUNKS;
            let ready = complete.saturating_sub(self.next_segment);
            let batch = if self.parallel {
                rayon::current_num_threads().clamp(BATCH_SEGMENTS, MAX_BATCH_SEGMENTS)
            } else {
                BATCH_SEGMENTS
            };
            let n_seg = if last {
                chunks_avail.div_ceil(SEGMENT_CHUNKS) - self.next_segment
            } else if ready >= batch {
                batch
            } else {
                return;
            };
            if n_seg == 0 {
                return;
            }
            let first = self.next_segment;
            let n_cand = self.candidates.len();
            // One work item per segment and group of candidates run in lockstep.
            let work_items: Vec<(usize, std::ops::Range<usize>)> = (first..first + n_seg)
                .flat_map(|s| {
                    (0..n_cand)
                        .step_by(LOCKSTEP_STREAMS)
                        .map(move |c| (s, c..(c + LOCKSTEP_STREAMS).min(n_cand)))
                })
                .collect();
            let buf = &self.buf16;
            let base = self.buf_chunk0;
            let cands = &self.candidates;
            let work = |(s, group): &(usize, std::ops::Range<usize>)| {
                run_segment(buf, base, *s, chunks_avail, group.clone(), cands)
            };
            let outs: Vec<SegmentOut> = if self.parallel && work_items.len() > 1 {
                work_items.par_iter().flat_map_iter(work).collect()
            } else {
                work_items.iter().flat_map(work).collect()
            };
            for o in outs {
                self.probs[o.candidate].extend_from_slice(&o.probs);
                self.power[o.candidate].extend_from_slice(&o.power);
                self.segments_per_candidate[o.candidate] += 1;
                self.network_chunks += o.network_chunks;
            }
            self.next_segment += n_seg;
            // Keep the warm-up of the next segment.
            let keep_from = (self.next_segment * SEGMENT_CHUNKS)
                .saturating_sub(WARMUP_CHUNKS)
                .max(self.buf_chunk0);
            let drop = (keep_from - self.buf_chunk0) * CHUNK_SAMPLES;
            let drop = drop.min(self.buf16[0].len());
            for b in self.buf16.iter_mut() {
                b.drain(..drop);
            }
            self.buf_chunk0 += drop / CHUNK_SAMPLES;
            if last {
                return;
            }
        }
    }
}

/// Sum of `f(x[i])` in eight lanes (a strict left-to-right `f32` sum is one long dependency
/// chain the compiler may not reorder).
fn lane_sum(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut it = x.chunks_exact(8);
    for c in &mut it {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v);
        }
    }
    let rest: f32 = it.remainder().iter().map(|&v| f(v)).sum();
    acc.iter().sum::<f32>() + rest
}

/// Mean square of a chunk.
fn mean_square(x: &[f32]) -> f32 {
    lane_sum(x, |v| v * v) / x.len() as f32
}

/// Energy of the first difference relative to the signal's under which a 16 kHz chunk is
/// low-frequency only: the difference's power response is `4·sin²(π·f/16000)`, −26.5 dB at
/// 120 Hz (the top of the LFE band, ITU-R BS.775-4 §3) and −20 dB at 255 Hz; speech (most of
/// its energy at 300 Hz – 3 kHz) reads −15 to −5 dB.
pub const FULL_BAND_DIFF_RATIO: f32 = 0.01;

/// Whether a chunk has full-band content: its first difference carries at least
/// [`FULL_BAND_DIFF_RATIO`] of its energy.
pub(crate) fn full_band(x: &[f32]) -> bool {
    let Some(prev) = x.len().checked_sub(1).map(|n| &x[..n]) else {
        return false;
    };
    let e = lane_sum(x, |v| v * v);
    let (mut acc, next) = ([0.0f32; 8], &x[1..]);
    let (mut n8, mut p8) = (next.chunks_exact(8), prev.chunks_exact(8));
    for (n, p) in (&mut n8).zip(&mut p8) {
        for ((a, &n), &p) in acc.iter_mut().zip(n).zip(p) {
            *a += (n - p) * (n - p);
        }
    }
    let rest: f32 = n8
        .remainder()
        .iter()
        .zip(p8.remainder())
        .map(|(&n, &p)| (n - p) * (n - p))
        .sum();
    let d = acc.iter().sum::<f32>() + rest;
    d >= FULL_BAND_DIFF_RATIO * e && e > 0.0
}

/// Classify segment `s` (chunks `s·S .. min((s+1)·S, end)`) of the candidates `group` (at most
/// [`LOCKSTEP_STREAMS`], run in lockstep) in `buf` (which starts at chunk `base`), after
/// warming over the chunks before it.
fn run_segment(
    buf: &[Vec<f32>],
    base: usize,
    s: usize,
    end: usize,
    group: std::ops::Range<usize>,
    candidates: &[Candidate],
) -> Vec<SegmentOut> {
    let start = s * SEGMENT_CHUNKS;
    let stop = ((s + 1) * SEGMENT_CHUNKS).min(end);
    let warm = start.saturating_sub(WARMUP_CHUNKS).max(base);
    // Warm-up and segment in one batched pass; a pre-gated chunk resets the detector.
    let xs: Vec<&[f32]> = group
        .clone()
        .map(|c| &buf[c][(warm - base) * CHUNK_SAMPLES..(stop - base) * CHUNK_SAMPLES])
        .collect();
    let mut outs: Vec<SegmentOut> = Vec::with_capacity(group.len());
    let mut actives: Vec<Vec<bool>> = Vec::with_capacity(group.len());
    for (candidate, x) in group.zip(&xs) {
        let power: Vec<f32> = x.chunks_exact(CHUNK_SAMPLES).map(mean_square).collect();
        let full_band_only = candidates[candidate].full_band_only;
        let active: Vec<bool> = power
            .iter()
            .zip(x.chunks_exact(CHUNK_SAMPLES))
            .map(|(&ms, c)| ms >= PRE_GATE_MEAN_SQUARE && (!full_band_only || full_band(c)))
            .collect();
        outs.push(SegmentOut {
            probs: vec![0.0; stop - warm],
            power,
            candidate,
            network_chunks: active.iter().filter(|&&a| a).count(),
        });
        actives.push(active);
    }
    let mut streams: Vec<GatedStream<'_>> = outs
        .iter_mut()
        .zip(&xs)
        .zip(&actives)
        .map(|((o, x), active)| GatedStream {
            samples: x,
            active,
            probs: &mut o.probs,
        })
        .collect();
    SileroVad::new().process_streams_gated(&mut streams);
    for o in outs.iter_mut() {
        o.probs.drain(..start - warm);
        o.power.drain(..start - warm);
    }
    outs
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
    use rubato::{Fft, FixedSync, Resampler, WindowFunction};

    /// The pre-gate's chunk measures: the mean square to float rounding of an exact sum, and
    /// the full-band test on either side of its ratio (a tone at f has a difference/energy
    /// ratio of 4·sin²(π·f/16000): 0.0022 at 120 Hz, 0.0152 at 500 Hz), at every length.
    #[test]
    fn chunk_measures() {
        let tone = |f: f32, n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| 0.5 * (std::f32::consts::TAU * f * i as f32 / 16_000.0 + 0.3).sin())
                .collect()
        };
        for n in [9usize, 15, 512, 1001] {
            let x = tone(1000.0, n);
            let exact = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / n as f64;
            let got = f64::from(mean_square(&x));
            assert!((got / exact - 1.0).abs() < 1e-6, "{n}: {got} vs {exact}");
            assert!(full_band(&tone(500.0, n.max(64))), "500 Hz, {n}");
            assert!(!full_band(&tone(120.0, n.max(512))), "120 Hz, {n}");
        }
        assert!(!full_band(&[]) && !full_band(&[0.5]) && !full_band(&[0.0; 512]));
        assert!(full_band(&[0.5, -0.5]));
    }

    /// The streaming resampler, pushed in uneven pieces and flushed, gives rubato's whole-clip
    /// resampling (`process_all`: delay trimmed, `ceil(n · ratio)` frames) at every kind of
    /// rate, for clips shorter than one sub-chunk and for several seconds.
    #[test]
    fn to16k_streams_what_rubato_gives_for_the_whole_clip() {
        for rate in [8_000u32, 22_050, 44_100, 44_099, 48_000, 96_000, 192_000] {
            for n in [100usize, 3 * rate as usize + 123] {
                let x: Vec<f32> = (0..n)
                    .map(|i| {
                        let t = i as f32 / rate as f32;
                        0.5 * (std::f32::consts::TAU * 440.0 * t).sin()
                            + 0.2 * (((i * 7919) % 1001) as f32 / 500.0 - 1.0)
                    })
                    .collect();
                let mut ours = To16k::new(rate, 1).unwrap();
                let mut got = vec![Vec::new()];
                let (mut at, sizes) = (0, [1usize, 333, 4096, 17, 10_000]);
                for k in sizes.iter().cycle() {
                    if at == n {
                        break;
                    }
                    let k = (*k).min(n - at);
                    ours.input[0].extend_from_slice(&x[at..at + k]);
                    ours.push(&mut got).unwrap();
                    at += k;
                }
                ours.finish(&mut got).unwrap();

                let mut r = Fft::<f32>::new_custom(
                    rate as usize,
                    16_000,
                    4608,
                    4608 / RESAMPLE_SUB_CHUNK,
                    1,
                    WindowFunction::BlackmanHarris2,
                    FixedSync::Input,
                )
                .unwrap();
                let input = vec![x];
                let inp = SequentialSliceOfVecs::new(&input, 1, n).unwrap();
                let want = r.process_all(&inp, n, None).unwrap().take_data();

                let expected = (n as f64 * 16_000.0 / f64::from(rate)).ceil() as usize;
                assert_eq!(want.len(), expected, "{rate} Hz, {n}: rubato's length");
                assert_eq!(got[0].len(), expected, "{rate} Hz, {n} frames");
                let worst = got[0]
                    .iter()
                    .zip(&want)
                    .map(|(g, w)| (g - w).abs())
                    .fold(0.0f32, f32::max);
                assert!(
                    worst < 1e-5,
                    "{rate} Hz, {n} frames: max difference {worst}"
                );
            }
        }
    }
}
