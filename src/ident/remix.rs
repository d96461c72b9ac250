//! Remix: which program channels carry the ident, whether they carry the reference's channels
//! in order (swaps, replaced channels, opposite polarities), and the ident's gain.

use super::*;

/// A channel carries the ident when its NCC with a template reaches this.
const CHANNEL_CARRIES: f64 = 0.4;

/// Per-channel check at the found lag: which channels carry the ident, whether they carry the
/// reference's channels in order, and the gain (least squares of each carrying channel on its
/// template over the matching pieces within the span). Returns (channels_match, carrier labels, gain, notes).
pub(super) fn channel_check(
    chans: &[Vec<f32>],
    templates: &[Vec<f32>],
    weights: &[f32],
    labels: &[String],
    ranges: &[(usize, usize)],
    sign: f64,
) -> (Option<bool>, Vec<String>, Option<f64>, Vec<String>) {
    let ref_ch = templates.len() - 1;
    let label = |c: usize| {
        labels
            .get(c)
            .cloned()
            .unwrap_or_else(|| format!("ch{}", c + 1))
    };
    // The matching pieces only: a replaced section says nothing about channels or level.
    let span = |v: &[f32]| -> Vec<f32> {
        ranges
            .iter()
            .flat_map(|&(a, z)| v[a.min(v.len())..z.min(v.len())].iter().copied())
            .collect()
    };
    let tm: Vec<Vec<f32>> = templates.iter().map(|t| span(t)).collect();
    let te: Vec<f64> = tm.iter().map(|t| dot(t, t)).collect();
    let ncc = |x: &[f32], ti: usize| -> f64 {
        let ex = dot(x, x);
        if ex <= 0.0 || te[ti] <= 0.0 {
            0.0
        } else {
            dot(x, &tm[ti]) / (ex * te[ti]).sqrt()
        }
    };
    // rho[c][j]: program channel c against template j (the last is the downmix).
    let xs: Vec<Vec<f32>> = chans.iter().map(|c| span(c)).collect();
    let rho: Vec<Vec<f64>> = xs
        .iter()
        .map(|x| (0..=ref_ch).map(|j| ncc(x, j)).collect())
        .collect();
    let carries: Vec<bool> = rho
        .iter()
        .enumerate()
        .map(|(c, r)| {
            weights.get(c).copied().unwrap_or(1.0) > 0.0
                && r.iter().any(|v| sign * v >= CHANNEL_CARRIES)
        })
        .collect();
    let carriers: Vec<String> = (0..chans.len())
        .filter(|&c| carries[c])
        .map(label)
        .collect();
    // Each carrier's template: its own reference channel when it is one of the paired ones
    // (L/R of a stereo reference in L/R of the program), else the best-matching template.
    let paired = ref_ch >= 2 && chans.len() >= 2;
    let mut notes = Vec::new();
    let ref_distinct = paired && {
        let (a, bb) = (&tm[0], &tm[1]);
        let (ea, eb) = (te[0], te[1]);
        ea > 0.0 && eb > 0.0 && dot(a, bb) / (ea * eb).sqrt() < 0.98
    };
    let k = ref_ch.min(chans.len());
    // The reference channel each program channel should carry when it carries the ident: its
    // own for the same layout and for the first `k` channels; for a stereo reference in a
    // wider programme, by label, the left one in every left channel (L, Ls, Lrs…) and the
    // right one in every right channel; none (any, or the fold) in C and the others.
    let expected = |c: usize| -> Option<usize> {
        if c < k {
            return Some(c);
        }
        if ref_ch == 2 && chans.len() > 2 {
            let l = label(c);
            if l == "LFE" || l.starts_with("LFE") {
                None
            } else if l.starts_with('L') {
                Some(0)
            } else if l.starts_with('R') {
                Some(1)
            } else {
                None
            }
        } else {
            None
        }
    };
    let paired_carry = paired && (0..chans.len()).any(|c| carries[c] && expected(c).is_some());
    let mut ok = true;
    if ref_distinct && paired_carry {
        for c in 0..chans.len() {
            if weights.get(c).copied().unwrap_or(1.0) == 0.0 {
                continue;
            }
            let Some(want) = expected(c) else { continue };
            let (jbest, vbest) =
                rho[c][..ref_ch]
                    .iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |acc, (j, &v)| {
                        if sign * v > acc.1 {
                            (j, sign * v)
                        } else {
                            acc
                        }
                    });
            if !carries[c] || vbest < CHANNEL_CARRIES {
                // Only the paired channels must carry it (a stereo ident need not be in the
                // surrounds).
                if c < k {
                    ok = false;
                    notes.push(format!(
                        "channel {} no longer carries the reference's channel {}",
                        label(c),
                        want + 1
                    ));
                }
            } else if jbest != want {
                ok = false;
                notes.push(format!(
                    "channel {} carries the reference's channel {} instead of {} (channels swapped)",
                    label(c),
                    jbest + 1,
                    want + 1
                ));
            }
        }
    }
    // Polarity must agree across carriers.
    let signs: Vec<f64> = (0..chans.len())
        .filter(|&c| carries[c])
        .map(|c| {
            let v = rho[c]
                .iter()
                .fold(0.0f64, |a, &v| if v.abs() > a.abs() { v } else { a });
            v.signum()
        })
        .collect();
    if signs.windows(2).any(|w| w[0] != w[1]) {
        ok = false;
        notes.push("channels carry the ident in opposite polarities".into());
    }
    // Gain: Σ x·t / Σ t² over carriers, each with its template.
    let (mut xy, mut yy) = (0.0, 0.0);
    for c in 0..chans.len() {
        if !carries[c] {
            continue;
        }
        // The template this channel carries best (its own reference channel, unless swapped
        // or folded down).
        let j = (0..=ref_ch)
            .max_by(|&a, &bb| (sign * rho[c][a]).total_cmp(&(sign * rho[c][bb])))
            .unwrap_or(ref_ch);
        xy += dot(&xs[c], &tm[j]);
        yy += te[j];
    }
    let gain = (yy > 0.0 && !carriers.is_empty()).then(|| xy / yy);
    let decided = if carriers.is_empty() { None } else { Some(ok) };
    (decided, carriers, gain, notes)
}
