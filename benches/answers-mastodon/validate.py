#!/usr/bin/env python3
"""Validate the Mastodon answer-quality bench.

Checks: every line parses; every `expect` file exists in corpus/; nuggets.jsonl
follows the in-scope questions in order; every nugget alternative is lower case,
1-4 words and occurs (lower case, NFKD, accents removed) in its expected page;
one alternative per group fits in a single window of <= 1000 characters of the
page (so an extractive quote can pass); counts per language and kind.
Run from anywhere: python3 benches/answers-mastodon/validate.py
"""
import json, os, sys, unicodedata, itertools
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
WINDOW = 1000


def norm(s):
    s = unicodedata.normalize("NFKD", s.lower())
    return "".join(c for c in s if not unicodedata.combining(c))


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{i}: bad JSON: {e}")
    return rows


def positions(text, alt):
    out, i = [], text.find(alt)
    while i >= 0:
        out.append((i, i + len(alt)))
        i = text.find(alt, i + 1)
    return out


def min_window(text, groups):
    """Smallest span covering one occurrence of one alternative per group."""
    occ = [sorted(p for a in g for p in positions(text, norm(a))) for g in groups]
    best = None
    for combo in itertools.product(*occ):
        span = max(e for _, e in combo) - min(s for s, _ in combo)
        if best is None or span < best:
            best = span
    return best


errors = []
qs = load(os.path.join(HERE, "questions.jsonl"))
ns = load(os.path.join(HERE, "nuggets.jsonl"))
corpus_files = {os.path.relpath(os.path.join(d, f), CORPUS)
                for d, _, fs in os.walk(CORPUS) for f in fs}

in_scope = [q for q in qs if not q.get("out_of_scope")]
oos = [q for q in qs if q.get("out_of_scope")]
for q in qs:
    for k in ("q", "expect", "lang"):
        if k not in q:
            errors.append(f"missing {k}: {q}")
    if q.get("out_of_scope") and q["expect"]:
        errors.append(f"out_of_scope with expect: {q['q']}")
    if not q.get("out_of_scope") and not q["expect"]:
        errors.append(f"in-scope without expect: {q['q']}")
    for e in q["expect"]:
        if e not in corpus_files:
            errors.append(f"expect file missing from corpus: {e}")

if len(ns) != len(in_scope):
    errors.append(f"{len(ns)} nugget rows for {len(in_scope)} in-scope questions")
for q, n in zip(in_scope, ns):
    if n["q"] != q["q"] or n["lang"] != q["lang"]:
        errors.append(f"order/lang mismatch: {q['q']!r} vs {n['q']!r}")
    groups = n["nuggets"]
    if not 1 <= len(groups) <= 3:
        errors.append(f"{len(groups)} groups: {q['q']}")
    texts = {e: norm(open(os.path.join(CORPUS, e), encoding="utf-8").read()) for e in q["expect"]}
    for g in groups:
        if not g:
            errors.append(f"empty group: {q['q']}")
        for a in g:
            if a != a.lower():
                errors.append(f"not lower case: {a!r}")
            if not 1 <= len(a.split()) <= 4:
                errors.append(f"alternative not 1-4 words: {a!r}")
            if not any(norm(a) in t for t in texts.values()):
                errors.append(f"alternative {a!r} not in {q['expect']} ({q['q']})")
    spans = [min_window(t, groups) for t in texts.values()]
    spans = [s for s in spans if s is not None]
    if not spans or min(spans) > WINDOW:
        errors.append(f"no {WINDOW}-char window covers all groups ({spans}): {q['q']}")

# provenance: sources.tsv lists every corpus page with its commit and length
src = {}
with open(os.path.join(HERE, "sources.tsv"), encoding="utf-8") as f:
    next(f)
    for line in f:
        p, commit, n = line.rstrip("\n").split("\t")
        src[p] = (commit, int(n))
if set(src) != corpus_files:
    errors.append(f"sources.tsv and corpus differ: {sorted(set(src) ^ corpus_files)}")
for p, (commit, n) in src.items():
    if p in corpus_files:
        got = len(open(os.path.join(CORPUS, p), encoding="utf-8").read())
        if got != n:
            errors.append(f"{p}: {got} chars, source had {n}")

c_in = Counter(q["lang"] for q in in_scope)
c_kind = Counter(q.get("kind", "off_topic") for q in oos)
print(f"corpus pages: {len(corpus_files)}")
print(f"questions: {len(qs)}  in-scope: {len(in_scope)} {dict(c_in)}  out-of-scope: {len(oos)} {dict(c_kind)}")
print(f"pages used as expected answers: {len({e for q in in_scope for e in q['expect']})}")
if errors:
    print("\n".join("ERROR " + e for e in errors))
    sys.exit(1)
print("OK")
