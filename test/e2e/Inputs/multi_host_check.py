#!/usr/bin/env python3
"""Two launchers on loopback ("hosts" 0 and 1) run a tp 2 artifact; it must match tp 2 on one.

Usage: multi_host_check.py ARTIFACT

vgcu-run: host 0 (--nnodes 2 --node-rank 0 --master-port 0) serves the ranks' store and prints
its port; host 1 (--node-rank 1 --master-port P) starts rank 1 there. The tokens and logits
must equal a one-host run's exactly. Then vgcu-serve the same way: host 0 serves HTTP, and a
completion must equal the one-host server's.
"""
import http.client
import json
import re
import subprocess
import sys

PROMPT = ["--prompt-ids", "5,17,42,7", "--max-new-tokens", "6", "--json"]


def host0(command):
    """Starts host 0's launcher; returns it and the store port it prints on stderr."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = process.stderr.readline().decode()
    match = re.search(r"serves the ranks' store on [\d.]+:(\d+)", line)
    if not match:
        process.kill()
        sys.exit("host 0 printed no store port: %r" % line)
    return process, match.group(1)


def completion(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("POST", "/v1/completions", body=json.dumps(
        {"prompt": "Hello there", "max_tokens": 8, "temperature": 0}))
    body = json.loads(connection.getresponse().read())
    connection.close()
    return body["choices"][0]["text"]


def serve(artifact, *options):
    process = subprocess.Popen(["vgcu-serve", artifact, "--port", "0", *options],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return process


def main(argv):
    artifact = argv[1]
    failures = 0
    one = json.loads(subprocess.run(["vgcu-run", artifact, *PROMPT], check=True,
                                    stdout=subprocess.PIPE).stdout)
    node0, port = host0(["vgcu-run", artifact, *PROMPT, "--nnodes", "2", "--node-rank", "0",
                         "--master-addr", "127.0.0.1", "--master-port", "0"])
    node1 = subprocess.run(["vgcu-run", artifact, *PROMPT, "--nnodes", "2", "--node-rank", "1",
                            "--master-addr", "127.0.0.1", "--master-port", port],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = node0.communicate(timeout=120)
    two = json.loads(out)
    if node0.returncode != 0 or node1.returncode != 0:
        failures += 1
        print("FAIL exit statuses %d, %d: %s %s" % (node0.returncode, node1.returncode, err,
                                                    node1.stderr))
    if node1.stdout.strip():
        failures += 1
        print("FAIL host 1 printed %r" % node1.stdout[:200])
    same = two["tokens"] == one["tokens"] and two["logits"] == one["logits"]
    if not same:
        failures += 1
        print("FAIL two hosts %s, one host %s" % (two["tokens"], one["tokens"]))
    print("vgcu-run: two launchers, %d tokens, logits %s" % (
        len(two["tokens"]), "identical" if same else "different"))

    # vgcu-serve: host 0 serves HTTP and rank 0, host 1 rank 1.
    single = serve(artifact)
    port_line = single.stdout.readline().decode()
    text_one = completion(int(port_line.rsplit(":", 1)[1]))
    single.terminate()
    single.wait(timeout=60)
    node0 = subprocess.Popen(["vgcu-serve", artifact, "--port", "0", "--nnodes", "2",
                              "--node-rank", "0", "--master-port", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = node0.stderr.readline().decode()
    match = re.search(r"serves the ranks' store on [\d.]+:(\d+)", line)
    if not match:
        node0.kill()
        sys.exit("vgcu-serve host 0 printed no store port: %r" % line)
    node1 = subprocess.Popen(["vgcu-serve", artifact, "--nnodes", "2", "--node-rank", "1",
                              "--master-port", match.group(1)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    http_line = node0.stdout.readline().decode()
    text_two = completion(int(http_line.rsplit(":", 1)[1]))
    node0.terminate()
    status0 = node0.wait(timeout=60)
    status1 = node1.wait(timeout=60)
    if text_two != text_one or status0 != 0 or status1 != 0:
        failures += 1
        print("FAIL vgcu-serve on two hosts %r (exit %d, %d), one host %r" % (
            text_two, status0, status1, text_one))
    print("vgcu-serve: two launchers, same text: %s" % (text_two == text_one))
    print("OK" if failures == 0 else "%d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
