#!/usr/bin/env python3
"""Refits the answer confidence (src/answer/compose.rs, `confidence`) on answer-level labels.

    baton eval --corpus DOCS --questions Q --store S --features /tmp/f.jsonl   (one per set)
    python3 benches/fit_answer_confidence.py /tmp/f.dev.jsonl:Q_DEV /tmp/f.cal.jsonl:Q_CAL ...

Each argument is a features file and the questions file it came from. Labels are answer-level:
positive when the question is in scope AND the block the answer quotes comes from an expected
document; negative for out-of-scope questions (off-topic and on-topic-unanswerable alike) and
for in-scope questions answered from the wrong page. Features: lift, cosine - 0.85 and the quoted
block's cosine - 0.85 (`unit`). Class-balanced logistic regression with a little L2, and a
5-fold cross-validation reporting answered_in_scope / declined_out_of_scope as `baton eval`
counts them, so a change can be judged on questions it was not fitted on. Needs numpy.
"""
import json
import sys

import numpy as np

FEATURES = ["lift", "cosine", "unit"]


def load(args):
    x, y, scope = [], [], []
    for arg in args:
        feats, questions = arg.split(":")
        expect = {}
        for line in open(questions):
            if line.strip():
                q = json.loads(line)
                expect[q["q"].strip()] = q.get("expect", [])
        for line in open(feats):
            r = json.loads(line)
            f = r["features"]
            x.append([f["lift"], f["cosine"] - 0.85, f["unit"] - 0.85])
            ok = r["in_scope"] and r.get("quoted") in expect.get(r["q"].strip(), [])
            y.append(1 if ok else 0)
            scope.append(1 if r["in_scope"] else 0)
    return np.array(x), np.array(y), np.array(scope)


def fit(x, y, l2=0.01, steps=20000, lr=0.5):
    scale = np.full(x.shape[1], 40.0)
    xb = np.hstack([x * scale, np.ones((len(x), 1))])
    w = np.zeros(x.shape[1] + 1)
    weight = np.where(y == 1, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        w -= lr * (xb.T @ ((p - y) * weight) / len(y) + l2 * np.r_[w[:-1], 0])
    return np.r_[w[:-1] * scale, w[-1]]


def prob(w, x):
    return 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))


def report(name, p, y, scope):
    print(
        "%s: answered_in_scope %.3f declined_out_of_scope %.3f right-page answered %.3f wrong-page declined %.3f"
        % (
            name,
            (p[scope == 1] >= 0.5).mean(),
            (p[scope == 0] < 0.5).mean(),
            (p[y == 1] >= 0.5).mean(),
            (p[(y == 0) & (scope == 1)] < 0.5).mean() if ((y == 0) & (scope == 1)).any() else float("nan"),
        )
    )


x, y, scope = load(sys.argv[1:])
print("%d answers, %d positive" % (len(y), y.sum()))
w = fit(x, y)
print("z = %.1f*lift %+.1f*(cos - 0.85) %+.1f*(unit - 0.85) %+.2f" % tuple(w))
report("in sample", prob(w, x), y, scope)
idx = np.random.default_rng(0).permutation(len(y))
p = np.zeros(len(y))
for fold in np.array_split(idx, 5):
    train = np.setdiff1d(idx, fold)
    p[fold] = prob(fit(x[train], y[train]), x[fold])
report("5-fold   ", p, y, scope)
old = np.array([62.0, 36.0, 0.0, -2.7])
report("current  ", prob(old, x), y, scope)
