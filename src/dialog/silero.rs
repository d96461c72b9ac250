//! Pure-Rust forward pass of the **Silero VAD v5** voice activity detector (16 kHz branch).
//!
//! Silero VAD (<https://github.com/snakers4/silero-vad>, MIT licence, see
//! `LICENSE-silero-vad`) is a small streaming speech detector. This module re-implements,
//! operation for operation, the 16 kHz branch (`If (sr == 16000)` → `then_branch`) of the
//! ONNX graph `silero_vad/data/silero_vad.onnx` shipped in the `silero-vad` 5.1.2 wheel
//! (sha256 `2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f`), plus the
//! 64-sample context handling that silero-vad's Python `OnnxWrapper` performs around it.
//! No ONNX runtime, no network, no unsafe code; weights are embedded with `include_bytes!`.
//!
//! # Architecture (per 512-sample chunk, 16 kHz)
//!
//! 1. **Input**: the last 64 samples of the previous chunk (zeros after [`SileroVad::reset`])
//!    followed by the 512 new samples: 576 samples.
//! 2. **Padding**: reflect-pad 64 samples on the right only (`Pad mode=reflect, pads=[0,64]`):
//!    640 samples.
//! 3. **STFT as a convolution**: `Conv(kernel 256, stride 128)` with the stored basis
//!    `stft.forward_basis_buffer` (258 × 256: rows 0..129 are the real parts of bins
//!    0..=128, rows 129..258 the imaginary parts; it is a periodic-Hann-windowed DFT):
//!    4 frames. Magnitude `sqrt(re² + im²)`: 129 bins × 4 frames.
//! 4. **Encoder**: four `Conv1d(kernel 3, padding 1)` + ReLU blocks (re-parameterised
//!    blocks, `encoder.N.reparam_conv`): 129→128 (stride 1), 128→64 (stride 2),
//!    64→64 (stride 2), 64→128 (stride 1). Time axis: 4 → 4 → 2 → 1 → 1 frames.
//! 5. **Decoder**: one `LSTMCell(128, 128)` step (`decoder.rnn`, PyTorch gate order
//!    i, f, g, o; the ONNX graph re-slices it to ONNX's i, o, f, c order) fed the 128-channel
//!    encoder output, with state `(h, c)`; then ReLU → `Conv1d(128→1, kernel 1)` → sigmoid.
//! 6. **Output**: the mean over the (single) output frame, i.e. the sigmoid value.
//!
//! The carried state is exactly the ONNX model's `state` tensor `(2, 1, 128)` = `[h, c]`
//! plus the wrapper's 64-sample context.
//!
//! # Performance notes
//!
//! Per chunk the forward pass costs ≈ 0.63 M multiply-adds: STFT 262 k (42 %; 256 non-zero
//! basis rows × 256 taps × 4 frames), encoder 0: 174 k (28 %; 129 input channels, 10 live
//! tap-frames), encoder 1: 41 k, encoder 2: 8 k, encoder 3: 8 k, LSTM 131 k (21 %; half of it
//! `W_ih · x`, half `W_hh · h`), decoder 0.1 k, plus 640 `exp`/`tanh` calls for the LSTM gates.
//! Kernel taps that only ever see the zero padding of a convolution are skipped, as are the two
//! basis rows that are exactly zero (imaginary part of DC and Nyquist, checked at load time):
//! both skips are exact.
//!
//! Two paths compute this:
//! - [`SileroVad::process_chunk`], chunk by chunk: the reference. Dot products over contiguous,
//!   8-multiple-length slices with eight independent lanes, which LLVM vectorises for the
//!   build target (SSE2 on generic x86-64). No allocation per chunk.
//! - [`SileroVad::process_chunks`] / [`SileroVad::process_chunks_gated`], batched (what the
//!   speech gate runs, issue 17): everything before the recurrence (STFT, magnitude, encoder,
//!   and `W_ih · x + b` of the LSTM gates) is independent of the state, so it runs over
//!   [`BATCH_CHUNKS`] chunks at once. The STFT is a 256-point FFT of the windowed frames, two
//!   frames per complex FFT (rustfft): the stored basis is checked at load time to be exactly
//!   a windowed DFT, so this gives its magnitudes at a few percent of its multiply-adds. The
//!   encoder and the input half of the gates are matrix products: on AVX-512 by a small kernel
//!   over weights packed at load (`gemm.rs`), elsewhere by ndarray → matrixmultiply sgemm
//!   (AVX2/FMA kernels picked at run time); each output frame of each block is one GEMM over
//!   strided row views of the chunk-major activations (no im2col copies). Only `W_hh · h`
//!   (65 k multiply-adds) and the cell update run chunk by chunk, compiled per instruction set
//!   by pulp (AVX-512, AVX2/FMA or scalar, picked at run time) with a call-free `exp`. The sums run in
//!   another order, so it agrees with the reference to ≈ 1e-6, and with ONNX Runtime as
//!   closely (see `tests/it/silero.rs`); results do not depend on how the chunks are split
//!   into calls.

