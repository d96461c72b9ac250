//! The batched forward pass of [`SileroVad`] (issue 17): what the speech gate runs.
//!
//! Everything before the recurrence (STFT, magnitude, encoder and `W_ih · x + b` of the LSTM
//! gates) is independent of the state, so it runs over [`BATCH_CHUNKS`] chunks at once: the
//! STFT as complex FFTs of two frames each (rustfft), the rest as matrix products: on AVX-512
//! by the kernel of [`super::gemm`] on weights packed at load, elsewhere by ndarray →
//! matrixmultiply sgemm (which picks AVX2/FMA kernels at run time). The recurrence `W_hh · h`
//! and the cell update run chunk by chunk, in [`Recurrence`], compiled per instruction set by
//! pulp.

use std::fmt;
use std::sync::Arc;

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};
use rustfft::num_complex::Complex;

use super::gemm::{Avx512, Rows};
use super::{
    sigmoid, ConvLayer, SileroVad, Weights, CHUNK_SAMPLES, CONTEXT_SAMPLES, GATE_BLOCK, HIDDEN,
    HOP, INPUT_LEN, N_BINS, N_FFT, N_FRAMES, PADDED_LEN, STFT_PAD,
};

/// Context + chunk + reflect padding of chunk `pos` of `samples` into `padded`: the context is
/// the previous chunk's tail if it went through the network, `first_context` for chunk 0, and
/// zeros after a reset.
fn fill_padded(
    padded: &mut [f32],
    samples: &[f32],
    pos: usize,
    prev_active: bool,
    first_context: &[f32; CONTEXT_SAMPLES],
) {
    let chunk = |i: usize| &samples[i * CHUNK_SAMPLES..(i + 1) * CHUNK_SAMPLES];
    if pos == 0 {
        padded[..CONTEXT_SAMPLES].copy_from_slice(first_context);
    } else if prev_active {
        padded[..CONTEXT_SAMPLES]
            .copy_from_slice(&chunk(pos - 1)[CHUNK_SAMPLES - CONTEXT_SAMPLES..]);
    } else {
        padded[..CONTEXT_SAMPLES].fill(0.0);
    }
    padded[CONTEXT_SAMPLES..INPUT_LEN].copy_from_slice(chunk(pos));
    for j in 0..STFT_PAD {
        padded[INPUT_LEN + j] = padded[INPUT_LEN - 2 - j];
    }
}

impl SileroVad {
    pub(super) fn run_batched(
        &mut self,
        samples: &[f32],
        active: impl Fn(usize) -> bool,
        probs: &mut [f32],
    ) {
        let n = probs.len();
        if n == 0 {
            return;
        }
        let w = &*self.weights;
        let b = self.batch.get_or_insert_with(BatchScratch::new);
        let chunk = |i: usize| &samples[i * CHUNK_SAMPLES..(i + 1) * CHUNK_SAMPLES];
        let mut i = 0;
        while i < n {
            // Gather up to BATCH_CHUNKS active chunks from i on; chunks i..end are walked below.
            let mut rows = 0;
            let mut end = i;
            while end < n && rows < BATCH_CHUNKS {
                if active(end) {
                    let padded = &mut b.padded[rows * PADDED_LEN..(rows + 1) * PADDED_LEN];
                    let prev = end > 0 && active(end - 1);
                    fill_padded(padded, samples, end, prev, &self.context);
                    rows += 1;
                }
                end += 1;
            }
            if rows > 0 {
                b.forward(w, rows, 0);
            }
            pulp::Arch::new().dispatch(Recurrence {
                w,
                gx: &b.gx[..rows * 4 * HIDDEN],
                gates: &mut b.gates,
                h: &mut self.h,
                c: &mut self.c,
                probs: &mut probs[i..end],
                active: |c: usize| active(i + c),
            });
            i = end;
        }
        // The context left for the next call.
        if active(n - 1) {
            self.context
                .copy_from_slice(&chunk(n - 1)[CHUNK_SAMPLES - CONTEXT_SAMPLES..]);
        } else {
            self.context = [0.0; CONTEXT_SAMPLES];
        }
    }
}

/// Streams that [`SileroVad::process_streams_gated`] runs in lockstep at most: the centre, left
/// and right candidates and the LFE probe of a 5.1 or wider programme.
pub const LOCKSTEP_STREAMS: usize = 4;

/// One stream of [`SileroVad::process_streams_gated`]: chunks of 16 kHz audio, which of them
/// go through the network, and where their probabilities go.
pub(crate) struct GatedStream<'a> {
    pub samples: &'a [f32],
    pub active: &'a [bool],
    pub probs: &'a mut [f32],
}

/// The recurrent state of one stream.
#[derive(Clone, Copy)]
struct StreamState {
    h: [f32; HIDDEN],
    c: [f32; HIDDEN],
}

