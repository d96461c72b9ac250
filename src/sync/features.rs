//! The low-rate feature both signals are aligned on, computed while streaming.
//!
//! The mono mix (every channel but LFE, equal weights) is cut into 100 Hz hops; each hop's
//! Hann-windowed spectrum gives the energy of [`BANDS`] log-spaced bands, and the **onset
//! strength** of a band is the rise of its level from the previous hop, in dB, half-wave
//! rectified and capped at [`ONSET_CAP_DB`]. Onsets are what a mix and its M&E share (the
//! music and effects attacks), what survives a stereo downmix and AAC coding (a level rise of
//! several dB is far above the coding noise), and they do not depend on the gain. Only the
//! features are kept, quantised to a byte per band ([`Track`]: 6 bytes per 10 ms, 4.3 MB for two
//! hours), so memory does not grow with the channel count or the rate and grows by 36 kB per
//! programme minute.
//!
//! The same pass classifies each hop for the lead-in detector: silent (below −60 dBFS mean
//! square) or tonal (a single spectral peak carries ≥ 90 % of the energy: line-up tone, sync
//! pop).

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

use crate::channels::ChannelMap;
use crate::decode::AudioSource;
use crate::error::Result;

/// Hops per second of the feature.
pub const FEATURE_RATE_HZ: f64 = 100.0;

/// Band edges, Hz: six octave-ish bands from 60 Hz to 8 kHz (under the 128 kb/s AAC low-pass,
/// over the LFE).
pub const BANDS: [(f64, f64); 6] = [
    (60.0, 250.0),
    (250.0, 500.0),
    (500.0, 1000.0),
    (1000.0, 2000.0),
    (2000.0, 4000.0),
    (4000.0, 8000.0),
];

/// Number of bands.
pub const NB: usize = BANDS.len();

/// Largest onset counted, dB: the jump out of digital silence is one onset, not the whole
/// window's energy.
pub const ONSET_CAP_DB: f32 = 20.0;

/// Mean square under which a hop is silent: −60 dBFS.
pub const SILENT_MEAN_SQUARE: f64 = 1e-6;

/// A hop is tonal when its strongest spectral peak (±2 bins) holds this share of the energy.
pub const TONAL_SHARE: f64 = 0.9;

/// Level floor of a band, dB (mean square 1e-10): silence.
const FLOOR_DB: f32 = -100.0;

/// Quantisation step of the stored onsets, dB: [`ONSET_CAP_DB`] in 255 steps (0.078 dB; the
/// rounding error, ±0.04 dB, is far under the coding noise of a 128 kb/s proxy and under the
/// several-dB onsets the alignment correlates).
pub const ONSET_STEP_DB: f32 = ONSET_CAP_DB / 255.0;

/// Hops per chunk of a [`Track`] (41 s; 24 kB).
const CHUNK_HOPS: usize = 4096;

/// The onset track of one stream: [`NB`] bytes per hop (onset strength / [`ONSET_STEP_DB`],
/// rounded), in fixed chunks, so that growing it never copies it (a `Vec` that doubles holds
/// up to three times its length while it reallocates). The only per-hop store of the
/// alignment: 6 bytes per 10 ms, 36 kB per programme minute.
#[derive(Debug, Clone, Default)]
pub(crate) struct Track {
    chunks: Vec<Box<[[u8; NB]]>>,
    len: usize,
}

impl Track {
    /// Append one hop's onsets, dB (clamped to `0..=ONSET_CAP_DB`).
    pub fn push(&mut self, row: &[f32; NB]) {
        let at = self.len % CHUNK_HOPS;
        if at == 0 {
            self.chunks
                .push(vec![[0u8; NB]; CHUNK_HOPS].into_boxed_slice());
        }
        let q = row.map(|v| (v.clamp(0.0, ONSET_CAP_DB) / ONSET_STEP_DB).round() as u8);
        self.chunks.last_mut().expect("pushed above")[at] = q;
        self.len += 1;
    }

    /// Number of hops.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Quantised onsets of hop `i` (`i < len`).
    pub fn get(&self, i: usize) -> [u8; NB] {
        self.chunks[i / CHUNK_HOPS][i % CHUNK_HOPS]
    }

    /// Onsets of hop `i`, dB (`i < len`).
    pub fn db(&self, i: usize) -> [f32; NB] {
        self.get(i).map(|q| f32::from(q) * ONSET_STEP_DB)
    }

    /// Heap bytes held: the chunks (whole, the last one partly filled) and their index.
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        self.chunks.len() * (CHUNK_HOPS * NB + std::mem::size_of::<Box<[[u8; NB]]>>())
    }
}

