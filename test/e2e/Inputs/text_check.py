#!/usr/bin/env python3
"""Checks vgcu-run --prompt on artifacts that carry a real tokenizer.

Usage: text_check.py MODEL_DIR WORKDIR

The model directory holds a tiny checkpoint and a tokenizer.json. Compiled at tp 1 and 2, the
artifacts must encode --prompt exactly as vgcu-tokenize does, generate the same tokens at both
sizes, print the text those tokens add to the prompt's (special tokens left out) both as a stream
and in --json,
and stop at an end-of-sequence token from generation_config.json.
"""
import json
import os
import shutil
import subprocess
import sys

# Llama 2 chat's template as its tokenizer_config.json carries it.
LLAMA2_CHAT_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}"
    "{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}")

PROMPTS = ["Hello, world!", "Once upon a time, 你好 🎉\ndef f(x):\n    return x"]


def run(*command):
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit("%s failed:\n%s" % (" ".join(command), result.stderr.decode(errors="replace")))
    return result.stdout.decode("utf-8")


def compile_artifact(model, artifact, tp):
    shutil.rmtree(artifact, ignore_errors=True)
    run("vgcu-compile", model, "-o", artifact, "--tp", str(tp), "--log-level=warn")


def main(argv):
    model, workdir = argv[1], argv[2]
    artifacts = {}
    for tp in (1, 2):
        artifacts[tp] = os.path.join(workdir, "tp%d.vgcu" % tp)
        compile_artifact(model, artifacts[tp], tp)
    failures = 0
    for prompt in PROMPTS:
        ids = [int(x) for x in run("vgcu-tokenize", model, "--text", prompt).split(",")]
        results = {}
        for tp, artifact in artifacts.items():
            out = json.loads(run("vgcu-run", artifact, "--prompt", prompt, "--max-new-tokens",
                                 "10", "--json"))
            streamed = run("vgcu-run", artifact, "--prompt", prompt, "--max-new-tokens", "10")
            # The generated text is what the tokens add to the prompt's text (decoded alone,
            # a SentencePiece decoder would drop the first token's leading space).
            def decode(tokens):
                return run("vgcu-tokenize", model, "--skip-special-tokens", "--decode",
                           ",".join(str(t) for t in tokens))[:-1]
            prompt_text = decode(ids)
            whole = decode(ids + out["tokens"])
            expected = whole[len(prompt_text):] if whole.startswith(prompt_text) else None
            checks = [("prompt ids", out["prompt_ids"] == ids),
                      ("text", out["text"] == expected),
                      ("streamed text", streamed == expected + "\n")]
            for what, ok in checks:
                if not ok:
                    failures += 1
                    print("FAIL tp=%d %r: %s differ (json %r, stream %r, decode %r)" % (
                        tp, prompt, what, out["text"], streamed, expected))
            results[tp] = out["tokens"]
        if results[1] != results[2]:
            failures += 1
            print("FAIL %r: tp 1 tokens %s, tp 2 %s" % (prompt, results[1], results[2]))
        print("%r: %d prompt tokens, %d generated, tp 1 = tp 2" % (
            prompt, len(ids), len(results[1])))

    # --chat: the chat template makes the prompt (Llama 2 chat's template, added to the
    # tokenizer config for this test), encoded without a second bos.
    with open(os.path.join(model, "tokenizer_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    config["chat_template"] = LLAMA2_CHAT_TEMPLATE
    with open(os.path.join(model, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f)
    chatting = os.path.join(workdir, "chat.vgcu")
    compile_artifact(model, chatting, 2)
    request = os.path.join(workdir, "chat.jsonl")
    with open(request, "w", encoding="utf-8") as f:
        f.write(json.dumps({"messages": [{"role": "system", "content": "Be brief."},
                                         {"role": "user", "content": "Hello there"}],
                            "add_generation_prompt": True}) + "\n")
    rendered = json.loads(run("vgcu-tokenize", model, "--chat", request))
    out = json.loads(run("vgcu-run", chatting, "--chat", "Hello there", "--system", "Be brief.",
                         "--max-new-tokens", "4", "--json"))
    if out["prompt_ids"] != rendered["ids"]:
        failures += 1
        print("FAIL chat: prompt ids %s, template ids %s" % (out["prompt_ids"], rendered["ids"]))
    print("chat: %r, %d prompt tokens" % (rendered["prompt"], len(out["prompt_ids"])))

    # End of sequence: the fourth generated token made an eos id, generation stops there.
    tokens = json.loads(run("vgcu-run", artifacts[1], "--prompt", PROMPTS[0],
                            "--max-new-tokens", "10", "--json"))["tokens"]
    eos = tokens[3]
    with open(os.path.join(model, "generation_config.json"), "w") as f:
        json.dump({"eos_token_id": eos}, f)
    stopping = os.path.join(workdir, "eos.vgcu")
    compile_artifact(model, stopping, 1)
    os.remove(os.path.join(model, "generation_config.json"))
    stopped = json.loads(run("vgcu-run", stopping, "--prompt", PROMPTS[0], "--max-new-tokens",
                             "10", "--json"))["tokens"]
    if stopped != tokens[:tokens.index(eos) + 1]:
        failures += 1
        print("FAIL eos %d: generated %s, expected %s" % (eos, stopped,
                                                          tokens[:tokens.index(eos) + 1]))
    print("eos: stopped after %d tokens" % len(stopped))
    print("OK" if failures == 0 else "%d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