impl SileroVad {
    /// Runs up to [`LOCKSTEP_STREAMS`] independent streams of the same number of chunks, each
    /// from the zero state, exactly as `SileroVad::new().process_chunks_gated(..)` on each
    /// would, to float rounding: the sums of `W_hh · h` run in another order, which depends on
    /// how many streams are active at a chunk (a stream alone takes the one-stream kernel), so
    /// a stream's probabilities move by about 1e-6 with the other streams' pre-gating. They
    /// never depend on the number of threads or on how the input was pushed. This detector's
    /// own state is neither used nor changed; its weights and buffers are.
    ///
    /// The streams step through the recurrence together: each row of `W_hh` is loaded once
    /// for all of them, so the product runs at the multiply-add rate instead of the rate the
    /// L2 cache streams the 256 KB matrix (issue 17: the recurrence was a sixth of the
    /// default check, one stream at a time).
    ///
    /// # Panics
    /// If there are more than [`LOCKSTEP_STREAMS`] streams, or a stream's lengths do not match
    /// the first's.
    pub(crate) fn process_streams_gated(&mut self, streams: &mut [GatedStream<'_>]) {
        assert!(streams.len() <= LOCKSTEP_STREAMS, "too many streams");
        let Some(n) = streams.first().map(|s| s.active.len()) else {
            return;
        };
        for s in streams.iter() {
            assert_eq!(s.active.len(), n, "stream length");
            assert_eq!(s.samples.len(), n * CHUNK_SAMPLES, "samples length");
            assert_eq!(s.probs.len(), n, "probs length");
        }
        let w = &*self.weights;
        let b = self.batch.get_or_insert_with(BatchScratch::new);
        let mut states = [StreamState {
            h: [0.0; HIDDEN],
            c: [0.0; HIDDEN],
        }; LOCKSTEP_STREAMS];
        let zero_context = [0.0; CONTEXT_SAMPLES];
        for i in (0..n).step_by(BATCH_CHUNKS) {
            let end = (i + BATCH_CHUNKS).min(n);
            // The state-free part of each stream's active chunks in this window.
            let mut rows = [0; LOCKSTEP_STREAMS];
            for (slot, s) in streams.iter().enumerate() {
                for pos in (i..end).filter(|&p| s.active[p]) {
                    let r = rows[slot];
                    let padded = &mut b.padded[r * PADDED_LEN..(r + 1) * PADDED_LEN];
                    let prev = pos > 0 && s.active[pos - 1];
                    fill_padded(padded, s.samples, pos, prev, &zero_context);
                    rows[slot] += 1;
                }
                if rows[slot] > 0 {
                    b.forward(w, rows[slot], slot);
                }
            }
            pulp::Arch::new().dispatch(Lockstep {
                w,
                gx: &b.gx,
                states: &mut states[..streams.len()],
                streams,
                window: i..end,
            });
        }
    }
}

/// The sequential part of a window of chunks of several streams: for each chunk in turn, the
/// gates of the streams active there in one pass over `W_hh` ([`recurrent_gates_lockstep`]),
/// then each one's cell step and decoder; a pre-gated chunk resets its stream.
struct Lockstep<'a, 'b> {
    w: &'a Weights,
    /// Slot `s` (of [`BATCH_CHUNKS`] rows) holds stream `s`'s active chunks of the window.
    gx: &'a [f32],
    states: &'a mut [StreamState],
    streams: &'a mut [GatedStream<'b>],
    window: std::ops::Range<usize>,
}

impl pulp::WithSimd for Lockstep<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        const SLOT: usize = BATCH_CHUNKS * 4 * HIDDEN;
        let mut next_row = [0; LOCKSTEP_STREAMS];
        let mut gates = [[0.0f32; 4 * HIDDEN]; LOCKSTEP_STREAMS];
        for pos in self.window {
            // The active streams at this chunk, and their rows of `gx`.
            let mut act = [0; LOCKSTEP_STREAMS];
            let mut k = 0;
            for (s, (stream, state)) in self
                .streams
                .iter_mut()
                .zip(self.states.iter_mut())
                .enumerate()
            {
                if stream.active[pos] {
                    act[k] = s;
                    k += 1;
                } else {
                    *state = StreamState {
                        h: [0.0; HIDDEN],
                        c: [0.0; HIDDEN],
                    };
                    stream.probs[pos] = 0.0;
                }
            }
            let row = |s: usize, r: usize| &self.gx[s * SLOT + r * 4 * HIDDEN..][..4 * HIDDEN];
            let h = |j: usize| &self.states[act[j]].h;
            if k == 0 {
                continue;
            }
            // The entries past `k` repeat the first active stream's and are not used.
            let rows: [&[f32]; LOCKSTEP_STREAMS] = std::array::from_fn(|j| {
                let s = act[if j < k { j } else { 0 }];
                row(s, next_row[s])
            });
            let hs: [&[f32; HIDDEN]; LOCKSTEP_STREAMS] =
                std::array::from_fn(|j| h(if j < k { j } else { 0 }));
            let whh = &self.w.whh_blocked;
            let [g0, g1, g2, g3] = &mut gates;
            match k {
                1 => recurrent_gates(simd, whh, rows[0], hs[0], g0),
                2 => recurrent_gates_lockstep(
                    simd,
                    whh,
                    [rows[0], rows[1]],
                    [hs[0], hs[1]],
                    [g0, g1],
                ),
                3 => recurrent_gates_lockstep(
                    simd,
                    whh,
                    [rows[0], rows[1], rows[2]],
                    [hs[0], hs[1], hs[2]],
                    [g0, g1, g2],
                ),
                _ => recurrent_gates_lockstep(simd, whh, rows, hs, [g0, g1, g2, g3]),
            }
            for (j, &s) in act[..k].iter().enumerate() {
                let state = &mut self.states[s];
                self.streams[s].probs[pos] = cell(self.w, &gates[j], &mut state.h, &mut state.c);
                next_row[s] += 1;
            }
        }
    }
}

