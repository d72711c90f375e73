//! The multilingual-e5-small encoder: the E5S1 file reader and the BERT forward pass.
//!
//! The file keeps every linear layer and the word-embedding table in ggml's Q4_0 blocks; the
//! rest (position and type embeddings, layer norms, biases) is f32. Linear layers become candle
//! f32 weights, dequantised once at load so candle's runtime-dispatched gemm does the work. The
//! 250k-row word table stays as raw Q4_0 bytes: only the rows of the tokens in a batch are
//! dequantised.

use std::borrow::Cow;
use std::collections::HashMap;

use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType};
use candle_core::{Device, Tensor};

use super::kernels::{AddNorm, Attention, BiasGelu, Norm, Span, HEAD_MULTIPLE};
use super::EmbedError;

/// Q4_0: 32 weights per block, stored as an f16 scale then 16 bytes of nibbles.
const QK: usize = 32;
const Q4_BLOCK_BYTES: usize = 18;

/// Shape of the encoder, read from the file header.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub hidden: usize,
    pub heads: usize,
    pub vocab: usize,
    pub max_positions: usize,
}

fn err(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Model(e.to_string())
}

impl From<candle_core::Error> for EmbedError {
    fn from(e: candle_core::Error) -> Self {
        err(e)
    }
}

/// A little-endian reader over the file bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EmbedError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| err("model file is truncated"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], EmbedError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u16(&mut self) -> Result<u16, EmbedError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, EmbedError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn i32(&mut self) -> Result<i32, EmbedError> {
        Ok(i32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, EmbedError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn f32(&mut self) -> Result<f32, EmbedError> {
        Ok(f32::from_le_bytes(self.array()?))
    }
    fn usize(&mut self) -> Result<usize, EmbedError> {
        usize::try_from(self.i32()?).map_err(|_| err("negative size in model header"))
    }
}

/// One tensor of the file directory.
struct Entry {
    elements: usize,
    offset: usize,
    len: usize,
}

impl Entry {
    fn is_f32(&self) -> bool {
        self.len == self.elements * 4
    }
}

/// A linear layer `y = x W^T + b`. The product is candle's (gemm); the bias is added by the
/// fused kernel that reads the product.
struct Linear {
    /// `W^T`, dequantised from Q4_0 and stored `[in, out]`: gemm ran a one-query batch about
    /// twice as fast on this layout as on a transposed view of `[out, in]`.
    weight_t: Tensor,
    bias: Vec<f32>,
}

impl Linear {
    /// `x W^T`, without the bias.
    fn product(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.weight_t)
    }
}

struct Layer {
    /// Query, key and value projections fused into one `[3H, H]` matrix.
    qkv: Linear,
    attn_out: Linear,
    attn_norm: Norm,
    ffn_in: Linear,
    ffn_out: Linear,
    out_norm: Norm,
}

impl Layer {
    /// One encoder layer over a packed `[tokens, hidden]` batch.
    fn forward(&self, x: &Tensor, spans: &[Span], heads: usize) -> candle_core::Result<Tensor> {
        let qkv = self.qkv.product(x)?;
        let ctx = qkv.apply_op1_no_bwd(&Attention { bias: &self.qkv.bias, spans, heads })?;
        let y = self.attn_out.product(&ctx)?;
        y.inplace_op2(x, &AddNorm { bias: &self.attn_out.bias, norm: &self.attn_norm })?;
        let mid = self.ffn_in.product(&y)?;
        mid.inplace_op1(&BiasGelu { bias: &self.ffn_in.bias })?;
        let out = self.ffn_out.product(&mid)?;
        out.inplace_op2(&y, &AddNorm { bias: &self.ffn_out.bias, norm: &self.out_norm })?;
        Ok(out)
    }
}

/// The loaded encoder.
pub struct Model {
    cfg: Config,
    /// The whole file; the word table is read from it in place.
    file: Cow<'static, [u8]>,
    word_offset: usize,
    /// Position embeddings plus the (single) token-type embedding, `[max_positions, hidden]`.
    pos_type: Vec<f32>,
    emb_norm: Norm,
    layers: Vec<Layer>,
}

