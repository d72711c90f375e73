//! The encoder's work between two matrix products, as fused candle custom ops.
//!
//! candle runs each element-wise op (bias add, residual add, scaling, transposes, the attention
//! mask) as its own single-threaded pass into a fresh tensor; in BERT's forward pass those passes
//! cost more than the matrix products. Here each step between two products is one pass over the
//! product's output, in place where it can be, split across rayon's threads:
//!
//! - [`BiasGelu`]: bias add and GELU on the FFN's hidden layer;
//! - [`AddNorm`]: bias add, residual add and layer norm after each sub-layer;
//! - [`Attention`]: per sequence and head, `softmax(q k^T / sqrt(d)) v` over the sequence's own
//!   tokens, reading q, k and v straight out of the fused QKV product.
//!
//! The batch is *packed*: a `[tokens, hidden]` matrix of the real tokens of every sequence, one
//! after another, with no padding; only attention looks at sequence boundaries ([`Span`]).
//!
//! The binary targets baseline x86-64 (SSE2), so the loops run under pulp's safe run-time
//! dispatch, which compiles them again for AVX2/AVX-512 (or NEON) and picks the best one the CPU
//! has. The row-wise kernels are plain loops that LLVM vectorises (element-wise, or reductions
//! with [`LANES`] independent accumulators: it will not reorder one running float sum);
//! attention's products use pulp's explicit vectors ([`Head`]).

use std::ops::Range;

use candle_core::{CpuStorage, CustomOp1, InplaceOp1, InplaceOp2, Layout, Shape};
use pulp::{Simd, WithSimd};
use rayon::prelude::*;

/// Independent accumulators in reductions: two AVX2 registers' worth.
const LANES: usize = 16;
/// Rows per rayon task in the row-wise kernels: a single query stays on the calling thread.
const ROWS_PER_TASK: usize = 32;

/// Rows `[start, end)` of the packed batch that belong to one sequence.
pub type Span = Range<usize>;

/// Runs `f` compiled for the best SIMD extension the CPU has (pulp's run-time dispatch); `f`
/// and what it calls must inline into it (`#[inline(always)]`) to benefit.
#[inline(always)]
fn vectorised<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// A layer norm's parameters.
pub struct Norm {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub eps: f32,
}

impl Norm {
    /// Normalises every `weight.len()`-wide row of `x` in place.
    pub fn apply(&self, x: &mut [f32]) {
        let width = self.weight.len();
        x.par_chunks_mut(width * ROWS_PER_TASK).for_each(|rows| {
            vectorised(
                #[inline(always)]
                || {
                    for row in rows.chunks_exact_mut(width) {
                        self.row(row);
                    }
                },
            )
        });
    }

    /// Two passes (mean, then variance about it), as precise as the reference engine's.
    #[inline(always)]
    fn row(&self, row: &mut [f32]) {
        let n = row.len() as f32;
        let mean = sum(row) / n;
        let var = sum_sq_dev(row, mean) / n;
        let inv = 1.0 / (var + self.eps).sqrt();
        for ((y, g), b) in row.iter_mut().zip(&self.weight).zip(&self.bias) {
            *y = (*y - mean) * inv * g + b;
        }
    }
}

/// `x = gelu(x + bias)` in place, over rows of `bias.len()`: the FFN's hidden layer.
pub struct BiasGelu<'a> {
    pub bias: &'a [f32],
}

impl InplaceOp1 for BiasGelu<'_> {
    fn name(&self) -> &'static str {
        "bias-gelu"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        let x = contiguous_mut(storage, layout, self.bias.len())?;
        x.par_chunks_mut(self.bias.len() * ROWS_PER_TASK).for_each(|rows| {
            vectorised(
                #[inline(always)]
                || {
                    for row in rows.chunks_exact_mut(self.bias.len()) {
                        for (a, b) in row.iter_mut().zip(self.bias) {
                            *a = gelu(*a + b);
                        }
                    }
                },
            )
        });
        Ok(())
    }
}

/// `y = norm(y + bias + residual)` in place: what follows attention's and the FFN's output
/// projections. The second tensor is the residual (the sub-layer's input).
pub struct AddNorm<'a> {
    pub bias: &'a [f32],
    pub norm: &'a Norm,
}