/// `gates[j] = gx[j] + W_hh · h[j]` for `K` streams at once (see [`recurrent_gates`]): every
/// vector of `W_hh` is loaded once and multiplied into all `K` streams' accumulators, four
/// registers of gates per stream at a time (two for four streams of fewer than 16 lanes:
/// eight accumulators and four broadcasts then fit the 16 AVX2 registers). Each stream's sums
/// run over the rows of `W_hh` in order, one chain per register.
#[inline(always)]
fn recurrent_gates_lockstep<S: pulp::Simd, const K: usize>(
    simd: S,
    whh_blocked: &[f32],
    gx: [&[f32]; K],
    h: [&[f32; HIDDEN]; K],
    gates: [&mut [f32; 4 * HIDDEN]; K],
) {
    let gx = gx.map(|g| S::as_simd_f32s(g).0);
    let mut gates = gates.map(|g| S::as_mut_simd_f32s(g).0);
    let per_block = S::as_simd_f32s(&whh_blocked[..GATE_BLOCK]).0.len();
    let regs = if K >= 4 && per_block > 4 { 2 } else { 4 };
    assert!(
        per_block.is_multiple_of(regs),
        "vector width divides a quarter of the gate block"
    );
    for (b, block) in whh_blocked.chunks_exact(HIDDEN * GATE_BLOCK).enumerate() {
        for pass in 0..per_block / regs {
            let cols = b * per_block + pass * regs..b * per_block + (pass + 1) * regs;
            let mut acc = [[simd.splat_f32s(0.0); 4]; K];
            for (a, gx) in acc.iter_mut().zip(&gx) {
                a[..regs].copy_from_slice(&gx[cols.clone()]);
            }
            for (k, row) in block.chunks_exact(GATE_BLOCK).enumerate() {
                let (row, _) = S::as_simd_f32s(row);
                let w = &row[pass * regs..(pass + 1) * regs];
                for (a, h) in acc.iter_mut().zip(&h) {
                    let hk = simd.splat_f32s(h[k]);
                    for (a, &w) in a.iter_mut().zip(w) {
                        *a = simd.mul_add_e_f32s(w, hk, *a);
                    }
                }
            }
            for (a, g) in acc.iter().zip(gates.iter_mut()) {
                g[cols.clone()].copy_from_slice(&a[..regs]);
            }
        }
    }
}

/// Active chunks per batched forward pass. 128 chunks keep the batch's activations (≈ 1.3 MB,
/// plus 256 KB of gates per stream run in lockstep) within a typical L2/L3 cache while giving
/// the GEMMs 128–512 rows.
pub const BATCH_CHUNKS: usize = 128;

/// Buffers of the batched path, sized for [`BATCH_CHUNKS`] chunks, chunk-major.
#[derive(Clone)]
pub(super) struct BatchScratch {
    /// `[chunk][PADDED_LEN]`: context + chunk + reflect padding.
    padded: Vec<f32>,
    /// The STFT: a 256-point complex FFT of two windowed frames at a time, with its buffers.
    fft: Arc<dyn rustfft::Fft<f32>>,
    frame: Vec<Complex<f32>>,
    fft_scratch: Vec<Complex<f32>>,
    /// `[chunk][frame][N_BINS]`.
    mag: Vec<f32>,
    /// Encoder outputs: `[chunk][4][128]`, `[chunk][2][64]`, `[chunk][64]`, `[chunk][128]`.
    e0: Vec<f32>,
    e1: Vec<f32>,
    e2: Vec<f32>,
    x: Vec<f32>,
    /// `W_ih · x + b_ih + b_hh`, `[stream][chunk][4 * HIDDEN]`: one slot of [`BATCH_CHUNKS`]
    /// rows per stream run in lockstep (one slot outside [`SileroVad::process_streams_gated`]).
    gx: Vec<f32>,
    /// Gate pre-activations of the current step.
    gates: [f32; 4 * HIDDEN],
    /// The AVX-512 kernel for the matrix products, where the CPU has it (else matrixmultiply).
    avx512: Option<Avx512>,
}

impl BatchScratch {
    pub(super) fn new() -> Box<Self> {
        let n = BATCH_CHUNKS;
        let fft = rustfft::FftPlanner::<f32>::new().plan_fft_forward(N_FFT);
        Box::new(Self {
            padded: vec![0.0; n * PADDED_LEN],
            frame: vec![Complex::new(0.0, 0.0); N_FFT],
            fft_scratch: vec![Complex::new(0.0, 0.0); fft.get_inplace_scratch_len()],
            fft,
            mag: vec![0.0; n * N_FRAMES * N_BINS],
            e0: vec![0.0; n * 4 * 128],
            e1: vec![0.0; n * 2 * 64],
            e2: vec![0.0; n * 64],
            x: vec![0.0; n * HIDDEN],
            gx: vec![0.0; n * 4 * HIDDEN],
            gates: [0.0; 4 * HIDDEN],
            avx512: Avx512::detect(),
        })
    }

