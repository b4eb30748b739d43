#!/usr/bin/env python3
"""Runs vgcu on every malformed input of the corpus and checks that it fails cleanly.

Usage: check_corpus.py CORPUS_DIR WORK_DIR [--bin-dir DIR] [--filter REGEX] [--timeout S] [-j N]

For each case directory (one holding case.json; see README.md) the case is copied into a fresh
WORK_DIR/<case>/case, placeholders in its arguments are filled in, the tool is run, and:
  * the exit code is exactly 1 (not 0, not a signal, not 134/139, not a timeout);
  * stderr contains the case's "expect" text (placeholders filled in as well);
  * stderr shows no crash ("PLEASE submit a bug report", "Stack dump", "AddressSanitizer",
    "Aborted", an uncaught exception, an LLVM fatal error, a rank killed by a signal);
  * the output path {out} does not exist afterwards and its directory is empty (no
    ".<name>.tmp-*" staging directory or other half-written file left behind).
Prints "ok   <case>: <first error line>" or "FAIL <case>: <why>" per case, then "N cases, M
failed"; exits 1 if any case failed.

Placeholders: {case} the copied case directory, {out} WORK_DIR/<case>/out/<out_name> (default
model.vgcu; the out/ directory exists and is otherwise empty), {artifact} a fresh copy of a good
tiny artifact (a tiny Llama from python/make_tiny_model.py compiled with --tp 2), changed by the
case's "mutate" operations (see README.md).
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SRC_ROOT = os.path.dirname(os.path.dirname(HERE))
TOOLS = ("vgcu-compile", "vgcu-run", "vgcu-opt", "vgcu-tokenize", "vgcu-serve")
CRASH_SIGNS = (
    "PLEASE submit a bug report",
    "Stack dump",
    "AddressSanitizer",
    "UndefinedBehaviorSanitizer",
    "runtime error:",
    "Aborted",
    "Segmentation fault",
    "core dumped",
    "terminate called",
    "LLVM ERROR",
    "Assertion `",
    "UNREACHABLE executed",
    "killed by signal",
)
# ASan's note that an allocation failed and returned null (allocator_may_return_null=1), after
# which vgcu reports the failure itself: not a crash.
ASAN_FAILED_ALLOCATION = re.compile(r"^==\d+==WARNING: AddressSanitizer failed to allocate .*$",
                                    re.MULTILINE)


def crash_signs(stderr):
    stderr = ASAN_FAILED_ALLOCATION.sub("", stderr)
    return [sign for sign in CRASH_SIGNS if sign in stderr]
PROMPT = ["--prompt-ids", "5,17,42", "--max-new-tokens", "2"]


class SetupError(Exception):
    pass


# -------------------------------------------------------------------------------------------
# The good artifact and the mutations applied to copies of it
# -------------------------------------------------------------------------------------------

class Artifact:
    """Prepares a good tiny artifact (at one tensor-parallel size) once, on first use."""

    def __init__(self, work_dir, options, tp):
        self.root = os.path.join(work_dir, "_artifact-tp%d" % tp)
        self.options = options
        self.tp = tp
        self.path = None
        self.error = None
        self.lock = threading.Lock()

    def get(self):
        with self.lock:
            if self.path is None and self.error is None:
                try:
                    self.path = self._prepare()
                except SetupError as e:
                    self.error = str(e)
        if self.error is not None:
            raise SetupError("cannot prepare the good tp %d artifact: %s" % (self.tp, self.error))
        return self.path

    def _run(self, command):
        try:
            result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, errors="replace",
                                    timeout=self.options.timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SetupError("%s: %s" % (" ".join(command), e))
        if result.returncode != 0:
            raise SetupError("%s exited with %d:\n%s" % (" ".join(command), result.returncode,
                                                         result.stderr.strip()))

    def _prepare(self):
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root)
        model = os.path.join(self.root, "model")
        artifact = os.path.join(self.root, "good.vgcu")
        self._run([self.options.python,
                   os.path.join(self.options.src_root, "python", "make_tiny_model.py"), "llama",
                   model])
        self._run([tool_path("vgcu-compile", self.options), model, "-o", artifact, "--tp",
                   str(self.tp), "--log-level=warn"])
        # The good artifact must run, or every artifact case would pass for the wrong reason.
        self._run([tool_path("vgcu-run", self.options), artifact, *PROMPT])
        return artifact


def inside(root, relative):
    """root/relative, refusing paths that leave root's parent (the case's work directory)."""
    path = os.path.normpath(os.path.join(root, relative))
    if not path.startswith(os.path.dirname(root) + os.sep):
        raise SetupError("mutation path %r leaves the case's work directory" % relative)
    return path


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise SetupError("mutation cannot read %s: %s" % (path, e))


def write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def pattern_bytes(pattern):
    """[[text, count], ...] -> the texts repeated and joined, each text encoded as Latin-1 (so
    \u0000-\u00ff stand for single bytes)."""
    try:
        return b"".join(text.encode("latin-1") * count for text, count in pattern)
    except (TypeError, ValueError, UnicodeEncodeError) as e:
        raise SetupError("bad pattern: %s" % e)


def navigate(document, keypath, create=False):
    """The container holding keypath[-1], following keys (objects) and indices (lists)."""
    if isinstance(keypath, str):
        keypath = [keypath]
    if not keypath:
        raise SetupError("empty manifest key path")
    node = document
    for key in keypath[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            if create and isinstance(node, dict):
                node = node.setdefault(key, {})
            else:
                raise SetupError("manifest has no %r (in key path %r)" % (key, keypath))
    return node, keypath[-1]


def mutate(artifact, case_dir, operation):
    if not isinstance(operation, dict) or len(operation) != 1:
        raise SetupError("a mutation is an object with one key, got %r" % (operation,))
    (kind, arg), = operation.items()
    manifest = os.path.join(artifact, "manifest.json")
    if kind == "flip_byte":
        relative, offset = (arg, None) if isinstance(arg, str) else arg
        path = inside(artifact, relative)
        data = bytearray(read_bytes(path))
        if not data:
            raise SetupError("flip_byte: %s is empty" % relative)
        data[len(data) // 2 if offset is None else offset] ^= 0xFF
        write_bytes(path, bytes(data))
    elif kind == "delete":
        path = inside(artifact, arg)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
        else:
            raise SetupError("delete: %s does not exist" % arg)
    elif kind == "truncate":
        relative, size = arg
        path = inside(artifact, relative)
        write_bytes(path, read_bytes(path)[:size])
    elif kind == "fill":
        relative, byte = arg
        path = inside(artifact, relative)
        write_bytes(path, bytes([byte]) * len(read_bytes(path)))
    elif kind == "write":
        for relative, content in arg.items():
            write_bytes(inside(artifact, relative), content.encode("utf-8"))
    elif kind == "write_pattern":
        for relative, pattern in arg.items():
            write_bytes(inside(artifact, relative), pattern_bytes(pattern))
    elif kind == "copy_from_case":
        for relative, source in arg.items():
            write_bytes(inside(artifact, relative), read_bytes(os.path.join(case_dir, source)))
    elif kind in ("replace_text", "replace_manifest_text"):
        relative, old, new = arg if kind == "replace_text" else ["manifest.json", *arg]
        path = inside(artifact, relative)
        content = read_bytes(path).decode("utf-8")
        if old not in content:
            raise SetupError("%s: %r does not occur in %s" % (kind, old, relative))
        write_bytes(path, content.replace(old, new).encode("utf-8"))
    elif kind in ("manifest_set", "manifest_delete"):
        try:
            document = json.loads(read_bytes(manifest))
        except ValueError as e:
            raise SetupError("%s: manifest.json is not JSON: %s" % (kind, e))
        if kind == "manifest_set":
            keypath, value = arg
            container, key = navigate(document, keypath, create=True)
            try:
                container[key] = value
            except (IndexError, TypeError):
                raise SetupError("manifest_set: cannot set %r" % (keypath,))
        else:
            container, key = navigate(document, arg)
            try:
                del container[key]
            except (KeyError, IndexError, TypeError):
                raise SetupError("manifest_delete: manifest has no %r" % (arg,))
        write_bytes(manifest, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    elif kind == "symlink":
        relative, target = arg
        path = inside(artifact, relative)
        if os.path.lexists(path):
            os.remove(path)
        os.symlink(target, path)
    elif kind == "fifo":
        path = inside(artifact, arg)
        if os.path.lexists(path):
            os.remove(path)
        os.mkfifo(path)
    elif kind == "fill_tensor":
        relative, name, byte = arg
        path = inside(artifact, relative)
        data = bytearray(read_bytes(path))
        header_size = int.from_bytes(data[:8], "little")
        try:
            entry = json.loads(data[8:8 + header_size])[name]
        except (ValueError, KeyError):
            raise SetupError("fill_tensor: %s has no tensor %r" % (relative, name))
        begin, end = (8 + header_size + offset for offset in entry["data_offsets"])
        data[begin:end] = bytes([byte]) * (end - begin)
        write_bytes(path, bytes(data))
    elif kind == "program_mlir":
        # A crafted program: the case's text IR as bytecode, its size recorded in the manifest
        # (cases using it pass --no-verify-checksums: Python has no xxh3).
        program = inside(artifact, "program.mlirbc")
        result = subprocess.run([tool_path("vgcu-opt", mutate.options), "--emit-bytecode",
                                 os.path.join(case_dir, arg), "-o", program],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace")
        if result.returncode != 0:
            raise SetupError("program_mlir: vgcu-opt rejected %s:\n%s" % (arg, result.stderr))
        document = json.loads(read_bytes(manifest))
        document["files"]["program.mlirbc"]["bytes"] = os.path.getsize(program)
        write_bytes(manifest, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    else:
        raise SetupError("unknown mutation %r" % kind)


# -------------------------------------------------------------------------------------------
# Running one case
# -------------------------------------------------------------------------------------------

def tool_path(tool, options):
    if options.bin_dir:
        path = os.path.join(options.bin_dir, tool)
        if not os.access(path, os.X_OK):
            raise SetupError("%s is not an executable" % path)
        return path
    path = shutil.which(tool)
    if not path:
        raise SetupError("%s is not on PATH (pass --bin-dir)" % tool)
    return path


def fill(value, places):
    for key, replacement in places.items():
        value = value.replace("{%s}" % key, replacement)
    return value


def first_error_line(stderr):
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "error" in line:
            return line
    return lines[0] if lines else "(no output)"


# Runs argv[2:] under an address-space limit of argv[1] MiB (a wrapper, not preexec_fn, which
# is unsafe while other threads run cases).
LIMIT_WRAPPER = ("import os, resource, sys; limit = int(sys.argv[1]) * 1024 * 1024; "
                 "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); "
                 "os.execv(sys.argv[2], sys.argv[2:])")


_SANITIZED = {}


def sanitized(tool):
    """Whether `tool` is an ASan build, whose shadow memory cannot live under RLIMIT_AS."""
    if tool not in _SANITIZED:
        try:
            linked = subprocess.run(["ldd", tool], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True).stdout
        except OSError:
            linked = ""
        _SANITIZED[tool] = "libasan" in linked
    return _SANITIZED[tool]


def run_case(name, corpus, work_dir, artifacts, options):
    """(ok, message, stderr)."""
    source = os.path.join(corpus, name)
    try:
        with open(os.path.join(source, "case.json")) as f:
            spec = json.load(f)
        for key in ("tool", "args", "expect"):
            if key not in spec:
                raise SetupError("case.json has no %r" % key)
        if spec["tool"] not in TOOLS:
            raise SetupError("unknown tool %r" % spec["tool"])
        if not spec["expect"]:
            raise SetupError("empty 'expect'")
        root = os.path.join(work_dir, name)
        shutil.rmtree(root, ignore_errors=True)
        case_dir = os.path.join(root, "case")
        shutil.copytree(source, case_dir, symlinks=True)
        for relative, pattern in spec.get("generate", {}).items():
            write_bytes(inside(case_dir, relative), pattern_bytes(pattern))
        for relative in spec.get("fifo", []):  # git cannot hold a FIFO: made here
            path = inside(case_dir, relative)
            if os.path.lexists(path):
                os.remove(path)
            os.mkfifo(path)
        out_dir = os.path.join(root, "out")
        os.makedirs(out_dir)
        out = os.path.join(out_dir, spec.get("out_name", "model.vgcu"))
        places = {"case": case_dir, "out": out}
        mutations = spec.get("mutate", [])
        if isinstance(mutations, dict):
            mutations = [{key: value} for key, value in mutations.items()]
        if mutations or any("{artifact}" in arg for arg in spec["args"]):
            copy = os.path.join(root, "model.vgcu")
            tp = spec.get("artifact_tp", 2)
            if tp not in artifacts:
                raise SetupError("no artifact of tp %r is prepared" % tp)
            shutil.copytree(artifacts[tp].get(), copy)
            places["artifact"] = copy
            for operation in mutations:
                mutate(copy, case_dir, operation)
        args = [fill(arg, places) for arg in spec["args"]]
        expect = fill(spec["expect"], places)
        command = [tool_path(spec["tool"], options), *args]
    except SetupError as e:
        return False, "setup: " + str(e), ""
    except (OSError, ValueError) as e:
        return False, "setup: %s" % e, ""

    timeout = spec.get("timeout", options.timeout)
    if spec.get("memory_limit_mb") and not sanitized(command[0]):
        command = [sys.executable, "-c", LIMIT_WRAPPER, str(int(spec["memory_limit_mb"])),
                   *command]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=root, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the tool and any rank processes it started
        except ProcessLookupError:
            pass
        stdout, stderr = process.communicate()
        stderr = stderr.decode("utf-8", "replace")
        crash = crash_signs(stderr)
        message = "timed out after %s s%s" % (
            timeout, " (hung after crashing: %s)" % ", ".join(repr(s) for s in crash)
            if crash else "")
        if spec.get("bug"):
            message += "; known bug: " + spec["bug"]
        return False, message, stderr
    stderr = stderr.decode("utf-8", "replace")
    problems = []
    code = process.returncode
    if code < 0:
        try:
            problems.append("killed by signal %d (%s)" % (-code, signal.Signals(-code).name))
        except ValueError:
            problems.append("killed by signal %d" % -code)
    elif code == 0:
        problems.append("exit code 0 (the bad input was accepted)")
    elif code != 1:
        problems.append("exit code %d, not 1%s" % (code, {
            134: " (abort)", 139: " (segfault)",
            126: " (the tool could not be executed)",
            127: " (the tool or a shared library it needs is missing)"}.get(code, "")))
    crash = crash_signs(stderr)
    if crash:
        problems.append("stderr shows a crash (%s)" % ", ".join(repr(s) for s in crash))
    if expect not in stderr:
        problems.append("stderr lacks %r" % expect)
    if os.path.lexists(out):
        problems.append("the output %s was left behind" % os.path.relpath(out, root))
    leftovers = sorted(os.listdir(out_dir)) if os.path.isdir(out_dir) else []
    leftovers = [entry for entry in leftovers if entry != os.path.basename(out)]
    if leftovers:
        problems.append("left in the output directory: %s" % ", ".join(leftovers))
    if problems:
        if spec.get("bug"):
            problems.append("known bug: " + spec["bug"])
        return False, "; ".join(problems), stderr
    return True, first_error_line(stderr), stderr


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("work_dir")
    parser.add_argument("--bin-dir", help="where vgcu-compile, vgcu-run and vgcu-opt are "
                        "(default: PATH)")
    parser.add_argument("--src-root", default=DEFAULT_SRC_ROOT,
                        help="vgcu's source tree (for python/make_tiny_model.py)")
    parser.add_argument("--python", default=sys.executable,
                        help="a Python with torch, for make_tiny_model.py")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per case")
    parser.add_argument("--filter", default="", help="run only cases whose name matches this regular expression")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="cases run in parallel")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print the stderr of every case, not only of failures")
    options = parser.parse_args(argv[1:])
    corpus = os.path.abspath(options.corpus)
    work_dir = os.path.abspath(options.work_dir)
    if options.bin_dir:
        options.bin_dir = os.path.abspath(options.bin_dir)
    os.makedirs(work_dir, exist_ok=True)

    names = sorted(entry for entry in os.listdir(corpus)
                   if os.path.isfile(os.path.join(corpus, entry, "case.json"))
                   and re.search(options.filter, entry))
    if not names:
        print("no cases in %s" % corpus)
        return 1
    mutate.options = options  # program_mlir runs vgcu-opt
    artifacts = {tp: Artifact(work_dir, options, tp) for tp in (1, 2)}
    def timed_case(name):
        start = time.monotonic()
        result = run_case(name, corpus, work_dir, artifacts, options)
        return result + (time.monotonic() - start,)

    with concurrent.futures.ThreadPoolExecutor(max(1, options.jobs)) as pool:
        results = list(pool.map(timed_case, names))
    failed = []
    for name, (ok, message, stderr, seconds) in zip(names, results):
        print("%s %s (%.1f s): %s" % ("ok  " if ok else "FAIL", name, seconds, message))
        if (not ok or options.verbose) and stderr.strip():
            for line in stderr.rstrip().splitlines()[:20]:
                line = "".join(c if c.isprintable() else "?" for c in line)
                print("       | " + (line if len(line) <= 300 else line[:300] + "..."))
        if not ok:
            failed.append(name)
    slowest = sorted(zip(names, results), key=lambda item: -item[1][3])[:5]
    print("slowest: " + ", ".join("%s %.1f s" % (name, result[3]) for name, result in slowest))
    # Repeated after the per-case lines so that a log cut in the middle still names them.
    for name, (ok, message, _, seconds) in zip(names, results):
        if not ok:
            print("FAIL %s (%.1f s): %s" % (name, seconds, message))
    print("%d cases, %d failed%s" % (len(names), len(failed),
                                     ": " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