impl InplaceOp2 for AddNorm<'_> {
    fn name(&self) -> &'static str {
        "add-norm"
    }

    fn cpu_fwd(
        &self,
        out: &mut CpuStorage,
        out_layout: &Layout,
        residual: &CpuStorage,
        residual_layout: &Layout,
    ) -> candle_core::Result<()> {
        let width = self.bias.len();
        let y = contiguous_mut(out, out_layout, width)?;
        let x = contiguous(residual, residual_layout, width)?;
        if x.len() != y.len() {
            candle_core::bail!("add-norm: residual and output differ in size");
        }
        let chunk = width * ROWS_PER_TASK;
        y.par_chunks_mut(chunk).zip(x.par_chunks(chunk)).for_each(|(ys, xs)| {
            vectorised(
                #[inline(always)]
                || {
                    for (y, x) in ys.chunks_exact_mut(width).zip(xs.chunks_exact(width)) {
                        for ((y, x), b) in y.iter_mut().zip(x).zip(self.bias) {
                            *y += x + b;
                        }
                        self.norm.row(y);
                    }
                },
            )
        });
        Ok(())
    }
}

/// Multi-head self-attention over a packed `[tokens, 3 * hidden]` QKV product (bias not yet
/// added), giving the `[tokens, hidden]` context. Each (sequence, head) is one rayon task that
/// sees only its sequence's rows, so padding and masks do not exist.
pub struct Attention<'a> {
    /// The QKV bias, `3 * hidden`.
    pub bias: &'a [f32],
    pub spans: &'a [Span],
    pub heads: usize,
}

impl CustomOp1 for Attention<'_> {
    fn name(&self) -> &'static str {
        "attention"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let width = self.bias.len();
        let qkv = contiguous(storage, layout, width)?;
        let hidden = width / 3;
        let tokens = qkv.len() / width;
        let d = hidden / self.heads;
        // Each sequence writes its own rows of the context; its heads run in parallel too, so
        // that a single query uses every core.
        let mut ctx = vec![0f32; tokens * hidden];
        let mut rest = ctx.as_mut_slice();
        let mut jobs = Vec::with_capacity(self.spans.len());
        let mut next = 0;
        for span in self.spans {
            if span.start != next || span.end > tokens {
                candle_core::bail!("attention: sequences must tile the batch in order");
            }
            let (rows, tail) = rest.split_at_mut(span.len() * hidden);
            jobs.push((span, rows));
            rest = tail;
            next = span.end;
        }
        jobs.into_par_iter().for_each(|(span, rows)| {
            let heads: Vec<Vec<f32>> = (0..self.heads)
                .into_par_iter()
                .map(|head| pulp::Arch::new().dispatch(Head { attention: self, qkv, span, head }))
                .collect();
            for (head, out) in heads.iter().enumerate() {
                for (row, o) in rows.chunks_exact_mut(hidden).zip(out.chunks_exact(d)) {
                    row[head * d..][..d].copy_from_slice(o);
                }
            }
        });
        Ok((CpuStorage::F32(ctx), Shape::from((tokens, hidden))))
    }
}

/// One head of one sequence, for [`Attention`]: computes its `[len, d]` context rows.
///
/// Both products work on tiles of [`TILE_ROWS`] queries by two SIMD vectors of keys (or of
/// context columns), in accumulators that stay in registers. The vectors are pulp's explicit
/// ones: left to itself, LLVM vectorised such tiles along the wrong axis. Queries and keys are
/// padded with zeros to whole tiles; padded scores are left out of the softmax.
struct Head<'a> {
    attention: &'a Attention<'a>,
    qkv: &'a [f32],
    span: &'a Span,
    head: usize,
}

impl WithSimd for Head<'_> {
    type Output = Vec<f32>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Vec<f32> {
        let tile = 2 * S::F32_LANES;
        let len = self.span.len();
        let keys = len.next_multiple_of(tile);
        let HeadInputs { q, kt, v, d } = self.gather(keys);
        let mut out = vec![0f32; q.len()];
        let mut p = vec![0f32; TILE_ROWS * keys];
        for (qs, outs) in q.chunks_exact(TILE_ROWS * d).zip(out.chunks_exact_mut(TILE_ROWS * d)) {
            for j in (0..keys).step_by(tile) {
                let acc =
                    tile_product(simd, qs.chunks_exact(d), kt.chunks_exact(keys).map(|k| &k[j..j + tile]));
                store::<S>(p.chunks_exact_mut(keys).map(|pr| &mut pr[j..j + tile]), acc);
            }
            for pr in p.chunks_exact_mut(keys) {
                softmax(&mut pr[..len]);
            }
            for c in (0..d).step_by(tile) {
                let probs = p.chunks_exact(keys).map(|pr| &pr[..len]);
                let acc = tile_product(simd, probs, v.chunks_exact(d).map(|vj| &vj[c..c + tile]));
                store::<S>(outs.chunks_exact_mut(d).map(|o| &mut o[c..c + tile]), acc);
            }
        }
        out.truncate(len * d);
        out
    }
}