    /// The state-free part of the network for the first `n` chunks of `padded`: STFT,
    /// magnitude, encoder, and the input half of the LSTM gates, into slot `slot` of `gx`.
    fn forward(&mut self, w: &Weights, n: usize, slot: usize) {
        const SLOT: usize = BATCH_CHUNKS * 4 * HIDDEN;
        if self.gx.len() < (slot + 1) * SLOT {
            self.gx.resize((slot + 1) * SLOT, 0.0);
        }
        let gx = &mut self.gx[slot * SLOT..(slot + 1) * SLOT];
        // STFT magnitudes: the basis is a windowed DFT (checked when the weights load), so each
        // frame is windowed and transformed by an FFT. Two real frames go through one complex
        // FFT as `f0 + i·f1`: with `Z` its spectrum, `F0[k] = (Z[k] + conj Z[−k]) / 2` and
        // `F1[k] = (Z[k] − conj Z[−k]) / 2i`. Same magnitudes as the basis product of the
        // reference path to float rounding, at about 5 % of its multiply-adds.
        const { assert!(N_FRAMES.is_multiple_of(2)) };
        for (padded, mag) in self.padded[..n * PADDED_LEN]
            .chunks_exact(PADDED_LEN)
            .zip(self.mag.chunks_exact_mut(N_FRAMES * N_BINS))
        {
            for (f, mag) in mag.chunks_exact_mut(2 * N_BINS).enumerate() {
                let x0 = &padded[2 * f * HOP..2 * f * HOP + N_FFT];
                let x1 = &padded[(2 * f + 1) * HOP..(2 * f + 1) * HOP + N_FFT];
                for (((z, &a), &b), &win) in
                    self.frame.iter_mut().zip(x0).zip(x1).zip(&w.stft_window)
                {
                    *z = Complex::new(a * win, b * win);
                }
                self.fft
                    .process_with_scratch(&mut self.frame, &mut self.fft_scratch);
                let (m0, m1) = mag.split_at_mut(N_BINS);
                let split = |z: Complex<f32>, c: Complex<f32>| {
                    let (re0, im0) = (z.re + c.re, z.im - c.im);
                    let (re1, im1) = (z.re - c.re, z.im + c.im);
                    (
                        0.5 * (re0 * re0 + im0 * im0).sqrt(),
                        0.5 * (re1 * re1 + im1 * im1).sqrt(),
                    )
                };
                (m0[0], m1[0]) = split(self.frame[0], self.frame[0]);
                // Bin k pairs with bin −k = N − k: bins 1..=128 with 255..=128, backwards from
                // the top, so the loop has no index arithmetic and vectorises.
                let mirror = self.frame[N_BINS - 1..].iter().rev();
                for (((&z, &c), m0), m1) in self.frame[1..N_BINS]
                    .iter()
                    .zip(mirror)
                    .zip(&mut m0[1..])
                    .zip(&mut m1[1..])
                {
                    (*m0, *m1) = split(z, c);
                }
            }
        }
        // Encoder: 4 frames -> 4 -> 2 -> 1 -> 1.
        let simd = self.avx512;
        conv_relu_batch(simd, &w.enc0_batch, &self.mag, N_FRAMES, &mut self.e0, n);
        conv_relu_batch(simd, &w.enc[1], &self.e0, 4, &mut self.e1, n);
        conv_relu_batch(simd, &w.enc[2], &self.e1, 2, &mut self.e2, n);
        conv_relu_batch(simd, &w.enc[3], &self.e2, 1, &mut self.x, n);
        // Input half of the LSTM gates: x · W_ihᵀ (W_ih is the left half of each lstm_w row).
        let rows = |stride| Rows {
            offset: 0,
            stride,
            count: n,
        };
        if let (Some(simd), Some(packed)) = (simd, &w.w_ih_packed) {
            simd.gemm(
                (&self.x, rows(HIDDEN)),
                packed,
                0..HIDDEN,
                (gx, rows(4 * HIDDEN)),
            );
        } else {
            let w_ih_t =
                ArrayView2::from_shape((HIDDEN, 4 * HIDDEN).strides((1, 2 * HIDDEN)), &w.lstm_w)
                    .expect("lstm shape");
            let a = rows_view(&self.x, 0, n, HIDDEN, HIDDEN);
            let mut c = rows_view_mut(gx, 0, n, 4 * HIDDEN, 4 * HIDDEN);
            general_mat_mul(1.0, &a, &w_ih_t, 0.0, &mut c);
        }
        for g in gx[..n * 4 * HIDDEN].chunks_exact_mut(4 * HIDDEN) {
            for (v, b) in g.iter_mut().zip(&w.lstm_b) {
                *v += b;
            }
        }
    }
}

impl fmt::Debug for BatchScratch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchScratch")
            .field("chunks", &BATCH_CHUNKS)
            .finish_non_exhaustive()
    }
}

/// `rows × cols` view of `buf` whose row `r` starts at `offset + r * stride`.
fn rows_view(
    buf: &[f32],
    offset: usize,
    rows: usize,
    stride: usize,
    cols: usize,
) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols).strides((stride, 1)), &buf[offset..]).expect("row view")
}