use std::fmt;
use std::sync::{Arc, OnceLock};

mod batch;
mod gemm;

use batch::BatchScratch;
pub use batch::BATCH_CHUNKS;
pub(crate) use batch::{GatedStream, LOCKSTEP_STREAMS};

/// Sample rate the model runs at, in Hz.
pub const SAMPLE_RATE_HZ: u32 = 16_000;
/// Samples per chunk (32 ms at 16 kHz): the Silero VAD v5 window.
pub const CHUNK_SAMPLES: usize = 512;
/// Samples of the previous chunk prepended to each chunk (4 ms at 16 kHz).
pub const CONTEXT_SAMPLES: usize = 64;
/// Model family name.
pub const MODEL_NAME: &str = "silero-vad";
/// Model version and provenance.
pub const MODEL_VERSION: &str = "v5 (silero-vad 5.1.2 wheel, silero_vad.onnx sha256 \
    2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f, 16 kHz branch)";

/// The embedded weight blob, produced by `tools/export_silero.py`.
static EMBEDDED_BLOB: &[u8] = include_bytes!("silero_vad_v5_16k.bin");
static EMBEDDED_WEIGHTS: OnceLock<Arc<Weights>> = OnceLock::new();

const BLOB_MAGIC: &[u8; 4] = b"SVAD";
const BLOB_VERSION: u32 = 1;

/// Model input length: context + chunk (576 samples).
const INPUT_LEN: usize = CONTEXT_SAMPLES + CHUNK_SAMPLES;
/// Right reflect padding applied before the STFT, in samples.
const STFT_PAD: usize = 64;
const PADDED_LEN: usize = INPUT_LEN + STFT_PAD;
/// STFT window (filter) length in samples.
const N_FFT: usize = 256;
/// STFT hop in samples.
const HOP: usize = 128;
/// Number of STFT frames per chunk: (640 - 256) / 128 + 1.
const N_FRAMES: usize = (PADDED_LEN - N_FFT) / HOP + 1;
/// Frequency bins 0..=128.
const N_BINS: usize = N_FFT / 2 + 1;
/// Non-zero basis rows kept: 129 real + 127 imaginary (bins 1..=127).
const STFT_ROWS: usize = 2 * N_BINS - 2;
/// Magnitude channels padded from 129 to a multiple of 8 (padding channels are zero).
const MAG_STRIDE: usize = 136;
/// LSTM hidden size.
const HIDDEN: usize = 128;
/// Gates per block of the batched recurrence's weights (see `Weights::whh_blocked`).
const GATE_BLOCK: usize = 64;
/// Dot-product lane count (8 × f32 = one AVX register, two SSE registers).
const LANES: usize = 8;

/// Error while parsing a weight blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// The blob does not start with `SVAD`.
    BadMagic,
    /// The blob's format version is not supported.
    UnsupportedVersion(u32),
    /// The blob ended early.
    Truncated,
    /// Tensor count, name or shape differs from the expected layout.
    UnexpectedTensor {
        /// Expected tensor name.
        expected: &'static str,
        /// Name and shape found in the blob.
        found: String,
    },
    /// The STFT basis is not the windowed DFT the forward pass assumes (imaginary DC and
    /// Nyquist rows zero, every row the window times a cosine or sine).
    UnexpectedBasis,
    /// Bytes left after the last tensor.
    TrailingBytes,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic => write!(f, "not a Silero VAD weight blob (bad magic)"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported weight blob version {v}"),
            Self::Truncated => write!(f, "weight blob is truncated"),
            Self::UnexpectedTensor { expected, found } => {
                write!(f, "expected tensor {expected}, found {found}")
            }
            Self::UnexpectedBasis => {
                write!(f, "STFT basis is not a windowed DFT")
            }
            Self::TrailingBytes => write!(f, "trailing bytes after the last tensor"),
        }
    }
}

impl std::error::Error for ModelError {}