/// A head's inputs, bias added: q (scaled) `[len rounded up to TILE_ROWS, d]`, k transposed
/// `[d, keys]` and v `[len, d]`, zero-padded.
struct HeadInputs {
    q: Vec<f32>,
    kt: Vec<f32>,
    v: Vec<f32>,
    d: usize,
}

impl Head<'_> {
    /// Copies the head's slices out of the QKV rows. Not inlined into the SIMD code: there,
    /// LLVM turned k's transposition into AVX-512 scatters, which AMD's cores run slowly.
    #[inline(never)]
    fn gather(&self, keys: usize) -> HeadInputs {
        let (bias, span) = (self.attention.bias, self.span);
        let width = bias.len();
        let hidden = width / 3;
        let d = hidden / self.attention.heads;
        let len = span.len();
        let scale = 1.0 / (d as f32).sqrt();
        let at = self.head * d;
        let (q_at, k_at, v_at) = (at, hidden + at, 2 * hidden + at);
        let mut q = vec![0f32; len.next_multiple_of(TILE_ROWS) * d];
        let (mut kt, mut v) = (vec![0f32; d * keys], vec![0f32; len * d]);
        let rows = self.qkv[span.start * width..span.end * width].chunks_exact(width);
        for (i, ((row, qi), vi)) in rows.zip(q.chunks_exact_mut(d)).zip(v.chunks_exact_mut(d)).enumerate() {
            let part = |start: usize| row[start..start + d].iter().zip(&bias[start..start + d]);
            for (dst, (x, b)) in qi.iter_mut().zip(part(q_at)) {
                *dst = (x + b) * scale;
            }
            for (c, (x, b)) in part(k_at).enumerate() {
                kt[c * keys + i] = x + b;
            }
            for (dst, (x, b)) in vi.iter_mut().zip(part(v_at)) {
                *dst = x + b;
            }
        }
        HeadInputs { q, kt, v, d }
    }
}

/// Query rows per attention tile.
const TILE_ROWS: usize = 4;
/// Head sizes must be a multiple of this: two AVX-512 vectors, the widest tile.
pub const HEAD_MULTIPLE: usize = 32;

/// One tile of a product `A B`: `a` yields A's [`TILE_ROWS`] rows (`n` long), `b` yields B's
/// `n` rows restricted to the tile's two vectors of columns.
#[inline(always)]
fn tile_product<'a, 'b, S: Simd>(
    simd: S,
    a: impl Iterator<Item = &'a [f32]>,
    b: impl Iterator<Item = &'b [f32]>,
) -> [[S::f32s; 2]; TILE_ROWS] {
    let mut rows: [&[f32]; TILE_ROWS] = [&[]; TILE_ROWS];
    for (r, a) in rows.iter_mut().zip(a) {
        *r = a;
    }
    let n = rows[0].len();
    let rows = rows.map(|r| &r[..n]);
    let zero = simd.splat_f32s(0.0);
    let mut acc = [[zero; 2]; TILE_ROWS];
    for (i, b) in b.take(n).enumerate() {
        let (b, _) = S::as_simd_f32s(b);
        let (b0, b1) = (b[0], b[1]);
        for (acc, row) in acc.iter_mut().zip(&rows) {
            let a = simd.splat_f32s(row[i]);
            acc[0] = simd.mul_add_e_f32s(a, b0, acc[0]);
            acc[1] = simd.mul_add_e_f32s(a, b1, acc[1]);
        }
    }
    acc
}

/// Writes a tile's rows.
#[inline(always)]
fn store<'o, S: Simd>(rows: impl Iterator<Item = &'o mut [f32]>, acc: [[S::f32s; 2]; TILE_ROWS]) {
    for (row, acc) in rows.zip(acc) {
        let (row, _) = S::as_mut_simd_f32s(row);
        row[0] = acc[0];
        row[1] = acc[1];
    }
}

/// Softmax of a row in place.
#[inline(always)]
fn softmax(x: &mut [f32]) {
    let max = reduce(x, f32::NEG_INFINITY, |acc, v| acc.max(v), f32::max);
    for v in x.iter_mut() {
        *v = exp(*v - max);
    }
    let inv = 1.0 / sum(x);
    for v in x.iter_mut() {
        *v *= inv;
    }
}

#[inline(always)]
fn sum(x: &[f32]) -> f32 {
    reduce(x, 0.0, |acc, v| acc + v, |a, b| a + b)
}

/// `sum((x - mean)^2)`.
#[inline(always)]
fn sum_sq_dev(x: &[f32], mean: f32) -> f32 {
    reduce(x, 0.0, |acc, v| acc + (v - mean) * (v - mean), |a, b| a + b)
}

