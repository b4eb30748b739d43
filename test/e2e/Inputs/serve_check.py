#!/usr/bin/env python3
"""Checks vgcu-serve with a real HTTP client (Python's http.client).

Usage: serve_check.py MODEL_DIR WORKDIR

The model directory holds a tiny checkpoint with Llama 2's tokenizer and chat template. It is
compiled at tp 1 and 2 and served; the checks: the API key, /v1/models, completions and chat
(streaming and not, the streamed text equal to the whole), 32 concurrent clients each getting
exactly the greedy text it gets alone, stop strings, malformed JSON and wrong field types
(400 with an OpenAI error body, the server still up), a client that disconnects mid-stream
(its request aborted and its KV blocks freed, as /metrics shows), tp 2 equal to tp 1, and
SIGTERM (requests in flight finish, new ones get 503, the process exits 0).
"""
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

API_KEY = "test-key"
FAILURES = []


def check(condition, what):
    if not condition:
        FAILURES.append(what)
        print("FAIL " + what)


def run(*command):
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit("%s failed:\n%s" % (" ".join(command), result.stderr.decode(errors="replace")))
    return result.stdout.decode("utf-8")


class Server:
    def __init__(self, artifact, *options):
        self.process = subprocess.Popen(
            ["vgcu-serve", artifact, "--port", "0", "--api-key", API_KEY, *options],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.process.stdout.readline().decode()
        match = re.match(r"listening on http://([\d.]+):(\d+)", line)
        if not match:
            self.process.kill()
            sys.exit("vgcu-serve did not start: %r %s" % (
                line, self.process.stderr.read().decode(errors="replace")))
        self.port = int(match.group(2))

    def request(self, method, path, body=None, key=API_KEY, raw=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = "Bearer " + key
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8")
        connection.close()
        return response.status, text

    def post(self, path, body, **options):
        status, text = self.request("POST", path, body, **options)
        return status, json.loads(text) if text.startswith("{") else text

    def stream(self, path, body):
        """The data payloads of a streamed response, and whether [DONE] ended it."""
        status, text = self.request("POST", path, dict(body, stream=True))
        events = [line[len("data: "):] for line in text.split("\n") if line.startswith("data: ")]
        done = bool(events) and events[-1] == "[DONE]"
        return status, [json.loads(e) for e in events if e != "[DONE]"], done

    def metric(self, name):
        _, text = self.request("GET", "/metrics", key=None)
        for line in text.split("\n"):
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return None

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@contextlib.contextmanager
def served(artifact, *options):
    """A Server, killed on the way out if it is still running."""
    server = Server(artifact, *options)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.kill()


def completion(server, prompt, max_tokens=12, **extra):
    status, body = server.post("/v1/completions", dict(
        prompt=prompt, max_tokens=max_tokens, temperature=0, **extra))
    if status != 200:
        return None, body
    return body["choices"][0]["text"], body


def main(argv):
    model, workdir = argv[1], argv[2]
    # Llama 2 chat's template, as text_check.py adds it.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from text_check import LLAMA2_CHAT_TEMPLATE
    config_path = os.path.join(model, "tokenizer_config.json")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    config["chat_template"] = LLAMA2_CHAT_TEMPLATE
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f)
    artifacts = {}
    for tp in (1, 2):
        artifacts[tp] = os.path.join(workdir, "tp%d.vgcu" % tp)
        shutil.rmtree(artifacts[tp], ignore_errors=True)
        run("vgcu-compile", model, "-o", artifacts[tp], "--tp", str(tp), "--log-level=warn")

    server = Server(artifacts[1], "--max-num-seqs", "40")
    try:
        # The key guards /v1/, not /health or /metrics.
        status, body = server.post("/v1/completions", {"prompt": "x"}, key=None)
        check(status == 401 and body["error"]["type"] == "authentication_error",
              "no API key: %s %s" % (status, body))
        status, _ = server.post("/v1/completions", {"prompt": "x"}, key="wrong")
        check(status == 401, "wrong API key: %s" % status)
        check(server.request("GET", "/health", key=None)[0] == 200, "/health")
        status, text = server.request("GET", "/v1/models")
        models = json.loads(text)
        check(status == 200 and models["data"][0]["id"] == "tp1", "/v1/models: %s" % text)

        # Completions: the text vgcu-run prints for the same prompt, streamed or not.
        prompt = "The quick brown fox"
        text, body = completion(server, prompt)
        expected = json.loads(run("vgcu-run", artifacts[1], "--prompt", prompt,
                                  "--max-new-tokens", "12", "--json"))["text"]
        check(text == expected, "completion %r, vgcu-run %r" % (text, expected))
        check(body["usage"]["completion_tokens"] == 12 and body["object"] == "text_completion",
              "completion body %s" % body)
        status, chunks, done = server.stream("/v1/completions", {
            "prompt": prompt, "max_tokens": 12, "temperature": 0,
            "stream_options": {"include_usage": True}})
        streamed = "".join(c["choices"][0]["text"] for c in chunks if c["choices"])
        check(status == 200 and done and streamed == text,
              "streamed %r, whole %r (done %s)" % (streamed, text, done))
        check(chunks[-1].get("usage", {}).get("completion_tokens") == 12,
              "usage chunk %s" % chunks[-1])
        print("completions: %d tokens, streamed in %d chunks" % (12, len(chunks)))

        # Chat: the chat template's prompt; the streamed deltas make the whole message.
        messages = [{"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Name a color."}]
        status, body = server.post("/v1/chat/completions", {
            "messages": messages, "max_tokens": 10, "temperature": 0})
        check(status == 200 and body["object"] == "chat.completion", "chat %s %s" % (status, body))
        content = body["choices"][0]["message"]["content"]
        request = os.path.join(workdir, "chat.jsonl")
        with open(request, "w") as f:
            f.write(json.dumps({"messages": messages, "add_generation_prompt": True}) + "\n")
        prompt_ids = json.loads(run("vgcu-tokenize", model, "--chat", request))["ids"]
        check(body["usage"]["prompt_tokens"] == len(prompt_ids),
              "chat prompt tokens %s, template %d" % (body["usage"], len(prompt_ids)))
        status, chunks, done = server.stream("/v1/chat/completions", {
            "messages": messages, "max_tokens": 10, "temperature": 0})
        check(chunks and chunks[0]["choices"][0]["delta"].get("role") == "assistant",
              "first chat chunk %s" % (chunks[:1],))
        streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        check(done and streamed == content and chunks[-1]["choices"][0]["finish_reason"],
              "chat streamed %r, whole %r" % (streamed, content))
        print("chat: %d prompt tokens" % len(prompt_ids))

        # A stop string ends the text before it.
        if len(text) > 4:
            stop = text[len(text) // 2: len(text) // 2 + 2]
            stopped, body = completion(server, prompt, stop=[stop])
            check(stopped == text[:text.index(stop)] and
                  body["choices"][0]["finish_reason"] == "stop",
                  "stop %r: %r (%s)" % (stop, stopped, body["choices"][0]["finish_reason"]))

        # Bad requests: 400 and an OpenAI error body; the server stays up.
        bad = [('{"prompt": "x", ', "invalid JSON"),
               (json.dumps({"prompt": "x", "temperature": "hot"}), "temperature"),
               (json.dumps({"prompt": "x", "max_tokens": "many"}), "max_tokens"),
               (json.dumps({"prompt": "x", "max_tokens": 100000}), "max_tokens"),
               (json.dumps({"prompt": {"text": "x"}}), "prompt"),
               (json.dumps({"prompt": "x", "stop": 5}), "stop"),
               (json.dumps({"prompt": "x", "n": 3}), "n"),
               (json.dumps({"prompt": [1, 2, 99999999]}), "prompt"),
               (json.dumps([1, 2]), "object"),
               (json.dumps({"prompt": "x", "model": "other"}), "model")]
        for raw, what in bad:
            status, text_body = server.request("POST", "/v1/completions", raw=raw)
            body = json.loads(text_body)
            check(status in (400, 404) and "message" in body.get("error", {}),
                  "bad request (%s): %s %s" % (what, status, text_body))
        status, text_body = server.request("POST", "/v1/chat/completions",
                                           raw=json.dumps({"messages": "hello"}))
        check(status == 400, "chat messages not a list: %s" % status)
        status, text_body = server.request("POST", "/v1/chat/completions", raw=json.dumps(
            {"messages": [{"role": "assistant", "content": "first"}]}))
        check(status == 400 and "roles must alternate" in text_body,
              "chat template error: %s %s" % (status, text_body))
        check(server.request("GET", "/health", key=None)[0] == 200, "up after bad requests")
        print("bad requests: %d refused, server up" % (len(bad) + 2))

        # 32 clients at once get what each gets alone.
        prompts = ["Request %d: tell me about the number %d" % (i, i * 7) for i in range(32)]
        alone = [completion(server, p, max_tokens=8 + i % 5)[0] for i, p in enumerate(prompts)]
        together = [None] * len(prompts)

        def client(i):
            together[i] = completion(server, prompts[i], max_tokens=8 + i % 5)[0]
        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(prompts))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        differing = [i for i in range(len(prompts)) if alone[i] != together[i]]
        check(not differing and None not in alone, "concurrent differ at %s" % differing)
        print("32 concurrent clients: %d equal to alone" % (len(prompts) - len(differing)))

        # A client that leaves mid-stream: its request is aborted, its blocks freed.
        connection = socket.create_connection(("127.0.0.1", server.port))
        body = json.dumps({"prompt": "A long story", "max_tokens": 100, "temperature": 0,
                           "stream": True})
        connection.sendall(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                            "%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                            % (API_KEY, len(body), body)).encode())
        received = b""
        while received.count(b"data: ") < 2:
            received += connection.recv(4096)
        connection.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            aborted = server.metric('vgcu_requests_total{finish_reason="abort"}')
            usage = server.metric("vgcu_kv_cache_usage_ratio")
            running = server.metric("vgcu_num_requests_running")
            if aborted == 1 and usage == 0 and running == 0:
                break
            time.sleep(0.1)
        check(aborted == 1 and usage == 0 and running == 0,
              "after a disconnect: aborted %s, cache usage %s, running %s" % (
                  aborted, usage, running))
        print("disconnect: aborted %d, cache usage %g" % (aborted, usage))

        # SIGTERM: the request in flight finishes, a new one is refused, exit status 0.
        result = {}

        def long_request():
            result["text"], result["body"] = completion(server, "Drain me", max_tokens=60)
        worker = threading.Thread(target=long_request)
        worker.start()
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        try:
            status, _ = server.post("/v1/completions", {"prompt": "late", "max_tokens": 2})
        except (ConnectionError, OSError):
            status = "refused"
        check(status in (503, "refused"), "request during drain: %s" % status)
        worker.join()
        code = server.process.wait(timeout=60)
        check(result.get("text") is not None and
              result["body"]["usage"]["completion_tokens"] == 60,
              "drained request: %s" % result.get("body"))
        check(code == 0, "exit status after SIGTERM: %s" % code)
        print("SIGTERM: in-flight request finished, exit %s" % code)
    finally:
        if server.process.poll() is None:
            server.process.kill()

    # Tensor parallelism: the same greedy text from 2 ranks.
    with served(artifacts[2]) as server:
        text2, _ = completion(server, prompt)
        check(text2 == text, "tp 2 %r, tp 1 %r" % (text2, text))
        print("tp 2: same text as tp 1")
        check(server.stop() == 0, "tp 2 exit status")

    # --batch-invariant: the default server's text, alone and with seven others at once.
    with served(artifacts[1], "--batch-invariant") as server:
        prompts = ["Invariant %d: count to %d" % (i, i + 3) for i in range(8)]
        alone = [completion(server, p, max_tokens=6)[0] for p in prompts]
        together = [None] * len(prompts)

        def invariant_client(i):
            together[i] = completion(server, prompts[i], max_tokens=6)[0]
        threads = [threading.Thread(target=invariant_client, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        text_invariant, _ = completion(server, prompt)
        check(None not in alone and together == alone, "batch-invariant: %s != %s" % (
            together, alone))
        check(text_invariant == text, "batch-invariant %r, default %r" % (text_invariant, text))
        print("batch-invariant: 8 concurrent clients equal to alone, same text as the default")
        check(server.stop() == 0, "batch-invariant exit status")

    print("OK" if not FAILURES else "%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
