//! Reading the program: the head, tail and body windows as weighted mono mixes (at the
//! program's rate and the analysis rate, with their coarse spectra and onset envelopes), and
//! the null baseline from the body.

use super::*;

/// Body windows read for the null baseline.
const BODY_WINDOWS: usize = 3;

/// A window of the program, mono mix, zero-padded.
pub(super) struct Window {
    /// Program frame of `full[0]` of every mix (negative: padding before the file's start).
    pub(super) origin: i64,
    pub(super) mixes: Vec<Mix>,
    pub(super) start_frame: u64,
    pub(super) end_frame: u64,
}

/// One mix of a window's channels: at the program's rate and at the analysis rate.
pub(super) struct Mix {
    pub(super) full: Vec<f32>,
    /// At the analysis rate.
    pub(super) coarse: Vec<f32>,
    pub(super) spectra: Spectra,
    /// Its onset envelope (see [`speed`]) and the envelope's spectra.
    pub(super) env: Vec<f32>,
    pub(super) env_spectra: Spectra,
}

/// The channel mixes searched: every channel but LFE, and for more than two channels also the
/// front pair and the centre alone (an ident in C only would be buried under four channels of
/// program in the full mix).
pub(super) fn mix_weights(labels: &[String], channels: usize) -> Vec<Vec<f32>> {
    let pick = |names: &[&str]| -> Vec<f32> {
        (0..channels)
            .map(|c| {
                let l = labels.get(c).map(String::as_str).unwrap_or("");
                if names.contains(&l) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    };
    let all: Vec<f32> = (0..channels)
        .map(|c| {
            let lfe = labels.get(c).is_some_and(|l| l == "LFE") && channels > 1;
            if lfe {
                0.0
            } else {
                1.0
            }
        })
        .collect();
    let mut out = vec![all];
    if channels > 2 {
        for names in [&["L", "R"][..], &["C"][..]] {
            let w = pick(names);
            if w.iter().any(|&v| v > 0.0) && !out.contains(&w) {
                out.push(w);
            }
        }
    }
    out
}

/// Read `frames` frames from `start` of every channel (zeros outside the file).
pub(super) fn read_channels(
    source: &mut dyn AudioSource,
    start: i64,
    frames: usize,
    total: u64,
) -> Result<Vec<Vec<f32>>> {
    let ch = source.info().channels;
    let mut out = vec![vec![0.0f32; frames]; ch];
    let first = start.max(0) as u64;
    let last = (start + frames as i64).clamp(0, total as i64) as u64;
    if last <= first {
        return Ok(out);
    }
    source.seek(first)?;
    let mut pos = (first as i64 - start) as usize;
    let want = (last - first) as usize;
    let mut got = 0;
    let mut buf = Vec::new();
    while got < want {
        let n = source.read(&mut buf, (want - got).min(1 << 16))?;
        if n == 0 {
            break;
        }
        for (dst, src) in out.iter_mut().zip(&buf) {
            dst[pos..pos + n].copy_from_slice(&src[..n]);
        }
        pos += n;
        got += n;
    }
    Ok(out)
}

/// Shortest and longest coarse template and envelope of all references over
/// [`speed::SPEED_RANGE`]: `((n_min, n_max), (env_min, env_max))`.
pub(super) fn template_range(prepared: &[Prepared]) -> ((usize, usize), (usize, usize)) {
    let (lo, hi) = speed::SPEED_RANGE;
    let range = |lens: &mut dyn Iterator<Item = usize>| {
        let lens: Vec<usize> = lens.collect();
        let min = lens.iter().min().copied().unwrap_or(1);
        let max = lens.iter().max().copied().unwrap_or(1);
        (
            ((min as f64 / hi).floor() as usize).max(1),
            (max as f64 / lo).ceil() as usize + 2,
        )
    };
    (
        range(&mut prepared.iter().map(|p| p.coarse.len())),
        range(&mut prepared.iter().map(|p| p.env.len())),
    )
}

/// Read program frames `[start, end)` as weighted mono mixes, with `front` and `back` zeros.
pub(super) fn read_mixes(
    source: &mut dyn AudioSource,
    (start, end): (u64, u64),
    (front, back): (usize, usize),
    mixes: &[Vec<f32>],
) -> Result<Vec<Vec<f32>>> {
    let want = end.saturating_sub(start) as usize;
    let mut xs = vec![vec![0.0f32; front + want + back]; mixes.len()];
    if want == 0 {
        return Ok(xs);
    }
    source.seek(start)?;
    let mut pos = front;
    let mut got = 0;
    let mut buf = Vec::new();
    while got < want {
        let n = source.read(&mut buf, (want - got).min(1 << 16))?;
        if n == 0 {
            break;
        }
        for (x, weights) in xs.iter_mut().zip(mixes) {
            for (c, src) in buf.iter().enumerate() {
                let wgt = weights.get(c).copied().unwrap_or(1.0);
                if wgt == 0.0 {
                    continue;
                }
                for (d, s) in x[pos..pos + n].iter_mut().zip(&src[..n]) {
                    *d += wgt * s;
                }
            }
        }
        pos += n;
        got += n;
    }
    Ok(xs)
}

/// Read a window's mixes and prepare their coarse spectra. The window is extended by `pad` at
/// both ends: with program where there is some (so an ident at the window's inner edge is not
/// seen as cut), with zeros beyond the file's ends (so an ident cut by the file's start or end
/// still aligns).
#[allow(clippy::too_many_arguments)] // private; grouped by meaning
pub(super) fn read_window(
    source: &mut dyn AudioSource,
    eng: &mut Engine,
    (start, end): (u64, u64),
    pad: usize,
    total: u64,
    mixes: &[Vec<f32>],
    ((n_min, n_max), (e_min, e_max)): ((usize, usize), (usize, usize)),
    (rate, ar): (u32, u32),
) -> Result<Window> {
    let read_start = start.saturating_sub(pad as u64);
    let read_end = end.saturating_add(pad as u64).min(total.max(end));
    let front = pad - (start - read_start) as usize;
    let back = pad - (read_end - end) as usize;
    let fulls = read_mixes(source, (read_start, read_end), (front, back), mixes)?;
    let coarse = reference::resample(&fulls, u64::from(rate), u64::from(ar))?;
    let mixes = fulls
        .into_iter()
        .zip(coarse)
        .map(|(full, coarse)| {
            let env = speed::envelope(&coarse, ar);
            Mix {
                spectra: Spectra::new(&mut eng.planner, &coarse, n_max, n_min),
                env_spectra: Spectra::new(&mut eng.planner, &env, e_max, e_min),
                env,
                coarse,
                full,
            }
        })
        .collect();
    Ok(Window {
        origin: read_start as i64 - front as i64,
        mixes,
        start_frame: start,
        end_frame: end,
    })
}

/// The best coarse |NCC| of each reference (any speed) in a few body windows.
pub(super) fn body_null(
    source: &mut dyn AudioSource,
    eng: &mut Engine,
    prepared: &[Prepared],
    mixes: &[Vec<f32>],
    (body_start, body_end): (u64, u64),
    longest: usize,
    ar: u32,
) -> Result<Vec<Option<f64>>> {
    let rate = source.info().sample_rate_hz;
    let len = (longest + longest / 2 + 2 * rate as usize) as u64;
    let mut nulls = vec![None; prepared.len()];
    if body_end <= body_start || body_end - body_start < len {
        return Ok(nulls);
    }
    let span = body_end - body_start - len;
    for k in 0..BODY_WINDOWS {
        // Evenly spread, away from the windows (a deterministic choice: reports are repeatable).
        let s = body_start + span * (2 * k as u64 + 1) / (2 * BODY_WINDOWS as u64);
        let win = read_window(
            source,
            eng,
            (s, s + len),
            0,
            body_end,
            mixes,
            template_range(prepared),
            (rate, ar),
        )?;
        for (i, p) in prepared.iter().enumerate() {
            for mix in &win.mixes {
                // The same speed search as in the windows, so that the baseline has had as
                // many chances to match as the window.
                let (_, _, ncc) = speed_search(eng, mix, p, ar)?;
                let best = ncc.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let cur = nulls[i].unwrap_or(0.0f64);
                nulls[i] = Some(cur.max(f64::from(best)));
            }
        }
    }
    Ok(nulls)
}