/// Folds `x` into [`LANES`] independent accumulators (`step`), then combines them (`merge`).
#[inline(always)]
fn reduce(x: &[f32], init: f32, step: impl Fn(f32, f32) -> f32, merge: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = step(*a, v);
        }
    }
    let acc = acc.into_iter().fold(init, &merge);
    tail.iter().fold(acc, |a, &v| step(a, v))
}

/// GELU with the exact (erf) form BERT uses.
#[inline(always)]
pub(super) fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7, below f32's resolution
/// of GELU's output where it matters).
#[inline(always)]
pub(super) fn erf(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly =
        t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp(-x * x);
    y.copysign(x)
}

/// e^x to within 2 ulp (Cephes' `expf`), in plain arithmetic so that it vectorises, unlike a
/// call to libm. Inputs are clamped to the range with a normal, finite result.
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    // Rounding to nearest by adding 1.5 * 2^23 leaves n in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    // x - n ln 2 in two steps (Cody and Waite), so that r keeps its precision.
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_2e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    let n = shifted.to_bits().wrapping_sub(ROUND.to_bits()) as i32;
    er * f32::from_bits(((n + 127) as u32) << 23)
}

fn contiguous<'a>(storage: &'a CpuStorage, layout: &Layout, width: usize) -> candle_core::Result<&'a [f32]> {
    match (storage, layout.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((start, end))) if layout.dims().last() == Some(&width) => {
            Ok(&v[start..end])
        }
        _ => candle_core::bail!("expected a contiguous f32 matrix {width} wide"),
    }
}