/// What one hop looked like to the lead-in detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HopKind {
    Silent,
    Tonal,
    Content,
}

/// Features of one whole stream.
#[derive(Debug, Clone)]
pub(crate) struct Features {
    /// Onset strength per hop, quantised.
    pub onsets: Track,
    /// Lead-in class of each of the first `classify_hops` hops (see [`extract`]); the rest are
    /// content.
    pub kinds: Vec<HopKind>,
    /// Sample rate of the stream, Hz.
    pub rate_hz: u32,
    /// Frames decoded.
    pub frames: u64,
}

impl Features {
    /// Number of hops.
    pub fn len(&self) -> usize {
        self.onsets.len()
    }
}

/// Mix-down weights: 1 for every channel, 0 for LFE.
pub(crate) fn mono_weights(map: &ChannelMap) -> Vec<f32> {
    let labels = map.labels();
    let n = labels.len().max(1) as f32;
    let w: Vec<f32> = labels
        .iter()
        .map(|l| if l == "LFE" { 0.0 } else { 1.0 })
        .collect();
    let active = w.iter().filter(|&&v| v > 0.0).count() as f32;
    if active == 0.0 {
        return vec![1.0 / n; labels.len()];
    }
    w.iter().map(|v| v / active).collect()
}

/// The onset window spans this many hops (75 % overlap): band levels of neighbouring hops
/// share most of their samples, so the onset curve is a smooth function of time and two
/// streams whose hop grids differ by a fraction of a hop (any offset that is not a whole
/// number of hops, and a drift, which sweeps through every fraction) still correlate. With a
/// window of one hop the level of a noisy bed changes at random from hop to hop, and half a
/// hop of grid offset decorrelated it (a 5 ms offset scored 0.2, under the match threshold).
pub const ONSET_WINDOW_HOPS: f64 = 4.0;

/// A Hann window of `n` samples and its power.
fn hann(n: usize) -> (Vec<f32>, f64) {
    let w: Vec<f32> = (0..n)
        .map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos()) as f32)
        .collect();
    let p = w.iter().map(|&v| f64::from(v * v)).sum();
    (w, p)
}

