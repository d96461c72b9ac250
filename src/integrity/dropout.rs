//! Drop-outs: runs of digital zero with live edges.

use super::dsp::sum_sq;
use super::{ChannelState, Dropout, IntegrityScanner, MAX_LISTED};

impl IntegrityScanner {
    /// Zero runs of every channel in this block.
    pub(super) fn dropouts(&mut self, block: &[&[f32]]) {
        let base = self.frames;
        let (edge, min_run, lvl) = (self.edge, self.min_run, self.edge_level_ms);
        for (c, (st, x)) in self.ch.iter_mut().zip(block).enumerate() {
            let x: &[f32] = x;
            // Finish a pending trailing edge first.
            if let Some((s, e, before, mut acc, mut got)) = st.pending.take() {
                let take = (edge - got).min(x.len());
                acc += sum_sq(&x[..take]);
                got += take;
                if got < edge {
                    st.pending = Some((s, e, before, acc, got));
                } else {
                    keep_dropout(st, c, s, e, before, acc / edge as f64, lvl);
                }
            }
            // Jump from edge to edge of the zero runs.
            let mut i = 0;
            while i < x.len() {
                match st.run_start {
                    None => match find(&x[i..], true) {
                        Some(k) => {
                            i += k;
                            st.run_start = Some(base + i as u64);
                            st.run_before = None;
                        }
                        None => break,
                    },
                    Some(s) => match find(&x[i..], false) {
                        Some(k) => {
                            i += k;
                            st.run_start = None;
                            end_run(st, c, s, base + i as u64, x, i, edge, min_run, lvl);
                        }
                        None => break,
                    },
                }
                i += 1;
            }
            // A run still open and long enough: measure its leading edge before the block
            // (and the tail of the one before) is gone.
            if let (Some(s), None) = (st.run_start, st.run_before) {
                st.run_before = leading_edge(&st.tail, x, base, s, edge);
            }
            // Keep the last `edge` samples, across short blocks too.
            if x.len() >= edge {
                st.tail.clear();
                st.tail.extend_from_slice(&x[x.len() - edge..]);
            } else {
                st.tail.extend_from_slice(x);
                let extra = st.tail.len().saturating_sub(edge);
                st.tail.drain(..extra);
            }
        }
    }
}

/// Index of the first sample of `x` that is exactly zero (`zero`), or that is not (`!zero`):
/// 16 samples at a time (vectorisable), then one by one inside the 16 that hold it. Most blocks
/// of programme have no zero sample, so this is most of the drop-out scan's cost.
fn find(x: &[f32], zero: bool) -> Option<usize> {
    let hit = |v: f32| (v == 0.0) == zero;
    let mut it = x.chunks_exact(16);
    let mut at = 0;
    for c in &mut it {
        if c.iter().fold(false, |a, &v| a | hit(v)) {
            return c.iter().position(|&v| hit(v)).map(|k| at + k);
        }
        at += 16;
    }
    it.remainder().iter().position(|&v| hit(v)).map(|k| at + k)
}

/// RMS² of the `edge` samples before frame `s` (in this block `x` at `base`, or the previous
/// block's `tail`). `None` when the run starts the stream.
pub(super) fn leading_edge(tail: &[f32], x: &[f32], base: u64, s: u64, edge: usize) -> Option<f64> {
    if s == 0 {
        return None;
    }
    if s >= base {
        let i = (s - base) as usize;
        let from_block = &x[i.saturating_sub(edge)..i];
        let need = edge - from_block.len();
        let from_tail = &tail[tail.len().saturating_sub(need)..];
        let n = from_block.len() + from_tail.len();
        Some((sum_sq(from_block) + sum_sq(from_tail)) / n.max(1) as f64)
    } else {
        // Started before this block: its edge was measured then (or the run is too old to
        // matter); treat as unknown.
        None
    }
}

/// A zero run `[s, f)` ended at index `i` of block `x` (frame `f`).
#[allow(clippy::too_many_arguments)]
pub(super) fn end_run(
    st: &mut ChannelState,
    c: usize,
    s: u64,
    f: u64,
    x: &[f32],
    i: usize,
    edge: usize,
    min_run: u64,
    lvl: f64,
) {
    let before = st.run_before.take();
    if f - s < min_run || s == 0 {
        return;
    }
    let base = f - i as u64;
    let before = match before {
        Some(b) => b,
        None => match leading_edge(&st.tail, x, base, s, edge) {
            Some(b) => b,
            None => return,
        },
    };
    let avail = &x[i..(i + edge).min(x.len())];
    let acc = sum_sq(avail);
    if avail.len() < edge {
        st.pending = Some((s, f, before, acc, avail.len()));
    } else {
        keep_dropout(st, c, s, f, before, acc / edge as f64, lvl);
    }
}

pub(super) fn keep_dropout(
    st: &mut ChannelState,
    c: usize,
    s: u64,
    e: u64,
    before: f64,
    after: f64,
    lvl: f64,
) {
    if before < lvl || after < lvl {
        return;
    }
    if st.dropouts.len() < MAX_LISTED {
        let db = |ms: f64| 10.0 * ms.max(1e-30).log10();
        st.dropouts.push(Dropout {
            channel: c,
            start_frame: s,
            end_frame: e,
            before_dbfs: db(before),
            after_dbfs: db(after),
        });
    } else {
        st.dropped += 1;
    }
}
