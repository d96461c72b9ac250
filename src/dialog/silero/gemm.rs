//! The batched forward pass's matrix products on AVX-512 (issue 17).
//!
//! matrixmultiply, which runs them elsewhere, has no AVX-512 kernels; the `gemm` crate has, but
//! its API takes raw pointers in `unsafe fn`s, which loudqc's `forbid(unsafe_code)` excludes.
//! The products here are narrow and fixed: the right-hand side is always a weight matrix
//! (N = 64, 128 or 512 columns, K = 64 to 387 rows), so it is packed once when the weights
//! load, in column panels of [`NR`] floats, and the kernel needs no packing at run time: each
//! step broadcasts one element of [`MR`] rows of the left-hand side and multiply-adds it into
//! `MR × NR` accumulators (12 AVX-512 registers). The code is generic over pulp's SIMD types,
//! so the unit tests also run it on the scalar fallback against a plain triple loop.

use std::ops::Range;

/// Columns per packed panel: two AVX-512 vectors of `f32`.
pub(super) const NR: usize = 32;
/// Rows of the left-hand side per kernel step: 6 × 2 accumulators + 2 panel vectors + 1
/// broadcast fit the 32 AVX-512 registers with room to spare, and 12 independent multiply-add
/// chains cover the FMA latency.
const MR: usize = 6;

/// A `K × N` right-hand side packed as `[N / NR][K][NR]`: panel `p`, row `k` holds columns
/// `p·NR .. p·NR + NR` of row `k`, so a run of rows of one panel is contiguous.
#[derive(Debug, Clone)]
pub(super) struct PackedB {
    k: usize,
    n: usize,
    panels: Vec<f32>,
}

impl PackedB {
    /// Packs the `k × n` matrix whose element `(row, col)` is `at(row, col)`; `n` must be a
    /// multiple of [`NR`] (every weight matrix of the network is).
    pub(super) fn new(k: usize, n: usize, at: impl Fn(usize, usize) -> f32) -> Self {
        assert!(
            n.is_multiple_of(NR),
            "{n} columns is not a whole number of panels"
        );
        let mut panels = Vec::with_capacity(k * n);
        for p in 0..n / NR {
            for row in 0..k {
                panels.extend((0..NR).map(|j| at(row, p * NR + j)));
            }
        }
        Self { k, n, panels }
    }
}

/// A row-major matrix inside a slice: row `r` is `data[offset + r·stride ..][..cols]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rows {
    pub offset: usize,
    pub stride: usize,
    pub count: usize,
}

/// The AVX-512 instruction set, when the CPU has it (found once per scratch buffer).
#[derive(Debug, Clone, Copy)]
pub(super) struct Avx512 {
    #[cfg(target_arch = "x86_64")]
    simd: pulp::x86::V4,
}

impl Avx512 {
    /// `Some` on a CPU with AVX-512 F/BW/CD/DQ/VL (x86-64-v4).
    pub(super) fn detect() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            pulp::x86::V4::try_new().map(|simd| Self { simd })
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            None
        }
    }

    /// `c = a · b[rows]`: `a` has `k_rows.len()` columns, `c` has `b`'s columns; `c` is
    /// overwritten.
    pub(super) fn gemm(
        self,
        a: (&[f32], Rows),
        b: &PackedB,
        k_rows: Range<usize>,
        c: (&mut [f32], Rows),
    ) {
        #[cfg(target_arch = "x86_64")]
        pulp::Simd::vectorize(self.simd, Gemm { a, b, k_rows, c });
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (a, b, k_rows, c);
    }
}

/// One product, generic over the SIMD type (see [`Avx512::gemm`]).
pub(super) struct Gemm<'a> {
    pub a: (&'a [f32], Rows),
    pub b: &'a PackedB,
    pub k_rows: Range<usize>,
    pub c: (&'a mut [f32], Rows),
}

impl pulp::WithSimd for Gemm<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let Gemm {
            a: (a, ar),
            b,
            k_rows,
            c: (c, cr),
        } = self;
        assert_eq!(ar.count, cr.count, "a and c have the same rows");
        assert!(k_rows.end <= b.k, "rows {k_rows:?} of a {}-row matrix", b.k);
        let k = k_rows.len();
        for p in 0..b.n / NR {
            let panel = &b.panels[(p * b.k + k_rows.start) * NR..(p * b.k + k_rows.end) * NR];
            let mut r = 0;
            while r < ar.count {
                let rows = MR.min(ar.count - r);
                let a_row = |i: usize| &a[ar.offset + (r + i) * ar.stride..][..k];
                let c_at = cr.offset + r * cr.stride + p * NR;
                match rows {
                    MR => block::<S, MR>(simd, a_row, panel, c, c_at, cr.stride),
                    5 => block::<S, 5>(simd, a_row, panel, c, c_at, cr.stride),
                    4 => block::<S, 4>(simd, a_row, panel, c, c_at, cr.stride),
                    3 => block::<S, 3>(simd, a_row, panel, c, c_at, cr.stride),
                    2 => block::<S, 2>(simd, a_row, panel, c, c_at, cr.stride),
                    _ => block::<S, 1>(simd, a_row, panel, c, c_at, cr.stride),
                }
                r += rows;
            }
        }
    }
}