/// Read `source` to its end and compute its features.
///
/// Per hop two windows: a short one (one hop, rounded up to a power of two) starting at the
/// hop, for the lead-in classes (a sharp edge where content starts), and a long one
/// ([`ONSET_WINDOW_HOPS`]) centred on the short one, for the onsets. Samples before the
/// start and after the end count as zeros.
///
/// Only the first `classify_hops` hops are classified (the lead-in detector looks no further);
/// later hops are content, neither stored nor given their short FFT.
pub(crate) fn extract(
    source: &mut dyn AudioSource,
    weights: &[f32],
    classify_hops: usize,
) -> Result<Features> {
    let rate = source.info().sample_rate_hz;
    let hop_f = f64::from(rate) / FEATURE_RATE_HZ;
    let n = (hop_f.ceil() as usize).next_power_of_two().max(64);
    let nl = ((ONSET_WINDOW_HOPS * hop_f).ceil() as usize)
        .next_power_of_two()
        .max(n);
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let fft_l = planner.plan_fft_forward(nl);
    let (window, win_power) = hann(n);
    let (window_l, win_power_l) = hann(nl);
    let bin_hz = f64::from(rate) / nl as f64;
    let band_bins: Vec<(usize, usize)> = BANDS
        .iter()
        .map(|&(lo, hi)| {
            let a = ((lo / bin_hz).round() as usize).max(1);
            let b = ((hi / bin_hz).round() as usize).clamp(a + 1, nl / 2 + 1);
            (a, b)
        })
        .collect();
    let mut scratch_in = fft.make_input_vec();
    let mut spectrum: Vec<Complex<f32>> = fft.make_output_vec();
    let mut scratch_l = fft_l.make_input_vec();
    let mut spectrum_l: Vec<Complex<f32>> = fft_l.make_output_vec();
    let mut power = vec![0.0f64; n / 2 + 1];

    // `mono[i]` is padded sample `base + i`; padded = file frame + `pad`.
    let pad = nl / 2;
    let mut mono: Vec<f32> = vec![0.0; pad];
    let mut base: u64 = 0;
    let mut frames: u64 = 0;
    let mut onsets = Track::default();
    let mut kinds: Vec<HopKind> = Vec::new();
    let mut prev = [FLOOR_DB; NB];
    let mut k: u64 = 0;
    let mut done = false;
    // Padded start of hop `k`'s long window (its short window starts `pad - n/2` later).
    let long_start = |k: u64| (k as f64 * hop_f).floor() as u64 + (n / 2) as u64;
    // Decoding and the mix-down run on their own thread, a few blocks ahead of the spectra:
    // with both files aligned at once that is four threads, so two cores stay busy even
    // when one file's decoder (AAC) costs far more than the other's (PCM).
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<f32>>>(8);
    std::thread::scope(|scope| {
        // Owned here, so that it is dropped (and a producer blocked on a full channel released)
        // as soon as this closure returns, before the scope joins the producer.
        let rx = rx;
        scope.spawn(move || {
            let mut buf: Vec<Vec<f32>> = Vec::new();
            loop {
                let got = match source.read(&mut buf, 8192) {
                    Ok(0) => return,
                    Ok(n) => n,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let mut block = vec![0.0f32; got];
                for (c, w) in buf.iter().zip(weights) {
                    if *w == 0.0 {
                        continue;
                    }
                    for (m, &x) in block.iter_mut().zip(&c[..got]) {
                        // Non-finite samples count as silence (they are a finding of `check`).
                        *m += if x.is_finite() { x * w } else { 0.0 };
                    }
                }
                if tx.send(Ok(block)).is_err() {
                    return; // the consumer stopped
                }
            }
        });
        while !done {
            match rx.recv() {
                Err(_) => {
                    done = true;
                    // Pad so the last hops see zeros past the end.
                    mono.extend(std::iter::repeat_n(0.0, nl));
                }
                Ok(Err(e)) => return Err(e),
                Ok(Ok(block)) => {
                    frames += block.len() as u64;
                    mono.extend_from_slice(&block);
                }
            }
            loop {
                let hop_start = (k as f64 * hop_f).floor() as u64;
                if hop_start >= frames {
                    break;
                }
                let lo = (long_start(k) - base) as usize;
                if lo + nl > mono.len() {
                    break;
                }
                if (k as usize) < classify_hops {
                    let off = (hop_start + pad as u64 - base) as usize;
                    scratch_in.copy_from_slice(&mono[off..off + n]);
                    for (x, w) in scratch_in.iter_mut().zip(&window) {
                        *x *= w;
                    }
                    fft.process(&mut scratch_in, &mut spectrum)
                        .expect("buffer sizes from the plan");
                    let scale = 2.0 / (win_power * n as f64);
                    let mut total = 0.0f64;
                    let mut peak = (0usize, 0.0f64);
                    for (i, c) in spectrum.iter().enumerate() {
                        let p = f64::from(c.norm_sqr()) * scale;
                        power[i] = p;
                        total += p;
                        if i >= 2 && p > peak.1 {
                            peak = (i, p);
                        }
                    }
                    let around: f64 = power
                        [peak.0.saturating_sub(2)..(peak.0 + 3).min(power.len())]
                        .iter()
                        .sum();
                    kinds.push(if total < SILENT_MEAN_SQUARE {
                        HopKind::Silent
                    } else if around >= TONAL_SHARE * total {
                        HopKind::Tonal
                    } else {
                        HopKind::Content
                    });
                }
                for ((x, w), &m) in scratch_l.iter_mut().zip(&window_l).zip(&mono[lo..lo + nl]) {
                    *x = m * w;
                }
                fft_l
                    .process(&mut scratch_l, &mut spectrum_l)
                    .expect("buffer sizes from the plan");
                let scale_l = 2.0 / (win_power_l * nl as f64);
                let mut row = [0.0f32; NB];
                for (b, &(a, z)) in band_bins.iter().enumerate() {
                    let e: f32 = spectrum_l[a..z].iter().map(|c| c.norm_sqr()).sum();
                    let db = (10.0 * (f64::from(e) * scale_l + 1e-10).log10()) as f32;
                    row[b] = (db - prev[b]).clamp(0.0, ONSET_CAP_DB);
                    prev[b] = db;
                }
                onsets.push(&row);
                k += 1;
            }
            // Drop what no later hop needs.
            let keep_from = long_start(k).saturating_sub(base).min(mono.len() as u64) as usize;
            mono.drain(..keep_from);
            base += keep_from as u64;
        }
        Ok(Features {
            onsets,
            kinds,
            rate_hz: rate,
            frames,
        })
    })
}

/// Lead-in detection: the head of the stream made only of silence, line-up tone and sync
/// pops, when it holds at least one tonal hop, ends at the first content hop. Returns the
/// number of hops of lead-in (0: none). Only the first `max_hops` are looked at.
pub(crate) fn lead_in_hops(kinds: &[HopKind], max_hops: usize) -> usize {
    let mut tonal = 0usize;
    for (i, k) in kinds.iter().take(max_hops).enumerate() {
        match k {
            HopKind::Silent => {}
            HopKind::Tonal => tonal += 1,
            HopKind::Content => return if tonal >= 2 { i } else { 0 },
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::memory::MemorySource;

    #[test]
    fn track_stores_a_byte_per_band_and_hop_to_half_a_step() {
        let mut t = Track::default();
        let hops = 10 * CHUNK_HOPS + 7;
        let value = |i: usize, b: usize| ((i * 7 + b * 13) % 300) as f32 * 0.1 - 2.0;
        for i in 0..hops {
            t.push(&std::array::from_fn(|b| value(i, b)));
        }
        assert_eq!(t.len(), hops);
        // Eleven whole chunks of 4096 × 6 bytes and their 16-byte boxes: nothing else, and no
        // spare capacity from doubling.
        assert_eq!(t.heap_bytes(), 11 * (CHUNK_HOPS * NB + 16));
        for i in [
            0,
            1,
            CHUNK_HOPS - 1,
            CHUNK_HOPS,
            5 * CHUNK_HOPS + 3,
            hops - 1,
        ] {
            for (b, &got) in t.db(i).iter().enumerate() {
                let want = value(i, b).clamp(0.0, ONSET_CAP_DB);
                assert!(
                    (got - want).abs() <= ONSET_STEP_DB / 2.0 + 1e-5,
                    "hop {i} band {b}: {got} dB for {want} dB"
                );
            }
        }
        // The cap is the top code, silence code 0.
        let mut t = Track::default();
        t.push(&[
            ONSET_CAP_DB,
            99.0,
            0.0,
            -5.0,
            ONSET_STEP_DB,
            0.49 * ONSET_STEP_DB,
        ]);
        assert_eq!(t.get(0), [255, 255, 0, 0, 1, 0]);
    }

    #[test]
    fn a_long_stream_keeps_six_bytes_a_hop_and_classes_of_the_head_only() {
        // Ten minutes of noise bursts at 8 kHz: 60 000 hops.
        let rate = 8_000u32;
        let mut seed = 3u32;
        let x: Vec<f32> = (0..rate as usize * 600)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                if (i / 1000) % 3 == 0 {
                    noise
                } else {
                    0.01 * noise
                }
            })
            .collect();
        let mut src = MemorySource::new(rate, vec![x]).unwrap();
        let f = extract(&mut src, &[1.0], 500).unwrap();
        assert_eq!(f.len(), 60_000);
        assert_eq!(f.frames, 4_800_000);
        assert_eq!(f.kinds.len(), 500);
        // 60 000 × 6 bytes = 360 000, in 15 chunks of 24 576 (the last one partly used).
        assert_eq!(f.onsets.heap_bytes(), 15 * (CHUNK_HOPS * NB + 16));
        assert!(f.onsets.heap_bytes() <= NB * f.len() + (CHUNK_HOPS * NB + 16) * 2);
    }

    #[test]
    fn tone_then_content_is_a_lead_in_and_onsets_mark_attacks() {
        let rate = 48_000u32;
        let mut x = vec![0.0f32; rate as usize * 6];
        // 2 s of 1 kHz tone at −20 dBFS, 1 s silence, then noise bursts every 0.5 s.
        for (i, v) in x.iter_mut().enumerate().take(rate as usize * 2) {
            *v = 0.1 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate as f32).sin();
        }
        let mut seed = 1u32;
        for burst in 0..6 {
            let s = rate as usize * 3 + burst * rate as usize / 2;
            for v in &mut x[s..s + 2400] {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *v = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            }
        }
        let mut src = MemorySource::new(rate, vec![x]).unwrap();
        let f = extract(&mut src, &[1.0], usize::MAX).unwrap();
        assert_eq!(f.len(), 600);
        let lead = lead_in_hops(&f.kinds, 6000);
        // The first content hop's 512-sample frame reaches into the burst at 3.0 s.
        assert!((297..=300).contains(&lead), "lead-in {lead} hops");
        // Bursts start at hops 300, 350, …, 550 (the frame of hop 299 already reaches 32
        // samples in): an onset of ≥ 60 dB summed over the bands within two hops of each, and
        // none in the digital silence between them.
        let strength = |i: usize| f.onsets.db(i).iter().sum::<f32>();
        for b in 0..6 {
            let h = 300 + 50 * b;
            let m = (h - 2..=h).map(strength).fold(0.0f32, f32::max);
            assert!(m >= 60.0, "burst {b}: onset {m}");
        }
        for b in 0..5 {
            for i in (306 + 50 * b)..(297 + 50 * (b + 1)) {
                assert_eq!(strength(i), 0.0, "hop {i}");
            }
        }
    }
}