/// One `Conv1d(kernel 3, padding 1)` + ReLU encoder block.
#[derive(Debug)]
struct ConvLayer {
    /// Weights `[c_out][3][c_in]` (tap-major per output, unlike PyTorch's `[c_out][c_in][3]`),
    /// so that the three taps of one output meet a contiguous time-major input slice.
    w: Vec<f32>,
    /// Bias `[c_out]`.
    b: Vec<f32>,
    /// Input channels (row stride of the time-major input, may include zero padding).
    c_in: usize,
    /// Output channels.
    c_out: usize,
    /// Time stride.
    stride: usize,
    /// `w` transposed (`[3 * c_in][c_out]`) and packed for the AVX-512 kernel of the batched
    /// path, on CPUs that have it.
    packed: Option<gemm::PackedB>,
}

impl ConvLayer {
    /// With the weights packed for [`gemm::Avx512`] when the CPU has it.
    fn packed(mut self) -> Self {
        if gemm::Avx512::detect().is_some() {
            let k = 3 * self.c_in;
            self.packed = Some(gemm::PackedB::new(k, self.c_out, |row, col| {
                self.w[col * k + row]
            }));
        }
        self
    }
}

/// All weights, re-laid-out for the forward pass. Immutable and shared.
#[derive(Debug)]
struct Weights {
    /// STFT basis `[STFT_ROWS][N_FFT]`: real bins 0..=128 then imaginary bins 1..=127.
    stft: Vec<f32>,
    /// The window of that basis (its DC row), for the batched path's FFT: the basis is
    /// `window[n]·cos(2πkn/N)` and `±window[n]·sin(2πkn/N)`, checked at load time.
    stft_window: Vec<f32>,
    enc: [ConvLayer; 4],
    /// Encoder block 0 without channel padding (`c_in` 129), for the batched path, whose
    /// magnitude rows are 129 wide.
    enc0_batch: ConvLayer,
    /// `[4 * HIDDEN][2 * HIDDEN]`: each gate row is `weight_ih` row ++ `weight_hh` row,
    /// gate order i, f, g, o (PyTorch).
    lstm_w: Vec<f32>,
    /// `weight_hh` for the batched path's recurrence, transposed and blocked:
    /// `[4 * HIDDEN / GATE_BLOCK][HIDDEN][GATE_BLOCK]`, so that block `b`, row `k` is what
    /// `h[k]` adds to gates `b·64 .. b·64+64`. A block is 32 KB read front to back (it fits
    /// the L1 cache), and each of its rows is eight AVX vectors.
    whh_blocked: Vec<f32>,
    /// `W_ih` transposed (`[HIDDEN][4 * HIDDEN]`) and packed for [`gemm::Avx512`], on CPUs that
    /// have it.
    w_ih_packed: Option<gemm::PackedB>,
    /// `bias_ih + bias_hh`, `[4 * HIDDEN]`.
    lstm_b: Vec<f32>,
    /// Output 1×1 convolution weights `[HIDDEN]`.
    dec_w: Vec<f32>,
    /// Output convolution bias.
    dec_b: f32,
}

/// Little-endian reader over the weight blob.
struct BlobReader<'a> {
    data: &'a [u8],
}

impl<'a> BlobReader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        if self.data.len() < n {
            return Err(ModelError::Truncated);
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads one tensor, checking its name and shape.
    fn tensor(&mut self, name: &'static str, shape: &[usize]) -> Result<Vec<f32>, ModelError> {
        let name_len = self.u32()? as usize;
        let found_name = String::from_utf8_lossy(self.take(name_len)?).into_owned();
        let ndim = self.u32()? as usize;
        let mut dims = Vec::with_capacity(ndim);
        for _ in 0..ndim {
            dims.push(self.u32()? as usize);
        }
        if found_name != name || dims != shape {
            return Err(ModelError::UnexpectedTensor {
                expected: name,
                found: format!("{found_name} {dims:?}"),
            });
        }
        let n: usize = shape.iter().product();
        let bytes = self.take(n.checked_mul(4).ok_or(ModelError::Truncated)?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }
}

/// Re-lays PyTorch conv weights `[c_out][c_in][3]` out as `[c_out][3][c_in_padded]`.
fn conv_layer(
    w: &[f32],
    b: Vec<f32>,
    c_out: usize,
    c_in: usize,
    c_in_padded: usize,
    stride: usize,
) -> ConvLayer {
    let mut out = vec![0.0; c_out * 3 * c_in_padded];
    for o in 0..c_out {
        for i in 0..c_in {
            for k in 0..3 {
                out[(o * 3 + k) * c_in_padded + i] = w[(o * c_in + i) * 3 + k];
            }
        }
    }
    ConvLayer {
        w: out,
        b,
        c_in: c_in_padded,
        c_out,
        stride,
        packed: None,
    }
}