/// Mutable [`rows_view`].
fn rows_view_mut(
    buf: &mut [f32],
    offset: usize,
    rows: usize,
    stride: usize,
    cols: usize,
) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((rows, cols).strides((stride, 1)), &mut buf[offset..])
        .expect("row view")
}

/// [`conv_relu`] over `n` chunks at once: `input` is `[chunk][t_in][c_in]`, `out`
/// `[chunk][t_out][c_out]`. For each output frame, the live taps of every chunk are one strided
/// row view of the input (the taps are consecutive frames, and the weights are tap-major), so
/// each output frame is one GEMM against the matching columns of the weights; taps that fall
/// on the zero padding are left out, as in [`conv_relu`].
fn conv_relu_batch(
    simd: Option<Avx512>,
    layer: &ConvLayer,
    input: &[f32],
    t_in: usize,
    out: &mut [f32],
    n: usize,
) {
    let (c_in, c_out) = (layer.c_in, layer.c_out);
    let t_out = (t_in + 2 - 3) / layer.stride + 1;
    for t in 0..t_out {
        let centre = t * layer.stride;
        let k_lo = usize::from(centre == 0);
        let k_hi = 3.min(t_in + 1 - centre);
        if let (Some(simd), Some(packed)) = (simd, &layer.packed) {
            let a = Rows {
                offset: (centre + k_lo - 1) * c_in,
                stride: t_in * c_in,
                count: n,
            };
            let c = Rows {
                offset: t * c_out,
                stride: t_out * c_out,
                count: n,
            };
            simd.gemm((input, a), packed, k_lo * c_in..k_hi * c_in, (out, c));
            continue;
        }
        let a = rows_view(
            input,
            (centre + k_lo - 1) * c_in,
            n,
            t_in * c_in,
            (k_hi - k_lo) * c_in,
        );
        // Weights `[c_out][3 * c_in]`, viewed transposed (`[3 * c_in][c_out]`), live taps only.
        let b = ArrayView2::from_shape(
            ((k_hi - k_lo) * c_in, c_out).strides((1, 3 * c_in)),
            &layer.w[k_lo * c_in..],
        )
        .expect("conv weight view");
        let mut c = rows_view_mut(out, t * c_out, n, t_out * c_out, c_out);
        general_mat_mul(1.0, &a, &b, 0.0, &mut c);
    }
    for o in out[..n * t_out * c_out].chunks_exact_mut(c_out) {
        for (v, b) in o.iter_mut().zip(&layer.b) {
            *v = (*v + b).max(0.0);
        }
    }
}

/// The sequential part of a batch: for each chunk in turn, one LSTM cell step and the decoder
/// from the input half of its gates (`gx`, one row per active chunk), or a reset for a
/// pre-gated chunk. Compiled for each instruction set pulp knows (AVX-512, AVX2/FMA, scalar) and
/// picked at run time: the recurrence is `W_hh · h`, 65 k multiply-adds per chunk that cannot
/// be batched, and was a quarter of the default check built for baseline x86-64 (issue 17).
struct Recurrence<'a, F: Fn(usize) -> bool> {
    w: &'a Weights,
    gx: &'a [f32],
    gates: &'a mut [f32; 4 * HIDDEN],
    h: &'a mut [f32; HIDDEN],
    c: &'a mut [f32; HIDDEN],
    probs: &'a mut [f32],
    active: F,
}

impl<F: Fn(usize) -> bool> pulp::WithSimd for Recurrence<'_, F> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let mut rows = self.gx.chunks_exact(4 * HIDDEN);
        for (c, p) in self.probs.iter_mut().enumerate() {
            if (self.active)(c) {
                let gx = rows.next().expect("one gx row per active chunk");
                recurrent_gates(simd, &self.w.whh_blocked, gx, self.h, self.gates);
                *p = cell(self.w, self.gates, self.h, self.c);
            } else {
                *self.h = [0.0; HIDDEN];
                *self.c = [0.0; HIDDEN];
                *p = 0.0;
            }
        }
    }
}

