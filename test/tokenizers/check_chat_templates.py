#!/usr/bin/env python3
"""Compares vgcu's chat templates with python3-jinja2 rendering them as transformers does.

Usage: check_chat_templates.py FIXTURES_DIR CASES.jsonl [--bin-dir DIR]

The reference is transformers' apply_chat_template written out: an
ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loop controls, its tojson
filter, raise_exception and strftime_now, rendered with tokenizer_config.json's special tokens,
tools=None unless given, and the case's variables. Prompts must be equal; a case the template
refuses with raise_exception must fail in vgcu with the same message, and any other error of
the reference must be an error in vgcu too.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATES = ["llama3_1", "qwen3", "deepseek_v3", "gemma3"]
SPECIAL_KEYS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                "mask_token"]


class Raised(Exception):
    pass


def raise_exception(message):
    raise Raised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def strftime_now(format):
    return datetime.datetime.now().strftime(format)


def special_tokens(config):
    tokens = {}
    for key in SPECIAL_KEYS:
        value = config.get(key)
        if isinstance(value, dict):
            value = value.get("content")
        if isinstance(value, str) and value:
            tokens[key] = value
    return tokens


def render_reference(config, case):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    template = env.from_string(config["chat_template"])
    variables = dict(special_tokens(config))
    variables.update({"tools": None, "add_generation_prompt": False})
    variables.update(case)
    try:
        return {"prompt": template.render(**variables)}
    except Raised as e:
        return {"raised": str(e)}
    except Exception as e:  # the template failed some other way (TypeError, UndefinedError)
        return {"failed": "%s: %s" % (type(e).__name__, e)}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixtures")
    parser.add_argument("cases")
    parser.add_argument("--bin-dir", default="")
    parser.add_argument("--template", help="check this template (with Llama 3.1's special "
                        "tokens) instead of the four tokenizers' own")
    options = parser.parse_args(argv[1:])
    tool = os.path.join(options.bin_dir, "vgcu-tokenize") if options.bin_dir else "vgcu-tokenize"
    with open(options.cases, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    problems = []
    for name in ["custom"] if options.template else TEMPLATES:
        directory = os.path.join(options.fixtures, "llama3_1" if options.template else name)
        with open(os.path.join(directory, "tokenizer_config.json"), encoding="utf-8") as f:
            config = json.load(f)
        command = [tool, directory, "--chat", options.cases]
        if options.template:
            with open(options.template, encoding="utf-8") as f:
                config["chat_template"] = f.read()
            command += ["--chat-template", options.template]
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        ours = [json.loads(line) for line in result.stdout.split("\n") if line]
        if len(ours) != len(cases):
            problems.append("%s: %d cases, vgcu-tokenize wrote %d lines (exit %d): %s" % (
                name, len(cases), len(ours), result.returncode, result.stderr[-1000:]))
            continue
        counts = {"prompt": 0, "raised": 0, "failed": 0}
        for index, (case, got) in enumerate(zip(cases, ours)):
            want = render_reference(config, case)
            kind = next(iter(want))
            counts[kind] += 1
            where = "%s, case %d" % (name, index + 1)
            if kind == "prompt" and got.get("prompt") != want["prompt"]:
                problems.append("%s: vgcu %r, jinja2 %r" % (
                    where, got.get("prompt", got.get("error")), want["prompt"]))
            elif kind == "raised" and not got.get("error", "").endswith(want["raised"]):
                problems.append("%s: jinja2 raised %r, vgcu %r" % (where, want["raised"], got))
            elif kind == "failed" and "error" not in got:
                problems.append("%s: jinja2 failed (%s), vgcu rendered %r" % (
                    where, want["failed"], got.get("prompt")))
        expected_status = 1 if counts["raised"] or counts["failed"] else 0
        if result.returncode != expected_status:
            problems.append("%s: vgcu-tokenize exited with %d, expected %d" % (
                name, result.returncode, expected_status))
        print("%-12s %d prompts equal, %d raised, %d other errors" % (
            name, counts["prompt"], counts["raised"], counts["failed"]))
    for problem in problems[:40]:
        print("FAIL " + problem)
    if problems:
        print("%d problems" % len(problems))
        return 1
    print("all chat templates agree with jinja2")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