impl Weights {
    /// Parses a blob written by `tools/export_silero.py` (layout documented there).
    fn parse(blob: &[u8]) -> Result<Self, ModelError> {
        let mut r = BlobReader { data: blob };
        if r.take(4)? != BLOB_MAGIC {
            return Err(ModelError::BadMagic);
        }
        let version = r.u32()?;
        if version != BLOB_VERSION {
            return Err(ModelError::UnsupportedVersion(version));
        }
        let count = r.u32()?;
        if count != 15 {
            return Err(ModelError::UnexpectedTensor {
                expected: "15 tensors",
                found: format!("{count} tensors"),
            });
        }
        let basis = r.tensor("stft.forward_basis_buffer", &[2 * N_BINS, 1, N_FFT])?;
        let e0w = r.tensor("encoder.0.reparam_conv.weight", &[128, N_BINS, 3])?;
        let e0b = r.tensor("encoder.0.reparam_conv.bias", &[128])?;
        let e0b_batch = e0b.clone();
        let e1w = r.tensor("encoder.1.reparam_conv.weight", &[64, 128, 3])?;
        let e1b = r.tensor("encoder.1.reparam_conv.bias", &[64])?;
        let e2w = r.tensor("encoder.2.reparam_conv.weight", &[64, 64, 3])?;
        let e2b = r.tensor("encoder.2.reparam_conv.bias", &[64])?;
        let e3w = r.tensor("encoder.3.reparam_conv.weight", &[128, 64, 3])?;
        let e3b = r.tensor("encoder.3.reparam_conv.bias", &[128])?;
        let w_ih = r.tensor("decoder.rnn.weight_ih", &[4 * HIDDEN, HIDDEN])?;
        let w_hh = r.tensor("decoder.rnn.weight_hh", &[4 * HIDDEN, HIDDEN])?;
        let b_ih = r.tensor("decoder.rnn.bias_ih", &[4 * HIDDEN])?;
        let b_hh = r.tensor("decoder.rnn.bias_hh", &[4 * HIDDEN])?;
        let dec_w = r.tensor("decoder.decoder.2.weight", &[1, HIDDEN, 1])?;
        let dec_b = r.tensor("decoder.decoder.2.bias", &[1])?;
        if !r.data.is_empty() {
            return Err(ModelError::TrailingBytes);
        }

        // Imaginary rows of DC (row 129) and Nyquist (row 257) must be exactly zero: we skip them.
        let imag = &basis[N_BINS * N_FFT..];
        let zero_row = |row: &[f32]| row.iter().all(|&v| v == 0.0);
        if !zero_row(&imag[..N_FFT]) || !zero_row(&imag[(N_BINS - 1) * N_FFT..]) {
            return Err(ModelError::UnexpectedBasis);
        }
        let mut stft = Vec::with_capacity(STFT_ROWS * N_FFT);
        stft.extend_from_slice(&basis[..N_BINS * N_FFT]);
        stft.extend_from_slice(&imag[N_FFT..(N_BINS - 1) * N_FFT]);
        let stft_window = windowed_dft_window(&basis).ok_or(ModelError::UnexpectedBasis)?;

        let mut lstm_w = Vec::with_capacity(4 * HIDDEN * 2 * HIDDEN);
        for (row_ih, row_hh) in w_ih.chunks_exact(HIDDEN).zip(w_hh.chunks_exact(HIDDEN)) {
            lstm_w.extend_from_slice(row_ih);
            lstm_w.extend_from_slice(row_hh);
        }
        let lstm_b = b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect();
        let mut whh_blocked = vec![0.0; HIDDEN * 4 * HIDDEN];
        for (j, row) in w_hh.chunks_exact(HIDDEN).enumerate() {
            let (block, jj) = (j / GATE_BLOCK, j % GATE_BLOCK);
            for (k, &v) in row.iter().enumerate() {
                whh_blocked[(block * HIDDEN + k) * GATE_BLOCK + jj] = v;
            }
        }

        Ok(Self {
            stft,
            stft_window,
            enc: [
                conv_layer(&e0w, e0b, 128, N_BINS, MAG_STRIDE, 1),
                conv_layer(&e1w, e1b, 64, 128, 128, 2).packed(),
                conv_layer(&e2w, e2b, 64, 64, 64, 2).packed(),
                conv_layer(&e3w, e3b, 128, 64, 64, 1).packed(),
            ],
            enc0_batch: conv_layer(&e0w, e0b_batch, 128, N_BINS, N_BINS, 1).packed(),
            w_ih_packed: gemm::Avx512::detect()
                .map(|_| gemm::PackedB::new(HIDDEN, 4 * HIDDEN, |k, n| lstm_w[n * 2 * HIDDEN + k])),
            lstm_w,
            whh_blocked,
            lstm_b,
            dec_w,
            dec_b: dec_b[0],
        })
    }
}

