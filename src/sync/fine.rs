//! The fine pass: each candidate line re-measured on the raw signals, to a fraction of a
//! sample, from short windows read again by seeking.

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

use super::align::Line;
use super::features::FEATURE_RATE_HZ;
use super::MAX_FINE;
use crate::decode::AudioSource;
use crate::error::Result;

/// Length of a fine window, seconds.
const WINDOW_S: f64 = 1.0;
/// Search either side of the line, seconds (the feature pass is good to a hop or two).
const MARGIN_S: f64 = 0.05;
/// A window counts from this normalised correlation.
const MIN_SCORE: f64 = 0.3;
/// Windows stay this far from a section's ends, seconds.
const EDGE_S: f64 = 1.0;

/// Mono mix of `len` frames from `frame` (short at the end of the stream: zero-padded).
fn read_mono(
    src: &mut dyn AudioSource,
    weights: &[f32],
    frame: u64,
    len: usize,
) -> Result<Vec<f32>> {
    src.seek(frame)?;
    let mut out = Vec::with_capacity(len);
    let mut buf = Vec::new();
    while out.len() < len {
        let want = (len - out.len()).min(65_536);
        let got = src.read(&mut buf, want)?;
        if got == 0 {
            break;
        }
        let start = out.len();
        out.resize(start + got, 0.0);
        for (c, w) in buf.iter().zip(weights) {
            if *w == 0.0 {
                continue;
            }
            for (o, &x) in out[start..].iter_mut().zip(&c[..got]) {
                *o += if x.is_finite() { x * w } else { 0.0 };
            }
        }
    }
    out.resize(len, 0.0);
    Ok(out)
}