fn contiguous_mut<'a>(
    storage: &'a mut CpuStorage,
    layout: &Layout,
    width: usize,
) -> candle_core::Result<&'a mut [f32]> {
    match (storage, layout.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((start, end))) if layout.dims().last() == Some(&width) => {
            Ok(&mut v[start..end])
        }
        _ => candle_core::bail!("expected a contiguous f32 matrix {width} wide"),
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};

    use super::*;

    /// Deterministic values in [-1, 1).
    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    fn tensor(v: Vec<f32>, width: usize) -> Tensor {
        let rows = v.len() / width;
        Tensor::from_vec(v, (rows, width), &Device::Cpu).unwrap()
    }

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1().unwrap()
    }

    fn assert_close(got: &[f32], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len());
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            assert!((f64::from(g) - w).abs() <= tol, "at {i}: {g} vs {w}");
        }
    }

    /// A layer norm in f64, the obvious way.
    fn reference_norm(row: &[f64], norm: &Norm) -> Vec<f64> {
        let n = row.len() as f64;
        let mean = row.iter().sum::<f64>() / n;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let inv = 1.0 / (var + f64::from(norm.eps)).sqrt();
        row.iter()
            .zip(norm.weight.iter().zip(&norm.bias))
            .map(|(v, (&g, &b))| (v - mean) * inv * f64::from(g) + f64::from(b))
            .collect()
    }

    fn norm(width: usize) -> Norm {
        let weight = noise(width, 1).iter().map(|v| 1.0 + v / 2.0).collect();
        Norm { weight, bias: noise(width, 2), eps: 1e-12 }
    }

    #[test]
    fn exp_is_within_two_ulp_of_std() {
        for i in -8700..=8800 {
            let x = i as f32 / 100.0;
            let (got, want) = (exp(x), x.exp());
            assert!((got - want).abs() <= 2.0 * f32::EPSILON * want, "exp({x}) = {got}, want {want}");
        }
        assert!(exp(-1000.0) >= 0.0 && exp(-1000.0) < 1e-37, "underflow clamps to a tiny normal");
        assert!(exp(1000.0).is_finite());
    }

    #[test]
    fn erf_and_gelu_match_known_values() {
        for (x, want) in
            [(0.0f32, 0.0f32), (0.5, 0.520_499_9), (1.0, 0.842_700_8), (2.0, 0.995_322_3), (3.0, 0.999_977_9)]
        {
            assert!((erf(x) - want).abs() < 3e-7, "erf({x}) = {} want {want}", erf(x));
            assert!((erf(-x) + want).abs() < 3e-7, "erf is odd at {x}");
        }
        for (x, want) in [(-1.0f32, -0.158_655_3f32), (0.5, 0.345_731_3), (1.0, 0.841_344_7), (2.0, 1.954_5)]
        {
            assert!((gelu(x) - want).abs() < 1e-6, "gelu({x}) = {} want {want}", gelu(x));
        }
    }

    #[test]
    fn layer_norm_matches_a_plain_reference() {
        let width = 384;
        let norm = norm(width);
        // 70 rows: more than one rayon task, and a part-filled last one.
        let x: Vec<f32> = noise(70 * width, 3).iter().map(|v| 3.0 * v + 0.5).collect();
        let mut got = x.clone();
        norm.apply(&mut got);
        let want: Vec<f64> = x
            .chunks_exact(width)
            .flat_map(|r| reference_norm(&r.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(), &norm))
            .collect();
        assert_close(&got, &want, 1e-5);
    }

    #[test]
    fn add_norm_adds_bias_and_residual_before_normalising() {
        let width = 384;
        let norm = norm(width);
        let bias = noise(width, 4);
        let (y, x) = (noise(40 * width, 5), noise(40 * width, 6));
        let out = tensor(y.clone(), width);
        out.inplace_op2(&tensor(x.clone(), width), &AddNorm { bias: &bias, norm: &norm }).unwrap();
        let want: Vec<f64> = (0..40)
            .flat_map(|r| {
                let row: Vec<f64> = (0..width)
                    .map(|c| f64::from(y[r * width + c]) + f64::from(x[r * width + c]) + f64::from(bias[c]))
                    .collect();
                reference_norm(&row, &norm)
            })
            .collect();
        assert_close(&values(&out), &want, 1e-5);
    }

    #[test]
    fn bias_gelu_adds_the_bias_first() {
        let width = 1536;
        let bias = noise(width, 7);
        let x: Vec<f32> = noise(3 * width, 8).iter().map(|v| 4.0 * v).collect();
        let t = tensor(x.clone(), width);
        t.inplace_op1(&BiasGelu { bias: &bias }).unwrap();
        let want: Vec<f64> =
            x.iter().enumerate().map(|(i, &v)| f64::from(gelu(v + bias[i % width]))).collect();
        assert_close(&values(&t), &want, 1e-6);
    }

    /// Softmax attention per sequence and head in f64, the obvious way.
    fn reference_attention(qkv: &[f32], bias: &[f32], spans: &[Span], heads: usize) -> Vec<f64> {
        let width = bias.len();
        let hidden = width / 3;
        let d = hidden / heads;
        let at = |row: usize, col: usize| f64::from(qkv[row * width + col] + bias[col]);
        let mut out = vec![0f64; spans.last().map_or(0, |s| s.end) * hidden];
        for span in spans {
            for h in 0..heads {
                for i in span.clone() {
                    let scores: Vec<f64> = span
                        .clone()
                        .map(|j| (0..d).map(|c| at(i, h * d + c) * at(j, hidden + h * d + c)).sum::<f64>())
                        .map(|s| s / (d as f64).sqrt())
                        .collect();
                    let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                    let total: f64 = e.iter().sum();
                    for c in 0..d {
                        out[i * hidden + h * d + c] = span
                            .clone()
                            .zip(&e)
                            .map(|(j, p)| p / total * at(j, 2 * hidden + h * d + c))
                            .sum();
                    }
                }
            }
        }
        out
    }

    #[test]
    fn attention_matches_a_plain_reference_per_sequence() {
        let (hidden, heads) = (384, 12);
        // Lengths around the tile sizes (4 rows, 16 and 32 keys), including a single token.
        let lengths = [1, 3, 4, 5, 17, 32, 33, 70];
        let mut spans = Vec::new();
        for len in lengths {
            let start = spans.last().map_or(0, |s: &Span| s.end);
            spans.push(start..start + len);
        }
        let tokens = spans.last().unwrap().end;
        let qkv: Vec<f32> = noise(tokens * 3 * hidden, 9).iter().map(|v| 2.0 * v).collect();
        let bias = noise(3 * hidden, 10);
        let ctx = tensor(qkv.clone(), 3 * hidden)
            .apply_op1_no_bwd(&Attention { bias: &bias, spans: &spans, heads })
            .unwrap();
        assert_eq!(ctx.dims(), &[tokens, hidden]);
        assert_close(&values(&ctx), &reference_attention(&qkv, &bias, &spans, heads), 1e-5);
    }

    #[test]
    fn attention_rejects_spans_that_do_not_tile_the_batch() {
        let (hidden, heads) = (384, 12);
        let qkv = tensor(noise(10 * 3 * hidden, 11), 3 * hidden);
        let bias = noise(3 * hidden, 12);
        for spans in [vec![0..4, 5..10], vec![0..5, 5..11]] {
            assert!(qkv.apply_op1_no_bwd(&Attention { bias: &bias, spans: &spans, heads }).is_err());
        }
    }
}