/// The window of a windowed-DFT basis `[2 * N_BINS][N_FFT]` (real rows, then imaginary rows):
/// its DC row, if every row is that window times `cos(2πkn/N)` (real) and times `sin(2πkn/N)`
/// with one sign (imaginary) to within 1e-6 of the window's peak (float32 rounding of the
/// exported basis); `None` otherwise. Then an FFT of the windowed frame gives the same
/// magnitudes as the basis product, which the batched path uses (4 × 256-point real FFTs
/// per chunk in place of 262 k multiply-adds).
fn windowed_dft_window(basis: &[f32]) -> Option<Vec<f32>> {
    let window = basis[..N_FFT].to_vec();
    let peak = window.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let tol = 1e-6 * f64::from(peak);
    let (re, im) = basis.split_at(N_BINS * N_FFT);
    let cos_sin = |k: usize, n: usize| {
        let phase = 2.0 * std::f64::consts::PI * ((k * n) % N_FFT) as f64 / N_FFT as f64;
        let (s, c) = phase.sin_cos();
        let w = f64::from(window[n]);
        (w * c, w * s)
    };
    // The sign convention of the imaginary rows (the magnitude does not depend on it).
    let mut dot = 0.0;
    for k in 0..N_BINS {
        for n in 0..N_FFT {
            dot += f64::from(im[k * N_FFT + n]) * cos_sin(k, n).1;
        }
    }
    let sign = dot.signum();
    for k in 0..N_BINS {
        for n in 0..N_FFT {
            let (wc, ws) = cos_sin(k, n);
            if (f64::from(re[k * N_FFT + n]) - wc).abs() > tol
                || (f64::from(im[k * N_FFT + n]) - sign * ws).abs() > tol
            {
                return None;
            }
        }
    }
    (peak > 0.0).then_some(window)
}

