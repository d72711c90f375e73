#!/usr/bin/env python3
"""Refits the answer confidence (src/answer/compose.rs, `confidence`) from `baton eval --features` files.

    baton eval --corpus DOCS --questions Q1 --store S --features /tmp/f1.jsonl
    baton eval --corpus DOCS --questions benches/calibration.questions.jsonl --store S --features /tmp/f2.jsonl
    python3 benches/fit_confidence.py /tmp/f1.jsonl /tmp/f2.jsonl

Class-balanced logistic regression on (lift, cosine - 0.85) with a little L2, plus a 5-fold
cross-validation so a change of features can be judged on questions it was not fitted on.
Needs numpy.
"""
import json
import sys

import numpy as np


def load(paths):
    x, y = [], []
    for p in paths:
        for line in open(p):
            r = json.loads(line)
            f = r["features"]
            x.append([f["lift"], f["cosine"] - 0.85])
            y.append(1 if r["in_scope"] else 0)
    return np.array(x), np.array(y)


def fit(x, y, l2=0.01, steps=20000, lr=0.5):
    scale = np.array([40.0, 40.0])
    xb = np.hstack([x * scale, np.ones((len(x), 1))])
    w = np.zeros(3)
    weight = np.where(y == 1, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        w -= lr * (xb.T @ ((p - y) * weight) / len(y) + l2 * np.r_[w[:2], 0])
    return np.r_[w[:2] * scale, w[2]]


def rates(w, x, y):
    p = 1 / (1 + np.exp(-(x @ w[:2] + w[2])))
    return (p[y == 1] >= 0.5).mean(), (p[y == 0] < 0.5).mean()


x, y = load(sys.argv[1:])
w = fit(x, y)
print("z = %.1f*lift + %.1f*(cos - 0.85) %+.2f" % tuple(w))
print("in sample: answered_in_scope %.3f declined_out_of_scope %.3f" % rates(w, x, y))
idx = np.random.default_rng(0).permutation(len(y))
answered, declined = [], []
for fold in np.array_split(idx, 5):
    train = np.setdiff1d(idx, fold)
    wf = fit(x[train], y[train])
    p = 1 / (1 + np.exp(-(x[fold] @ wf[:2] + wf[2])))
    answered += list(p[y[fold] == 1] >= 0.5)
    declined += list(p[y[fold] == 0] < 0.5)
print("5-fold:    answered_in_scope %.3f declined_out_of_scope %.3f" % (np.mean(answered), np.mean(declined)))
