//! The batched forward pass of [`SileroVad`] (issue 17): what the speech gate runs.
//!
//! Everything before the recurrence (STFT, magnitude, encoder and `W_ih · x + b` of the LSTM
//! gates) is independent of the state, so it runs over [`BATCH_CHUNKS`] chunks at once as
//! matrix products (ndarray → matrixmultiply sgemm, which picks AVX2/FMA or AVX-512 kernels at
//! run time). The recurrence `W_hh · h` and the cell update run chunk by chunk.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};

use super::{
    sigmoid, ConvLayer, SileroVad, Weights, CHUNK_SAMPLES, CONTEXT_SAMPLES, HIDDEN, HOP, INPUT_LEN,
    N_BINS, N_FFT, N_FRAMES, PADDED_LEN, STFT_PAD, STFT_ROWS,
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
                b.forward(w, rows);
            }
            let mut row = 0;
            for (c, p) in probs.iter_mut().enumerate().take(end).skip(i) {
                if active(c) {
                    let gx = &b.gx[row * 4 * HIDDEN..(row + 1) * 4 * HIDDEN];
                    *p = lstm_step(w, gx, &mut self.h, &mut self.c, &mut b.gates);
                    row += 1;
                } else {
                    self.h = [0.0; HIDDEN];
                    self.c = [0.0; HIDDEN];
                    *p = 0.0;
                }
            }
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

/// Active chunks per batched forward pass. 128 chunks keep the batch's activations (≈ 1.8 MB)
/// within a typical L2/L3 cache while giving the GEMMs 128–512 rows.
pub const BATCH_CHUNKS: usize = 128;

/// Buffers of the batched path, sized for [`BATCH_CHUNKS`] chunks, chunk-major.
#[derive(Debug, Clone)]
pub(super) struct BatchScratch {
    /// `[chunk][PADDED_LEN]`: context + chunk + reflect padding.
    padded: Vec<f32>,
    /// `[chunk][frame][STFT_ROWS]`.
    spec: Vec<f32>,
    /// `[chunk][frame][N_BINS]`.
    mag: Vec<f32>,
    /// Encoder outputs: `[chunk][4][128]`, `[chunk][2][64]`, `[chunk][64]`, `[chunk][128]`.
    e0: Vec<f32>,
    e1: Vec<f32>,
    e2: Vec<f32>,
    x: Vec<f32>,
    /// `W_ih · x + b_ih + b_hh`, `[chunk][4 * HIDDEN]`.
    gx: Vec<f32>,
    /// Gate pre-activations of the current step.
    gates: [f32; 4 * HIDDEN],
}

impl BatchScratch {
    pub(super) fn new() -> Box<Self> {
        let n = BATCH_CHUNKS;
        Box::new(Self {
            padded: vec![0.0; n * PADDED_LEN],
            spec: vec![0.0; n * N_FRAMES * STFT_ROWS],
            mag: vec![0.0; n * N_FRAMES * N_BINS],
            e0: vec![0.0; n * 4 * 128],
            e1: vec![0.0; n * 2 * 64],
            e2: vec![0.0; n * 64],
            x: vec![0.0; n * HIDDEN],
            gx: vec![0.0; n * 4 * HIDDEN],
            gates: [0.0; 4 * HIDDEN],
        })
    }