/// `R` rows of `c` (from `c_at`, `c_stride` apart), one panel wide: the sum over the panel's
/// rows of `a_row(i)[k] · panel[k]`, two vectors of columns at a time in `R × 2` registers
/// (the whole panel on AVX-512; narrower vectors take several passes).
#[inline(always)]
fn block<'a, S: pulp::Simd, const R: usize>(
    simd: S,
    a_row: impl Fn(usize) -> &'a [f32],
    panel: &[f32],
    c: &mut [f32],
    c_at: usize,
    c_stride: usize,
) {
    let a: [&[f32]; R] = std::array::from_fn(a_row);
    let k = a[0].len();
    let vectors = NR / (std::mem::size_of::<S::f32s>() / std::mem::size_of::<f32>());
    for pair in (0..vectors).step_by(2) {
        let mut acc = [[simd.splat_f32s(0.0); 2]; R];
        for (kk, row) in panel.chunks_exact(NR).enumerate().take(k) {
            let (b, _) = S::as_simd_f32s(row);
            let (b0, b1) = (b[pair], b[pair + 1]);
            for (acc, a) in acc.iter_mut().zip(&a) {
                let x = simd.splat_f32s(a[kk]);
                acc[0] = simd.mul_add_e_f32s(x, b0, acc[0]);
                acc[1] = simd.mul_add_e_f32s(x, b1, acc[1]);
            }
        }
        for (i, acc) in acc.iter().enumerate() {
            let (out, _) = S::as_mut_simd_f32s(&mut c[c_at + i * c_stride..][..NR]);
            out[pair..pair + 2].copy_from_slice(acc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random matrix element.
    fn value(seed: usize, i: usize, j: usize) -> f32 {
        let h = (seed * 7919 + i * 104_729 + j * 1_299_709) % 2003;
        h as f32 / 1001.0 - 1.0
    }

    /// The kernel against a plain triple loop, on strided rows, a row range of `b`, and row
    /// counts that leave every tail size, on the scalar fallback and (where the CPU has it)
    /// AVX-512.
    #[test]
    fn gemm_matches_the_triple_loop() {
        let (kb, n) = (40, 64);
        let b = PackedB::new(kb, n, |i, j| value(1, i, j));
        for m in [1, 5, 6, 7, 12, 17] {
            let k_rows = 3..37;
            let k = k_rows.len();
            let ar = Rows {
                offset: 5,
                stride: k + 9,
                count: m,
            };
            let a: Vec<f32> = (0..ar.offset + m * ar.stride)
                .map(|x| value(2, x, 0))
                .collect();
            let cr = Rows {
                offset: 3,
                stride: n + 4,
                count: m,
            };
            let mut want = vec![0.0f32; cr.offset + m * cr.stride];
            for r in 0..m {
                for j in 0..n {
                    let mut s = 0.0f64;
                    for (kk, row) in k_rows.clone().enumerate() {
                        s += f64::from(a[ar.offset + r * ar.stride + kk])
                            * f64::from(value(1, row, j));
                    }
                    want[cr.offset + r * cr.stride + j] = s as f32;
                }
            }
            let mut runs = vec![];
            let mut scalar = vec![0.0f32; want.len()];
            pulp::WithSimd::with_simd(
                Gemm {
                    a: (&a, ar),
                    b: &b,
                    k_rows: k_rows.clone(),
                    c: (&mut scalar, cr),
                },
                pulp::Scalar::new(),
            );
            runs.push(scalar);
            if let Some(simd) = Avx512::detect() {
                let mut v4 = vec![0.0f32; want.len()];
                simd.gemm((&a, ar), &b, k_rows.clone(), (&mut v4, cr));
                runs.push(v4);
            }
            for got in runs {
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!((g - w).abs() < 1e-4, "m {m} at {i}: {g} vs {w}");
                }
                // Untouched outside the rows and columns of c.
                assert!(got[..cr.offset].iter().all(|&v| v == 0.0));
                assert!(got[cr.offset + n..cr.offset + cr.stride]
                    .iter()
                    .all(|&v| v == 0.0));
            }
        }
    }
}