/// `a * b + c`, fused when the build target has FMA (decided at compile time).
#[inline(always)]
fn madd(a: f32, b: f32, c: f32) -> f32 {
    if cfg!(target_feature = "fma") {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `acc[l] += a[l] * b[l]` for one 8-lane block (vectorises to 1 AVX / 2 SSE multiply-adds).
#[inline(always)]
fn lanes_madd(acc: &mut [f32; LANES], a: &[f32], b: &[f32]) {
    let a: &[f32; LANES] = a.try_into().expect("lane block");
    let b: &[f32; LANES] = b.try_into().expect("lane block");
    for l in 0..LANES {
        acc[l] = madd(a[l], b[l], acc[l]);
    }
}

/// Horizontal sum of the 8 lanes: halves first (one vector add), then a pairwise tree.
#[inline(always)]
fn hsum(acc: &[f32; LANES]) -> f32 {
    let mut half = [0.0f32; LANES / 2];
    for l in 0..LANES / 2 {
        half[l] = acc[l] + acc[l + LANES / 2];
    }
    (half[0] + half[2]) + (half[1] + half[3])
}

/// Four dot products of four weight rows against one shared input `x`.
/// All slices must have the length of `x`, a multiple of [`LANES`].
#[inline(always)]
fn dot_rows4(w: [&[f32]; 4], x: &[f32]) -> [f32; 4] {
    debug_assert!(x.len().is_multiple_of(LANES) && w.iter().all(|r| r.len() == x.len()));
    let (mut a0, mut a1, mut a2, mut a3) =
        ([0.0f32; LANES], [0.0; LANES], [0.0; LANES], [0.0; LANES]);
    let it = x
        .chunks_exact(LANES)
        .zip(w[0].chunks_exact(LANES))
        .zip(w[1].chunks_exact(LANES))
        .zip(w[2].chunks_exact(LANES))
        .zip(w[3].chunks_exact(LANES));
    for ((((x, w0), w1), w2), w3) in it {
        lanes_madd(&mut a0, w0, x);
        lanes_madd(&mut a1, w1, x);
        lanes_madd(&mut a2, w2, x);
        lanes_madd(&mut a3, w3, x);
    }
    [hsum(&a0), hsum(&a1), hsum(&a2), hsum(&a3)]
}

/// Four dot products of one shared weight row `w` against four inputs.
/// All slices must have the length of `w`, a multiple of [`LANES`].
#[inline(always)]
fn dot_inputs4(w: &[f32], x: [&[f32]; 4]) -> [f32; 4] {
    debug_assert!(w.len().is_multiple_of(LANES) && x.iter().all(|r| r.len() == w.len()));
    let (mut a0, mut a1, mut a2, mut a3) =
        ([0.0f32; LANES], [0.0; LANES], [0.0; LANES], [0.0; LANES]);
    let it = w
        .chunks_exact(LANES)
        .zip(x[0].chunks_exact(LANES))
        .zip(x[1].chunks_exact(LANES))
        .zip(x[2].chunks_exact(LANES))
        .zip(x[3].chunks_exact(LANES));
    for ((((w, x0), x1), x2), x3) in it {
        lanes_madd(&mut a0, w, x0);
        lanes_madd(&mut a1, w, x1);
        lanes_madd(&mut a2, w, x2);
        lanes_madd(&mut a3, w, x3);
    }
    [hsum(&a0), hsum(&a1), hsum(&a2), hsum(&a3)]
}

/// Four dot products of four weight rows against a shared input, all made of `taps`
/// consecutive blocks of `C` values (`C` a multiple of [`LANES`]). The compile-time block
/// length keeps LLVM's vectoriser on plain lane-wise multiply-adds.
#[inline(always)]
fn dot_rows4_blocks<const C: usize>(w: [&[f32]; 4], x: &[f32]) -> [f32; 4] {
    let (mut a0, mut a1, mut a2, mut a3) =
        ([0.0f32; LANES], [0.0; LANES], [0.0; LANES], [0.0; LANES]);
    for (k, x) in x.chunks_exact(C).enumerate() {
        let x: &[f32; C] = x.try_into().expect("block");
        let blk = |r: usize| -> &[f32; C] { w[r][k * C..(k + 1) * C].try_into().expect("block") };
        let (w0, w1, w2, w3) = (blk(0), blk(1), blk(2), blk(3));
        for j in (0..C).step_by(LANES) {
            let xs = &x[j..j + LANES];
            lanes_madd(&mut a0, &w0[j..j + LANES], xs);
            lanes_madd(&mut a1, &w1[j..j + LANES], xs);
            lanes_madd(&mut a2, &w2[j..j + LANES], xs);
            lanes_madd(&mut a3, &w3[j..j + LANES], xs);
        }
    }
    [hsum(&a0), hsum(&a1), hsum(&a2), hsum(&a3)]
}

/// `Conv1d(kernel 3, padding 1, stride)` + ReLU on a time-major `[t_in][C_IN]` input,
/// writing time-major `[t_out][c_out]`. Taps that fall on the zero padding are skipped
/// (they contribute exactly zero).
fn conv_relu<const C_IN: usize>(layer: &ConvLayer, input: &[f32], t_in: usize, out: &mut [f32]) {
    let c_out = layer.c_out;
    debug_assert_eq!(layer.c_in, C_IN);
    let t_out = (t_in + 2 - 3) / layer.stride + 1;
    debug_assert_eq!(input.len(), t_in * C_IN);
    debug_assert_eq!(out.len(), t_out * c_out);
    for (t, out_t) in out.chunks_exact_mut(c_out).enumerate() {
        // Input frame of tap k is centre + k - 1; keep taps with 0 <= frame < t_in.
        let centre = t * layer.stride;
        let k_lo = usize::from(centre == 0);
        let k_hi = 3.min(t_in + 1 - centre);
        let x = &input[(centre + k_lo - 1) * C_IN..(centre + k_hi - 1) * C_IN];
        let row = |o: usize| &layer.w[(o * 3 + k_lo) * C_IN..(o * 3 + k_hi) * C_IN];
        for (o4, (out4, b4)) in out_t
            .chunks_exact_mut(4)
            .zip(layer.b.chunks_exact(4))
            .enumerate()
        {
            let o = 4 * o4;
            let d = dot_rows4_blocks::<C_IN>([row(o), row(o + 1), row(o + 2), row(o + 3)], x);
            for j in 0..4 {
                out4[j] = (d[j] + b4[j]).max(0.0);
            }
        }
    }
}

#[inline]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Per-instance scratch buffers (no allocation per chunk).
#[derive(Debug, Clone)]
struct Scratch {
    /// Context + chunk + right reflect padding, 640 samples.
    padded: [f32; PADDED_LEN],
    /// STFT output `[N_FRAMES][STFT_ROWS]`.
    spec: [[f32; STFT_ROWS]; N_FRAMES],
    /// Magnitude, time-major `[N_FRAMES][MAG_STRIDE]` (channels 129.. stay zero).
    mag: [f32; N_FRAMES * MAG_STRIDE],
    e0: [f32; 4 * 128],
    e1: [f32; 2 * 64],
    e2: [f32; 64],
    /// LSTM input `[x (encoder output, 128) ; h (previous hidden, 128)]`.
    xh: [f32; 2 * HIDDEN],
    gates: [f32; 4 * HIDDEN],
}

impl Scratch {
    fn new() -> Box<Self> {
        Box::new(Self {
            padded: [0.0; PADDED_LEN],
            spec: [[0.0; STFT_ROWS]; N_FRAMES],
            mag: [0.0; N_FRAMES * MAG_STRIDE],
            e0: [0.0; 4 * 128],
            e1: [0.0; 2 * 64],
            e2: [0.0; 64],
            xh: [0.0; 2 * HIDDEN],
            gates: [0.0; 4 * HIDDEN],
        })
    }
}

/// Streaming Silero VAD v5 detector for 16 kHz mono audio.
///
/// Feed consecutive 512-sample chunks (32 ms) to [`SileroVad::process_chunk`]; each call
/// returns the speech probability of that chunk and updates the LSTM state `(h, c)` and the
/// 64-sample context exactly as silero-vad's ONNX model + `OnnxWrapper` do. The weights are
/// parsed once per process and shared (cheap to create many detectors, e.g. one per thread
/// or per independent stretch of audio).
#[derive(Debug, Clone)]
pub struct SileroVad {
    weights: Arc<Weights>,
    /// LSTM hidden state `h` (ONNX `state[0]`).
    h: [f32; HIDDEN],
    /// LSTM cell state `c` (ONNX `state[1]`).
    c: [f32; HIDDEN],
    /// Last 64 samples of the previous chunk.
    context: [f32; CONTEXT_SAMPLES],
    scratch: Box<Scratch>,
    /// Buffers of the batched path, allocated on its first use.
    batch: Option<Box<BatchScratch>>,
}

impl Default for SileroVad {
    fn default() -> Self {
        Self::new()
    }
}

impl SileroVad {
    /// Creates a detector with the embedded Silero VAD v5 weights and a zero state.
    ///
    /// The embedded blob is parsed on first use and shared by all instances.
    pub fn new() -> Self {
        let weights = EMBEDDED_WEIGHTS
            .get_or_init(|| {
                Arc::new(Weights::parse(EMBEDDED_BLOB).expect("embedded Silero VAD blob is valid"))
            })
            .clone();
        Self::with_weights(weights)
    }

    /// Creates a detector from a weight blob in the `tools/export_silero.py` format.
    pub fn from_blob(blob: &[u8]) -> Result<Self, ModelError> {
        Ok(Self::with_weights(Arc::new(Weights::parse(blob)?)))
    }

    fn with_weights(weights: Arc<Weights>) -> Self {
        Self {
            weights,
            h: [0.0; HIDDEN],
            c: [0.0; HIDDEN],
            context: [0.0; CONTEXT_SAMPLES],
            scratch: Scratch::new(),
            batch: None,
        }
    }

    /// Resets the LSTM state and the context to zero (start of a new, unrelated stream).
    pub fn reset(&mut self) {
        self.h = [0.0; HIDDEN];
        self.c = [0.0; HIDDEN];
        self.context = [0.0; CONTEXT_SAMPLES];
    }

    /// Processes the next 32 ms chunk of 16 kHz mono audio (full-scale ±1.0 floats, i.e.
    /// int16 / 32768) and returns its speech probability in `0.0..=1.0`.
    pub fn process_chunk(&mut self, chunk: &[f32; CHUNK_SAMPLES]) -> f32 {
        let w = &*self.weights;
        let s = &mut *self.scratch;

        // 1-2. [context | chunk] then right reflect padding: padded[576 + j] = x[574 - j].
        s.padded[..CONTEXT_SAMPLES].copy_from_slice(&self.context);
        s.padded[CONTEXT_SAMPLES..INPUT_LEN].copy_from_slice(chunk);
        for j in 0..STFT_PAD {
            s.padded[INPUT_LEN + j] = s.padded[INPUT_LEN - 2 - j];
        }
        self.context
            .copy_from_slice(&s.padded[INPUT_LEN - CONTEXT_SAMPLES..INPUT_LEN]);

        // 3. STFT: each basis row against the 4 frames, then magnitude.
        let frames: [&[f32]; N_FRAMES] =
            std::array::from_fn(|f| &s.padded[f * HOP..f * HOP + N_FFT]);
        for (r, row) in w.stft.chunks_exact(N_FFT).enumerate() {
            let d = dot_inputs4(row, frames);
            for (spec_f, v) in s.spec.iter_mut().zip(d) {
                spec_f[r] = v;
            }
        }
        for (spec, mag) in s.spec.iter().zip(s.mag.chunks_exact_mut(MAG_STRIDE)) {
            let (re, im) = spec.split_at(N_BINS);
            mag[0] = (re[0] * re[0]).sqrt();
            for ((m, r), i) in mag[1..N_BINS - 1].iter_mut().zip(&re[1..]).zip(im) {
                *m = (r * r + i * i).sqrt();
            }
            mag[N_BINS - 1] = (re[N_BINS - 1] * re[N_BINS - 1]).sqrt();
        }

        // 4. Encoder: 4 frames -> 4 -> 2 -> 1 -> 1; the last block writes the LSTM input x.
        conv_relu::<MAG_STRIDE>(&w.enc[0], &s.mag, N_FRAMES, &mut s.e0);
        conv_relu::<128>(&w.enc[1], &s.e0, 4, &mut s.e1);
        conv_relu::<64>(&w.enc[2], &s.e1, 2, &mut s.e2);
        conv_relu::<64>(&w.enc[3], &s.e2, 1, &mut s.xh[..HIDDEN]);

        // 5. LSTM cell: gates = W_ih x + W_hh h + b_ih + b_hh, order i, f, g, o.
        s.xh[HIDDEN..].copy_from_slice(&self.h);
        let row = |g: usize| &w.lstm_w[g * 2 * HIDDEN..(g + 1) * 2 * HIDDEN];
        for (g4, (out4, b4)) in s
            .gates
            .chunks_exact_mut(4)
            .zip(w.lstm_b.chunks_exact(4))
            .enumerate()
        {
            let g = 4 * g4;
            let d = dot_rows4([row(g), row(g + 1), row(g + 2), row(g + 3)], &s.xh);
            for j in 0..4 {
                out4[j] = d[j] + b4[j];
            }
        }
        let (gi, rest) = s.gates.split_at(HIDDEN);
        let (gf, rest) = rest.split_at(HIDDEN);
        let (gg, go) = rest.split_at(HIDDEN);
        let mut logit = w.dec_b;
        for k in 0..HIDDEN {
            let c = sigmoid(gf[k]) * self.c[k] + sigmoid(gi[k]) * gg[k].tanh();
            let h = sigmoid(go[k]) * c.tanh();
            self.c[k] = c;
            self.h[k] = h;
            // 6. Decoder: ReLU -> 1x1 conv (128 -> 1); sigmoid below.
            logit += w.dec_w[k] * h.max(0.0);
        }
        sigmoid(logit)
    }

    /// Processes `samples` (length a multiple of [`CHUNK_SAMPLES`]) as consecutive chunks,
    /// writing one probability per chunk into `probs` (`samples.len() / 512` long).
    ///
    /// The same computation as calling [`SileroVad::process_chunk`] on each chunk in turn, but
    /// batched (see [`SileroVad::process_chunks_gated`]): the results agree to float rounding
    /// (the sums run in another order), not bit for bit.
    ///
    /// # Panics
    /// If the lengths do not match.
    pub fn process_chunks(&mut self, samples: &[f32], probs: &mut [f32]) {
        assert!(samples.len().is_multiple_of(CHUNK_SAMPLES), "partial chunk");
        assert_eq!(samples.len() / CHUNK_SAMPLES, probs.len(), "probs length");
        self.run_batched(samples, |_| true, probs);
    }

    /// Processes consecutive chunks of which only those with `active[i]` go through the
    /// network; an inactive chunk gets probability 0 and resets the detector ([`reset`]
    /// semantics: zero state, zero context), as the speech gate's energy pre-gate wants.
    ///
    /// Equivalent to `if active[i] { process_chunk(chunk) } else { reset(); 0.0 }` per chunk,
    /// computed in batches of up to [`BATCH_CHUNKS`] active chunks: the STFT, the four
    /// convolution blocks and the input half of the LSTM gates of a batch do not depend on
    /// the recurrent state, so they run as matrix products over the whole batch (ndarray /
    /// matrixmultiply GEMM); only the recurrent half `W_hh · h` and the cell update run chunk
    /// by chunk. The sums run in another order than in [`SileroVad::process_chunk`], so the
    /// probabilities agree with it to float rounding (≈ 1e-6), not bit for bit; they depend
    /// only on the samples and `active`, never on how many chunks are passed per call.
    ///
    /// [`reset`]: SileroVad::reset
    ///
    /// # Panics
    /// If `samples.len() != 512 * active.len()` or `probs.len() != active.len()`.
    pub fn process_chunks_gated(&mut self, samples: &[f32], active: &[bool], probs: &mut [f32]) {
        assert_eq!(
            samples.len(),
            active.len() * CHUNK_SAMPLES,
            "samples length"
        );
        assert_eq!(active.len(), probs.len(), "probs length");
        self.run_batched(samples, |i| active[i], probs);
    }
}