    /// The state-free part of the network for the first `n` chunks of `padded`: STFT,
    /// magnitude, encoder, and the input half of the LSTM gates, into `gx`.
    fn forward(&mut self, w: &Weights, n: usize) {
        // STFT: frame f of every chunk is a strided row view of `padded`; one GEMM per frame
        // against the transposed basis (256 taps × 256 rows).
        let basis_t = ArrayView2::from_shape((N_FFT, STFT_ROWS).strides((1, N_FFT)), &w.stft)
            .expect("basis shape");
        for f in 0..N_FRAMES {
            let a = rows_view(&self.padded, f * HOP, n, PADDED_LEN, N_FFT);
            let mut c = rows_view_mut(
                &mut self.spec,
                f * STFT_ROWS,
                n,
                N_FRAMES * STFT_ROWS,
                STFT_ROWS,
            );
            general_mat_mul(1.0, &a, &basis_t, 0.0, &mut c);
        }
        for (spec, mag) in self.spec[..n * N_FRAMES * STFT_ROWS]
            .chunks_exact(STFT_ROWS)
            .zip(self.mag.chunks_exact_mut(N_BINS))
        {
            let (re, im) = spec.split_at(N_BINS);
            mag[0] = (re[0] * re[0]).sqrt();
            for ((m, r), i) in mag[1..N_BINS - 1].iter_mut().zip(&re[1..]).zip(im) {
                *m = (r * r + i * i).sqrt();
            }
            mag[N_BINS - 1] = (re[N_BINS - 1] * re[N_BINS - 1]).sqrt();
        }
        // Encoder: 4 frames -> 4 -> 2 -> 1 -> 1.
        conv_relu_batch(&w.enc0_batch, &self.mag, N_FRAMES, &mut self.e0, n);
        conv_relu_batch(&w.enc[1], &self.e0, 4, &mut self.e1, n);
        conv_relu_batch(&w.enc[2], &self.e1, 2, &mut self.e2, n);
        conv_relu_batch(&w.enc[3], &self.e2, 1, &mut self.x, n);
        // Input half of the LSTM gates: x · W_ihᵀ (W_ih is the left half of each lstm_w row).
        let w_ih_t =
            ArrayView2::from_shape((HIDDEN, 4 * HIDDEN).strides((1, 2 * HIDDEN)), &w.lstm_w)
                .expect("lstm shape");
        let a = rows_view(&self.x, 0, n, HIDDEN, HIDDEN);
        let mut c = rows_view_mut(&mut self.gx, 0, n, 4 * HIDDEN, 4 * HIDDEN);
        general_mat_mul(1.0, &a, &w_ih_t, 0.0, &mut c);
        for g in self.gx[..n * 4 * HIDDEN].chunks_exact_mut(4 * HIDDEN) {
            for (v, b) in g.iter_mut().zip(&w.lstm_b) {
                *v += b;
            }
        }
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
fn conv_relu_batch(layer: &ConvLayer, input: &[f32], t_in: usize, out: &mut [f32], n: usize) {
    let (c_in, c_out) = (layer.c_in, layer.c_out);
    let t_out = (t_in + 2 - 3) / layer.stride + 1;
    for t in 0..t_out {
        let centre = t * layer.stride;
        let k_lo = usize::from(centre == 0);
        let k_hi = 3.min(t_in + 1 - centre);
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

/// One LSTM cell step and the decoder, given the input half of the gates `gx`
/// (`W_ih · x + b`); updates `(h, c)` and returns the speech probability.
fn lstm_step(
    w: &Weights,
    gx: &[f32],
    h: &mut [f32; HIDDEN],
    c: &mut [f32; HIDDEN],
    gates: &mut [f32; 4 * HIDDEN],
) -> f32 {
    let row = |g: usize| &w.lstm_w[g * 2 * HIDDEN + HIDDEN..(g + 1) * 2 * HIDDEN];
    for (g4, (out4, x4)) in gates
        .chunks_exact_mut(4)
        .zip(gx.chunks_exact(4))
        .enumerate()
    {
        let g = 4 * g4;
        let d = super::dot_rows4([row(g), row(g + 1), row(g + 2), row(g + 3)], &h[..]);
        for j in 0..4 {
            out4[j] = x4[j] + d[j];
        }
    }
    cell(w, gates, h, c)
}

/// The LSTM cell update from the gate pre-activations (order i, f, g, o), then the decoder
/// (ReLU → 1×1 conv → sigmoid); updates `(h, c)` and returns the speech probability.
fn cell(w: &Weights, gates: &[f32], h: &mut [f32], c: &mut [f32]) -> f32 {
    let (gi, rest) = gates.split_at(HIDDEN);
    let (gf, rest) = rest.split_at(HIDDEN);
    let (gg, go) = rest.split_at(HIDDEN);
    let mut logit = w.dec_b;
    for k in 0..HIDDEN {
        let cn = sigmoid(gf[k]) * c[k] + sigmoid(gi[k]) * tanh_via_exp(gg[k]);
        let hn = sigmoid(go[k]) * tanh_via_exp(cn);
        c[k] = cn;
        h[k] = hn;
        logit += w.dec_w[k] * hn.max(0.0);
    }
    sigmoid(logit)
}

/// `tanh x = 1 − 2 / (e^{2x} + 1)`: one `expf` instead of libm's `tanhf` (which goes through
/// `expm1f`, and was 7–9 % of the whole default check, issue 17). Exact at ±∞ (`e^{2x}` → ∞ or
/// 0 give ±1); near 0 the absolute error is ≈ 1e-7 (the subtraction cancels), far inside the
/// 1e-4 the speech gate's probabilities must keep to ONNX Runtime (`tests/it/silero.rs`).
#[inline]
fn tanh_via_exp(x: f32) -> f32 {
    1.0 - 2.0 / ((2.0 * x).exp() + 1.0)
}