/// Best placement of `x` inside `y` (normalised correlation at every lag, parabolic peak):
/// (position in `y`, in samples, fractional; score).
fn place(x: &[f32], y: &[f32]) -> Option<(f64, f64)> {
    if y.len() < x.len() || x.is_empty() {
        return None;
    }
    let n = (x.len() + y.len()).next_power_of_two();
    let mut planner = RealFftPlanner::<f32>::new();
    let fwd = planner.plan_fft_forward(n);
    let inv = planner.plan_fft_inverse(n);
    let mut bx = fwd.make_input_vec();
    bx[..x.len()].copy_from_slice(x);
    let mut by = fwd.make_input_vec();
    by[..y.len()].copy_from_slice(y);
    let mut sx = fwd.make_output_vec();
    let mut sy = fwd.make_output_vec();
    fwd.process(&mut bx, &mut sx).ok()?;
    fwd.process(&mut by, &mut sy).ok()?;
    let mut prod: Vec<Complex<f32>> = sx.iter().zip(&sy).map(|(a, b)| a.conj() * b).collect();
    prod[0].im = 0.0;
    let last = prod.len() - 1;
    prod[last].im = 0.0;
    let mut c = inv.make_output_vec();
    inv.process(&mut prod, &mut c).ok()?;
    let ex: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    if ex <= 1e-12 {
        return None;
    }
    let mut prefix = Vec::with_capacity(y.len() + 1);
    prefix.push(0.0f64);
    for &v in y {
        let last = *prefix.last().expect("non-empty");
        prefix.push(last + f64::from(v) * f64::from(v));
    }
    let lags = y.len() - x.len() + 1;
    let ncc: Vec<f64> = (0..lags)
        .map(|p| {
            let ey = (prefix[p + x.len()] - prefix[p]).max(0.0);
            if ey <= 1e-12 {
                0.0
            } else {
                f64::from(c[p]) / n as f64 / (ex * ey).sqrt()
            }
        })
        .collect();
    let (p, &v) = ncc.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let frac = if p > 0 && p + 1 < lags {
        let (a, b, c) = (ncc[p - 1], v, ncc[p + 1]);
        let den = a - 2.0 * b + c;
        if den < 0.0 {
            (0.5 * (a - c) / den).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    } else {
        0.0
    };
    Some((p as f64 + frac, v))
}

/// Re-measure every line from raw windows inside its aligned spans `(start_s, end_s, line)`.
/// `activity(h0, h1)` (how busy the audio is over feature hops `h0..h1`) picks busy places.
/// Lines without a usable window keep their feature-level values.
pub(crate) fn refine(
    audio: &mut dyn AudioSource,
    reference: &mut dyn AudioSource,
    wa: &[f32],
    wr: &[f32],
    lines: &[Line],
    spans: &[(f64, f64, usize)],
    activity: &dyn Fn(usize, usize) -> f32,
) -> Result<Vec<Line>> {
    let total: f64 = spans
        .iter()
        .map(|s| (s.1 - s.0 - 2.0 * EDGE_S).max(0.0))
        .sum();
    if total <= WINDOW_S {
        return Ok(lines.to_vec());
    }
    // Window places: each span gets its share of MAX_FINE strata (at least one); in each
    // stratum the busiest second.
    let mut places: Vec<(f64, usize)> = Vec::new();
    for &(s, e, j) in spans {
        let usable = e - s - 2.0 * EDGE_S - WINDOW_S;
        if usable <= 0.0 {
            continue;
        }
        let k = ((usable / total * MAX_FINE as f64).round() as usize).max(1);
        for i in 0..k {
            let lo = s + EDGE_S + usable * i as f64 / k as f64;
            let hi = s + EDGE_S + usable * (i + 1) as f64 / k as f64;
            let busiest = (0..)
                .map(|q| lo + q as f64 * 0.25)
                .take_while(|&t| t <= hi)
                .max_by(|&x, &y| {
                    let act = |t: f64| {
                        let h0 = (t * FEATURE_RATE_HZ) as usize;
                        let h1 = ((t + WINDOW_S) * FEATURE_RATE_HZ) as usize;
                        activity(h0, h1)
                    };
                    act(x).total_cmp(&act(y))
                })
                .unwrap_or(lo);
            places.push((busiest, j));
        }
    }
    // Two rounds: the feature-level drift is only good to a hop over the anchors' spread
    // (hundreds of ppm on a minute), and the reference is read along the line, so a wrong
    // drift stretches each window against the other by several samples and scatters the
    // placements. The first round's drift (good to a few ppm) makes the second round exact.
    let found = measure(audio, reference, wa, wr, lines, &places)?;
    if found.is_empty() {
        return Ok(lines.to_vec());
    }
    let first = fit(&found, lines);
    let found = measure(audio, reference, wa, wr, &first, &places)?;
    if found.is_empty() {
        return Ok(first);
    }
    Ok(fit(&found, &first))
}

/// Place the raw window of the audio at each of `places` `(t, line)` in the reference, read
/// along its line: `(window centre in the audio, lag, line)` per usable window.
fn measure(
    audio: &mut dyn AudioSource,
    reference: &mut dyn AudioSource,
    wa: &[f32],
    wr: &[f32],
    lines: &[Line],
    places: &[(f64, usize)],
) -> Result<Vec<(f64, f64, usize)>> {
    let ra = f64::from(audio.info().sample_rate_hz);
    let rr = f64::from(reference.info().sample_rate_hz);
    let len_a = (WINDOW_S * ra).round() as usize;
    // (t, lag, line) per usable window.
    let mut found: Vec<(f64, f64, usize)> = Vec::new();
    for &(t, j) in places {
        let a0 = (t * ra).round() as u64;
        // A source that cannot seek back (a reader that fails the seek) loses its fine
        // windows, not the alignment: the line keeps its feature-level values (±5 ms).
        let Ok(x) = read_mono(audio, wa, a0, len_a) else {
            continue;
        };
        let ta = a0 as f64 / ra;
        // The window and its margins span (1 − drift) times as long in the reference: 4 % more
        // or less at a PAL speed change.
        let d = lines[j].drift;
        let tc = ta + WINDOW_S / 2.0;
        let pred_r = tc - lines[j].lag(tc) - (WINDOW_S / 2.0 + MARGIN_S) * (1.0 - d);
        if pred_r < 0.0 {
            continue;
        }
        let r0 = (pred_r * rr).floor() as u64;
        let len_r = ((WINDOW_S + 2.0 * MARGIN_S) * (1.0 - d) * rr).ceil() as usize + 2;
        let Ok(y) = read_mono(reference, wr, r0, len_r) else {
            continue;
        };
        // The reference read at the audio's rate along the line: linear interpolation at a
        // stride of (1 − drift) reference periods per audio period, so neither a rate
        // difference nor the drift smears the correlation peak (1000 ppm is 1 ms across a
        // window: enough to decorrelate everything above a few hundred hertz).
        let step = (1.0 - lines[j].drift) * rr / ra;
        let n_out = ((len_r.saturating_sub(2)) as f64 / step).floor() as usize;
        let y: Vec<f32> = (0..n_out)
            .map(|k| {
                let pos = k as f64 * step;
                let i = pos.floor() as usize;
                let f = (pos - i as f64) as f32;
                y[i] * (1.0 - f) + y[(i + 1).min(y.len() - 1)] * f
            })
            .collect();
        if let Some((p, score)) = place(&x, &y) {
            if score >= MIN_SCORE {
                let ic = len_a as f64 / 2.0;
                let tc = ta + ic / ra;
                let tr = r0 as f64 / rr + (p + ic) * step / rr;
                found.push((tc, tc - tr, j));
            }
        }
    }
    Ok(found)
}

/// One drift and one offset per line from the placed windows: Theil–Sen, then least squares
/// on the windows near that robust line. Lines without a window keep their offset.
fn fit(found: &[(f64, f64, usize)], lines: &[Line]) -> Vec<Line> {
    // Drift: Theil–Sen over same-line pairs at least 5 s apart; offsets: medians.
    let mut slopes: Vec<f64> = Vec::new();
    for (i, p) in found.iter().enumerate() {
        for q in &found[i + 1..] {
            if p.2 == q.2 && (q.0 - p.0).abs() >= 5.0 {
                slopes.push((q.1 - p.1) / (q.0 - p.0));
            }
        }
    }
    let median = |v: &mut Vec<f64>| -> Option<f64> {
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        Some(if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        })
    };
    let drift0 = median(&mut slopes).unwrap_or(lines.first().map_or(0.0, |l| l.drift));
    let offset0: Vec<Option<f64>> = (0..lines.len())
        .map(|j| {
            let mut v: Vec<f64> = found
                .iter()
                .filter(|f| f.2 == j)
                .map(|f| f.1 - drift0 * f.0)
                .collect();
            median(&mut v)
        })
        .collect();
    // Then least squares on the windows within 0.5 ms of that robust line (the long baseline
    // gives the drift to a fraction of a ppm): one slope, one intercept per line.
    let inliers: Vec<&(f64, f64, usize)> = found
        .iter()
        .filter(|f| offset0[f.2].is_some_and(|o| (f.1 - o - drift0 * f.0).abs() <= 5e-4))
        .collect();
    let mut means = vec![(0.0f64, 0.0f64, 0usize); lines.len()];
    for f in &inliers {
        let m = &mut means[f.2];
        m.0 += f.0;
        m.1 += f.1;
        m.2 += 1;
    }
    for m in means.iter_mut().filter(|m| m.2 > 0) {
        m.0 /= m.2 as f64;
        m.1 /= m.2 as f64;
    }
    let (mut stt, mut stl) = (0.0, 0.0);
    for f in &inliers {
        let m = means[f.2];
        stt += (f.0 - m.0).powi(2);
        stl += (f.0 - m.0) * (f.1 - m.1);
    }
    let drift = if slopes.is_empty() || stt < 25.0 {
        drift0
    } else {
        stl / stt
    };
    lines
        .iter()
        .enumerate()
        .map(|(j, l)| match (means[j].2, offset0[j]) {
            (n, _) if n > 0 => Line {
                offset: means[j].1 - drift * means[j].0,
                drift,
            },
            (_, Some(o)) => Line { offset: o, drift },
            _ => Line {
                offset: l.offset,
                drift,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_finds_a_fractional_shift() {
        let mut seed = 7u32;
        let y: Vec<f32> = (0..4000)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        let x = y[1234..1234 + 1000].to_vec();
        let (p, s) = place(&x, &y).unwrap();
        // f32 FFT rounding moves the parabolic peak by ~1e-4 sample.
        assert!((p - 1234.0).abs() < 1e-3, "{p}");
        assert!(s > 0.999);
    }
}