/// `gates = gx + W_hh · h`, as `Σ_k h[k] · W_hhᵀ[k]` one block of 64 gates at a time: eight
/// registers of gates accumulate over the block's 128 rows, so every multiply-add is a
/// full-width vector operation (fused where the CPU has FMA) and the block's weights stream
/// from memory in order.
#[inline(always)]
fn recurrent_gates<S: pulp::Simd>(
    simd: S,
    whh_blocked: &[f32],
    gx: &[f32],
    h: &[f32; HIDDEN],
    gates: &mut [f32; 4 * HIDDEN],
) {
    const REGS: usize = 8;
    for ((block, gx), out) in whh_blocked
        .chunks_exact(HIDDEN * GATE_BLOCK)
        .zip(gx.chunks_exact(GATE_BLOCK))
        .zip(gates.chunks_exact_mut(GATE_BLOCK))
    {
        let (gx, _) = S::as_simd_f32s(gx);
        let (out, _) = S::as_mut_simd_f32s(out);
        // 64 gates are eight registers for 8 lanes (AVX2), four for 16 (AVX-512), and whole
        // groups of eight for 1, 2 or 4 lanes.
        let regs = REGS.min(gx.len());
        assert!(
            gx.len().is_multiple_of(regs),
            "vector width divides the gate block"
        );
        for (g, (gx, out)) in gx
            .chunks_exact(regs)
            .zip(out.chunks_exact_mut(regs))
            .enumerate()
        {
            let cols = g * regs..(g + 1) * regs;
            let mut acc = [simd.splat_f32s(0.0); REGS];
            if regs * 2 <= REGS {
                // Fewer than eight registers of gates (AVX-512): the even and odd rows go to
                // separate accumulators, so that eight independent multiply-add chains hide
                // the FMA latency (four chains ran at one FMA per cycle).
                let (even, odd) = acc.split_at_mut(regs);
                even.copy_from_slice(gx);
                let odd = &mut odd[..regs];
                for (rows, hk) in block.chunks_exact(2 * GATE_BLOCK).zip(h.chunks_exact(2)) {
                    let (r0, r1) = rows.split_at(GATE_BLOCK);
                    let (r0, _) = S::as_simd_f32s(r0);
                    let (r1, _) = S::as_simd_f32s(r1);
                    let (h0, h1) = (simd.splat_f32s(hk[0]), simd.splat_f32s(hk[1]));
                    for ((a, b), (&w0, &w1)) in even
                        .iter_mut()
                        .zip(odd.iter_mut())
                        .zip(r0[cols.clone()].iter().zip(&r1[cols.clone()]))
                    {
                        *a = simd.mul_add_e_f32s(w0, h0, *a);
                        *b = simd.mul_add_e_f32s(w1, h1, *b);
                    }
                }
                for (o, (&a, &b)) in out.iter_mut().zip(even.iter().zip(odd.iter())) {
                    *o = simd.add_f32s(a, b);
                }
            } else {
                let acc = &mut acc[..regs];
                acc.copy_from_slice(gx);
                for (row, &hk) in block.chunks_exact(GATE_BLOCK).zip(h) {
                    let (row, _) = S::as_simd_f32s(row);
                    let hk = simd.splat_f32s(hk);
                    for (a, &w) in acc.iter_mut().zip(&row[cols.clone()]) {
                        *a = simd.mul_add_e_f32s(w, hk, *a);
                    }
                }
                out.copy_from_slice(acc);
            }
        }
    }
}

/// The LSTM cell update from the gate pre-activations (order i, f, g, o), then the decoder
/// (ReLU → 1×1 conv → sigmoid); updates `(h, c)` and returns the speech probability. The
/// loop over the 128 cells has no calls and no branches (see [`exp_approx`]), so inside
/// [`Recurrence`] it compiles to vector code.
#[inline(always)]
fn cell(w: &Weights, gates: &[f32], h: &mut [f32; HIDDEN], c: &mut [f32; HIDDEN]) -> f32 {
    let (gi, rest) = gates.split_at(HIDDEN);
    let (gf, rest) = rest.split_at(HIDDEN);
    let (gg, go) = rest.split_at(HIDDEN);
    let mut relu = [0.0f32; HIDDEN];
    let cells = gi
        .iter()
        .zip(gf)
        .zip(gg)
        .zip(go)
        .zip(h.iter_mut())
        .zip(c.iter_mut());
    for ((((((&i, &f), &g), &o), h), c), r) in cells.zip(relu.iter_mut()) {
        let cn = sigmoid_approx(f) * *c + sigmoid_approx(i) * tanh_approx(g);
        let hn = sigmoid_approx(o) * tanh_approx(cn);
        *c = cn;
        *h = hn;
        *r = hn.max(0.0);
    }
    let mut acc = [0.0f32; 8];
    for (w8, r8) in w.dec_w.chunks_exact(8).zip(relu.chunks_exact(8)) {
        for ((a, &w), &r) in acc.iter_mut().zip(w8).zip(r8) {
            *a += w * r;
        }
    }
    sigmoid(w.dec_b + acc.iter().sum::<f32>())
}

/// `e^x` without a libm call, for the cell's 640 exponentials per chunk (3 % of the default
/// check as `expf` calls, issue 17): Cody–Waite reduction `x = n·ln 2 + r` and Cephes' `expf`
/// polynomial for `e^r` (relative error ≈ 1e-7 on |r| ≤ ln 2 / 2), times `2^n` made from the
/// exponent bits. `x` is clamped to [−87, 88] so that `2^n` stays a normal float (the
/// sigmoid and tanh built on it saturate long before). NaN propagates.
#[inline(always)]
fn exp_approx(x: f32) -> f32 {
    // 1.5 · 2^23: adding it rounds to an integer held in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    // ln 2 split in a part exact in few bits and the rest (Cephes).
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_65)
        * r
        + 0.5;
    let e_r = p * r * r + r + 1.0;
    // n + 127 in the exponent field: 2^n.
    let scale = f32::from_bits(t.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127) << 23);
    e_r * scale
}

/// `1 / (1 + e^{−x})` with [`exp_approx`].
#[inline(always)]
fn sigmoid_approx(x: f32) -> f32 {
    1.0 / (1.0 + exp_approx(-x))
}

