#!/usr/bin/env python3
"""Compares vgcu-tokenize with the JavaScript reference (@lenml/tokenizers) on a corpus.

Usage: check_tokenizers.py FIXTURES_DIR CORPUS.jsonl [--bin-dir DIR] [--only NAME]

FIXTURES_DIR is what scripts/fetch-tokenizers.sh made: one directory per tokenizer with
tokenizer.json and tokenizer_config.json, and lenml-tokenizers/ with the JavaScript library.
For every text, vgcu's ids (with and without the post-processor's special tokens) must equal
the reference's exactly, its decoded text must equal the reference's, decode(encode(x)) must
give x back where the tokenizer is lossless, and the text streamed one token at a time must
equal the text decoded at once.
"""
import argparse
import json
import os
import subprocess
import sys
import unicodedata

TOKENIZERS = ["llama2", "llama3", "llama3_1", "qwen3", "deepseek_v3", "gemma3"]

# Where the reference is not what Hugging Face's Python tokenizers (and so vLLM) give, vgcu
# follows Python; these are the known places, each with its reason.
# DeepSeek-V3: transformers' LlamaTokenizerFast rebuilds the post-processor from
# tokenizer_config.json's add_bos_token (true), so Python encodes with a leading bos;
# transformers.js keeps tokenizer.json's post-processor, which adds none.
PYTHON_ADDS_BOS = {"deepseek_v3": 0}

# decode(encode(x)) gives x back, up to what a tokenizer cannot keep by design: Qwen's NFC
# normalizer composes characters; SentencePiece-style vocabularies write spaces as U+2581, so
# one in the text comes back as a space; Llama 2's legacy normalizer puts a U+2581 before the
# text after each added token (so those texts are not compared).
def round_trip(name, text):
    if name == "qwen3":
        return unicodedata.normalize("NFC", text)
    if name == "gemma3":
        return text.replace("\u2581", " ")
    if name == "llama2":
        if any(token in text for token in ("<s>", "</s>", "<unk>")):
            return None
        return text.replace("\u2581", " ")
    return text

def run_reference(fixtures, name, corpus):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.js")
    result = subprocess.run(["node", script, os.path.join(fixtures, "lenml-tokenizers"),
                             os.path.join(fixtures, name), corpus],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.exit("reference.js failed for %s:\n%s" % (name, result.stderr[-2000:]))
    return [json.loads(line) for line in result.stdout.split("\n") if line]


def run_vgcu(tool, fixtures, name, corpus):
    result = subprocess.run([tool, os.path.join(fixtures, name), "--batch", corpus],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.exit("vgcu-tokenize failed for %s:\n%s" % (name, result.stderr[-2000:]))
    return [json.loads(line) for line in result.stdout.split("\n") if line]


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixtures")
    parser.add_argument("corpus")
    parser.add_argument("--bin-dir", default="")
    parser.add_argument("--only", action="append", help="check only these tokenizers")
    options = parser.parse_args(argv[1:])
    tool = os.path.join(options.bin_dir, "vgcu-tokenize") if options.bin_dir else "vgcu-tokenize"
    with open(options.corpus, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    problems = []
    for name in options.only or TOKENIZERS:
        reference = run_reference(options.fixtures, name, options.corpus)
        ours = run_vgcu(tool, options.fixtures, name, options.corpus)
        if len(reference) != len(texts) or len(ours) != len(texts):
            problems.append("%s: %d texts, %d reference lines, %d vgcu lines" % (
                name, len(texts), len(reference), len(ours)))
            continue
        checked = 0
        for index, (text, want, got) in enumerate(zip(texts, reference, ours)):
            where = "%s, text %d %r" % (name, index + 1, text[:60])
            want_ids = list(want["ids"])
            if name in PYTHON_ADDS_BOS:
                want_ids = [PYTHON_ADDS_BOS[name]] + want_ids
            for key, expected in (("ids", want_ids),
                                  ("ids_without_special", want["ids_without_special"])):
                if got[key] != expected:
                    at = first_difference(got[key], expected)
                    problems.append("%s: %s differ at %d: vgcu %s, reference %s" % (
                        where, key, at, got[key][max(0, at - 2):at + 4],
                        expected[max(0, at - 2):at + 4]))
            keys = ["decoded_skip_special", "decoded_without_cleanup"]
            if name not in PYTHON_ADDS_BOS:
                keys.append("decoded")
            for key in keys:
                if got[key] != want[key]:
                    problems.append("%s: %s: vgcu %r, reference %r" % (
                        where, key, got[key][:120], want[key][:120]))
            if got["streamed"] != got["decoded_without_cleanup"]:
                problems.append("%s: streamed %r but decoded at once %r" % (
                    where, got["streamed"][:120], got["decoded_without_cleanup"][:120]))
            expected_text = round_trip(name, text)
            if expected_text is not None and got["decoded_without_cleanup"] != expected_text:
                problems.append("%s: decode(encode(x)) is %r" % (
                    where, got["decoded_without_cleanup"][:120]))
            checked += 1
        print("%-12s %d texts checked" % (name, checked))
    for problem in problems[:60]:
        print("FAIL " + problem)
    if problems:
        print("%d problems" % len(problems))
        return 1
    print("all tokenizers agree with the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