impl Model {
    /// Parses an E5S1 file (see `models/README.md`).
    pub fn from_bytes(file: Cow<'static, [u8]>) -> Result<Model, EmbedError> {
        let device = Device::Cpu;
        let bytes: &[u8] = &file;
        let mut c = Cursor { bytes, pos: 0 };
        if c.take(4)? != b"E5S1" {
            return Err(err("not an E5S1 model file"));
        }
        let _version = c.u32()?;
        let hidden = c.usize()?;
        let layers = c.usize()?;
        let heads = c.usize()?;
        let ffn = c.usize()?;
        let vocab = c.usize()?;
        let max_positions = c.usize()?;
        let _type_vocab = c.usize()?;
        let eps = c.f32()?;
        let block = c.usize()?;
        let head_fits = heads > 0 && hidden % heads == 0 && (hidden / heads) % HEAD_MULTIPLE == 0;
        if block != QK || hidden % QK != 0 || ffn % QK != 0 || !head_fits {
            return Err(err("unsupported model shape"));
        }
        // The SentencePiece vocabulary: the tokenizer comes from tokenizer.json instead.
        let pieces = c.usize()?;
        let _special = [c.i32()?, c.i32()?, c.i32()?, c.i32()?];
        let blob = usize::try_from(c.u64()?).map_err(err)?;
        c.take((pieces + 1) * 4 + pieces * 4 + blob)?;
        // The normaliser section.
        let _count = c.i32()?;
        let norm_len = c.u32()? as usize;
        c.take(norm_len)?;

        let n = c.usize()?;
        let mut dir = HashMap::with_capacity(n);
        for _ in 0..n {
            let name_len = c.u16()? as usize;
            let name = String::from_utf8_lossy(c.take(name_len)?).into_owned();
            let _dtype = c.take(1)?;
            let elements = c.u32()? as usize;
            let offset = usize::try_from(c.u64()?).map_err(err)?;
            let len = usize::try_from(c.u64()?).map_err(err)?;
            if offset.checked_add(len).is_none_or(|end| end > bytes.len()) {
                return Err(err(format!("tensor {name} lies outside the file")));
            }
            dir.insert(name, Entry { elements, offset, len });
        }
        let get = |name: &str| -> Result<&Entry, EmbedError> {
            dir.get(name).ok_or_else(|| err(format!("tensor {name} missing")))
        };
        let f32s = |name: &str, elements: usize| -> Result<Vec<f32>, EmbedError> {
            let e = get(name)?;
            if !e.is_f32() || e.elements != elements {
                return Err(err(format!("tensor {name} has an unexpected shape")));
            }
            Ok(bytes[e.offset..e.offset + e.len]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let q4 = |name: &str, rows: usize, cols: usize| -> Result<&[u8], EmbedError> {
            let e = get(name)?;
            if e.elements != rows * cols || e.len != rows * cols / QK * Q4_BLOCK_BYTES {
                return Err(err(format!("tensor {name} is not a [{rows}, {cols}] Q4_0 matrix")));
            }
            Ok(&bytes[e.offset..e.offset + e.len])
        };
        let linear = |names: &[&str], rows: usize, cols: usize| -> Result<Linear, EmbedError> {
            let mut raw = Vec::with_capacity(names.len() * rows * cols / QK * Q4_BLOCK_BYTES);
            let mut bias = Vec::with_capacity(names.len() * rows);
            for name in names {
                raw.extend_from_slice(q4(&format!("{name}.w"), rows, cols)?);
                bias.extend(f32s(&format!("{name}.b"), rows)?);
            }
            let out = names.len() * rows;
            let q = qtensor_from_ggml(GgmlDType::Q4_0, &raw, vec![out, cols], &device).map_err(err)?;
            // Dequantised once at load: candle's f32 matmul (gemm) picks AVX2/AVX-512/NEON at
            // run time, while its Q4_0 kernels only use the SIMD the binary was compiled for
            // (plain SSE2 for a default x86-64 build), which measured ten times slower. The
            // linear layers are 21M weights, 85 MB as f32; the word table stays Q4_0.
            let w = q.dequantize(&device).map_err(err)?;
            Ok(Linear { weight_t: w.t().map_err(err)?.contiguous().map_err(err)?, bias })
        };
        let norm = |name: &str| -> Result<Norm, EmbedError> {
            Ok(Norm {
                weight: f32s(&format!("{name}.w"), hidden)?,
                bias: f32s(&format!("{name}.b"), hidden)?,
                eps,
            })
        };

        q4("emb.word", vocab, hidden)?;
        let word_offset = get("emb.word")?.offset;
        let mut pos_type = f32s("emb.pos", max_positions * hidden)?;
        let token_type = f32s("emb.type", get("emb.type")?.elements)?;
        for row in pos_type.chunks_exact_mut(hidden) {
            for (p, t) in row.iter_mut().zip(&token_type[..hidden]) {
                *p += t;
            }
        }
        let emb_norm = norm("emb.ln")?;
        let layers = (0..layers)
            .map(|l| {
                let p = |s: &str| format!("l{l}.{s}");
                Ok(Layer {
                    qkv: linear(&[&p("q"), &p("k"), &p("v")], hidden, hidden)?,
                    attn_out: linear(&[&p("ao")], hidden, hidden)?,
                    attn_norm: norm(&p("aln"))?,
                    ffn_in: linear(&[&p("fi")], ffn, hidden)?,
                    ffn_out: linear(&[&p("fo")], hidden, ffn)?,
                    out_norm: norm(&p("oln"))?,
                })
            })
            .collect::<Result<Vec<_>, EmbedError>>()?;
        let cfg = Config { hidden, heads, vocab, max_positions };
        Ok(Model { cfg, file, word_offset, pos_type, emb_norm, layers })
    }

    pub fn config(&self) -> Config {
        self.cfg
    }

    /// Word + position + type embeddings of a batch, packed: `[total tokens, hidden]`.
    fn embeddings(&self, seqs: &[&[u32]], tokens: usize) -> Result<Vec<f32>, EmbedError> {
        let h = self.cfg.hidden;
        let row_bytes = h / QK * Q4_BLOCK_BYTES;
        let mut out = vec![0f32; tokens * h];
        let positions = seqs.iter().flat_map(|s| s.iter().enumerate());
        for ((pos, &id), dst) in positions.zip(out.chunks_exact_mut(h)) {
            let id = id as usize;
            if id >= self.cfg.vocab {
                return Err(err(format!("token id {id} is outside the vocabulary")));
            }
            let start = self.word_offset + id * row_bytes;
            let row = &self.file[start..start + row_bytes];
            let pos = &self.pos_type[pos * h..(pos + 1) * h];
            for ((block, d), p) in
                row.chunks_exact(Q4_BLOCK_BYTES).zip(dst.chunks_exact_mut(QK)).zip(pos.chunks_exact(QK))
            {
                let scale = f16_to_f32(u16::from_le_bytes([block[0], block[1]]));
                for (j, &q) in block[2..].iter().enumerate() {
                    d[j] = f32::from(i16::from(q & 0x0f) - 8) * scale + p[j];
                    d[j + 16] = f32::from(i16::from(q >> 4) - 8) * scale + p[j + 16];
                }
            }
        }
        Ok(out)
    }

    /// Runs the encoder over a batch of token-id sequences (each at most `max_positions`
    /// long, special tokens included) and returns one L2-normalised mean-pooled vector each.
    ///
    /// The batch is packed (see [`super::kernels`]): its real tokens only, no padding, so the
    /// cost follows the total length whatever the mix of lengths.
    pub fn embed(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let h = self.cfg.hidden;
        if seqs.iter().any(|s| s.len() > self.cfg.max_positions) {
            return Err(err("sequence longer than the model's positions"));
        }
        let mut spans = Vec::with_capacity(seqs.len());
        let mut tokens = 0;
        for s in seqs {
            spans.push(tokens..tokens + s.len());
            tokens += s.len();
        }
        if tokens == 0 {
            return Ok(vec![Vec::new(); seqs.len()]);
        }
        let mut emb = self.embeddings(seqs, tokens)?;
        self.emb_norm.apply(&mut emb);
        let mut x = Tensor::from_vec(emb, (tokens, h), &Device::Cpu)?;
        for layer in &self.layers {
            x = layer.forward(&x, &spans, self.cfg.heads)?;
        }
        let x = x.flatten_all()?.to_vec1::<f32>()?;
        Ok(spans.iter().map(|span| mean_pool(&x[span.start * h..span.end * h], h)).collect())
    }
}

/// The L2-normalised mean of a sequence's rows (empty for an empty sequence).
fn mean_pool(rows: &[f32], width: usize) -> Vec<f32> {
    if rows.is_empty() {
        return Vec::new();
    }
    let mut v = vec![0f32; width];
    for row in rows.chunks_exact(width) {
        for (a, r) in v.iter_mut().zip(row) {
            *a += r;
        }
    }
    normalise(&mut v);
    v
}

/// Scales a vector to unit length (mean pooling's 1/n cancels out here).
fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt().max(1e-12);
    for a in v {
        *a /= norm;
    }
}

/// IEEE half to single precision.
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    let bits = match exp {
        0 if mant == 0 => sign,
        0 => {
            // Subnormal: shift the mantissa up until its leading bit is the implicit one.
            let mut e = 127 - 15 + 1;
            let mut m = mant;
            while m & 0x400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | (e << 23) | ((m & 0x3ff) << 13)
        }
        31 => sign | 0x7f80_0000 | (mant << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (mant << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::f16_to_f32;

    #[test]
    fn half_conversion() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
    }
}