/// `tanh x = 1 − 2 / (e^{2x} + 1)` with [`exp_approx`]: ±1 at the clamp; near 0 the absolute
/// error is ≈ 1e-7 (the subtraction cancels), far inside the 1e-4 the speech gate's
/// probabilities must keep to ONNX Runtime (`tests/it/silero.rs`).
#[inline(always)]
fn tanh_approx(x: f32) -> f32 {
    1.0 - 2.0 / (exp_approx(2.0 * x) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_approx_is_within_a_few_ulp_of_libm() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x <= 88.0 {
            let (got, want) = (f64::from(exp_approx(x)), f64::from(x).exp());
            worst = worst.max((got - want).abs() / want);
            x += 0.001_3;
        }
        assert!(worst < 3e-7, "relative error {worst:e}");
        assert_eq!(exp_approx(0.0), 1.0);
        assert!(exp_approx(f32::NAN).is_nan());
        // Saturation at the clamp: finite, and the sigmoid/tanh built on it reach their limits.
        assert!(exp_approx(1e9).is_finite() && exp_approx(-1e9) > 0.0);
        assert_eq!(sigmoid_approx(200.0), 1.0);
        assert!(sigmoid_approx(-200.0) < 1e-37);
        assert_eq!(tanh_approx(50.0), 1.0);
        assert_eq!(tanh_approx(-50.0), -1.0);
        assert!((tanh_approx(1e-4) - 1e-4).abs() < 2e-7);
    }

    /// The encoder and `W_ih` products through the AVX-512 kernel (packed weights, strided
    /// rows, live taps) give matrixmultiply's results, on a CPU that has AVX-512.
    #[test]
    fn avx512_products_match_matrixmultiply() {
        let w = SileroVad::new().weights;
        let Some(simd) = Avx512::detect() else {
            eprintln!("no AVX-512 on this CPU: only the matrixmultiply path runs here");
            return;
        };
        let n = 37;
        let run = |avx512: Option<Avx512>| {
            let mut b = BatchScratch::new();
            b.avx512 = avx512;
            for (i, v) in b.padded[..n * PADDED_LEN].iter_mut().enumerate() {
                *v = ((i * 7919 % 2001) as f32 / 1000.0 - 1.0) * 0.3;
            }
            b.forward(&w, n, 0);
            (b.x[..n * HIDDEN].to_vec(), b.gx[..n * 4 * HIDDEN].to_vec())
        };
        let (x_mm, gx_mm) = run(None);
        let (x_512, gx_512) = run(Some(simd));
        for (name, a, b) in [("encoder", &x_mm, &x_512), ("gates", &gx_mm, &gx_512)] {
            let scale = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(scale > 0.01, "{name}: a real signal came out");
            for (i, (p, q)) in a.iter().zip(b).enumerate() {
                assert!((p - q).abs() <= 1e-5 * scale, "{name} {i}: {p} vs {q}");
            }
        }
    }

    /// Streams run in lockstep give what each gives on its own detector, whatever their
    /// pre-gating: resets at different chunks, a stream silent for a whole window, and chunks
    /// where 0 to 4 streams are active.
    #[test]
    fn lockstep_streams_match_one_detector_each() {
        let n = 2 * BATCH_CHUNKS + 45;
        let signal = |s: usize, i: usize| {
            let t = i as f32 / 16_000.0;
            let tone = (std::f32::consts::TAU * (140.0 + 60.0 * s as f32) * t).sin();
            let noise = ((i * (7919 + 104_729 * s)) % 2001) as f32 / 1000.0 - 1.0;
            0.3 * tone * (1.0 + (3.0 * t).sin()) + 0.05 * noise
        };
        let samples: Vec<Vec<f32>> = (0..LOCKSTEP_STREAMS)
            .map(|s| (0..n * CHUNK_SAMPLES).map(|i| signal(s, i)).collect())
            .collect();
        // Chunk 66 has no stream active, chunk 136 only the first, chunk 2 all four.
        let patterns: [&dyn Fn(usize) -> bool; LOCKSTEP_STREAMS] = [
            &|c| c != 66,
            &|c| c % 7 != 3,
            &|c| !(BATCH_CHUNKS..2 * BATCH_CHUNKS).contains(&c) && c % 11 != 0,
            &|c| c % 5 != 1 && !(60..70).contains(&c),
        ];
        let counts: Vec<usize> = (0..n)
            .map(|c| patterns.iter().filter(|p| p(c)).count())
            .collect();
        for k in 0..=LOCKSTEP_STREAMS {
            assert!(counts.contains(&k), "a chunk with {k} streams active");
        }
        let active: Vec<Vec<bool>> = patterns.iter().map(|p| (0..n).map(p).collect()).collect();
        for k in 1..=LOCKSTEP_STREAMS {
            let mut got = vec![vec![-1.0f32; n]; k];
            let mut streams: Vec<GatedStream<'_>> = got
                .iter_mut()
                .enumerate()
                .map(|(s, probs)| GatedStream {
                    samples: &samples[s],
                    active: &active[s],
                    probs,
                })
                .collect();
            SileroVad::new().process_streams_gated(&mut streams);
            for (s, got) in got.iter().enumerate() {
                let mut want = vec![0.0; n];
                SileroVad::new().process_chunks_gated(&samples[s], &active[s], &mut want);
                for (c, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (g - w).abs() < 1e-5,
                        "{k} streams, stream {s}, chunk {c}: {g} vs {w}"
                    );
                    if !active[s][c] {
                        assert_eq!(*g, 0.0, "pre-gated chunk {c} of stream {s}");
                    }
                }
                assert!(got.iter().any(|&p| p > 0.001), "stream {s}: a real output");
            }
        }
    }

    /// The lockstep product of `W_hh` gives each stream's one-stream product, on every
    /// instruction set this CPU has (AVX-512, AVX2 with two or four registers per stream, and
    /// the scalar fallback).
    #[test]
    fn lockstep_gates_match_one_stream_gates() {
        struct Both<'a> {
            w: &'a Weights,
            gx: &'a [Vec<f32>; 4],
            h: &'a [[f32; HIDDEN]; 4],
        }
        impl pulp::WithSimd for Both<'_> {
            type Output = f32;
            fn with_simd<S: pulp::Simd>(self, simd: S) -> f32 {
                let whh = &self.w.whh_blocked;
                let mut one = [[0.0f32; 4 * HIDDEN]; 4];
                for (s, g) in one.iter_mut().enumerate() {
                    recurrent_gates(simd, whh, &self.gx[s], &self.h[s], g);
                }
                let mut worst = 0.0f32;
                let mut g = [[0.0f32; 4 * HIDDEN]; 4];
                let [g0, g1, g2, g3] = &mut g;
                let gx: [&[f32]; 4] = std::array::from_fn(|s| &self.gx[s][..]);
                let h: [&[f32; HIDDEN]; 4] = std::array::from_fn(|s| &self.h[s]);
                recurrent_gates_lockstep(simd, whh, gx, h, [g0, g1, g2, g3]);
                for (a, b) in g.iter().flatten().zip(one.iter().flatten()) {
                    worst = worst.max((a - b).abs());
                }
                let mut g = [[0.0f32; 4 * HIDDEN]; 2];
                let [g0, g1] = &mut g;
                recurrent_gates_lockstep(simd, whh, [gx[0], gx[1]], [h[0], h[1]], [g0, g1]);
                for (a, b) in g.iter().flatten().zip(one.iter().flatten()) {
                    worst = worst.max((a - b).abs());
                }
                let mut g = [[0.0f32; 4 * HIDDEN]; 3];
                let [g0, g1, g2] = &mut g;
                recurrent_gates_lockstep(
                    simd,
                    whh,
                    [gx[0], gx[1], gx[2]],
                    [h[0], h[1], h[2]],
                    [g0, g1, g2],
                );
                for (a, b) in g.iter().flatten().zip(one.iter().flatten()) {
                    worst = worst.max((a - b).abs());
                }
                worst
            }
        }
        let w = SileroVad::new().weights;
        let gx: [Vec<f32>; 4] = std::array::from_fn(|s| {
            (0..4 * HIDDEN)
                .map(|i| ((i * 31 + s * 17) % 97) as f32 / 48.0 - 1.0)
                .collect()
        });
        let h: [[f32; HIDDEN]; 4] = std::array::from_fn(|s| {
            std::array::from_fn(|i| ((i * 13 + s * 5) % 41) as f32 / 20.0 - 1.0)
        });
        let both = || Both {
            w: &w,
            gx: &gx,
            h: &h,
        };
        let mut worst = vec![pulp::WithSimd::with_simd(both(), pulp::Scalar::new())];
        worst.push(pulp::Arch::new().dispatch(both()));
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = pulp::x86::V3::try_new() {
            worst.push(pulp::WithSimd::with_simd(both(), v3));
        }
        for (i, w) in worst.iter().enumerate() {
            assert!(*w < 1e-4, "instruction set {i}: max difference {w}");
        }
    }

    /// The recurrence gives the same probabilities whichever instruction set pulp picks (the
    /// CI machine's, and the scalar fallback of a CPU without AVX2/FMA).
    #[test]
    fn recurrence_agrees_across_instruction_sets() {
        let w = SileroVad::new().weights;
        let mut gx = vec![0.0f32; 48 * 4 * HIDDEN];
        for (i, v) in gx.iter_mut().enumerate() {
            *v = ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 4.0;
        }
        let active = |c: usize| c % 13 != 5;
        let n_active = (0..48).filter(|&c| active(c)).count();
        let run = |simd: Option<pulp::Scalar>| {
            let (mut h, mut c) = ([0.0; HIDDEN], [0.0; HIDDEN]);
            let mut gates = [0.0; 4 * HIDDEN];
            let mut probs = vec![0.0; 48];
            let op = Recurrence {
                w: &w,
                gx: &gx[..n_active * 4 * HIDDEN],
                gates: &mut gates,
                h: &mut h,
                c: &mut c,
                probs: &mut probs,
                active,
            };
            match simd {
                Some(s) => pulp::WithSimd::with_simd(op, s),
                None => pulp::Arch::new().dispatch(op),
            }
            probs
        };
        let (native, scalar) = (run(None), run(Some(pulp::Scalar::new())));
        for (a, b) in native.iter().zip(&scalar) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        assert!(native.iter().any(|&p| p > 0.01 && p < 0.99));
        assert_eq!(native[5], 0.0);
    }
}
