"""Robustness checks of vgcu-compile and vgcu-run against an unlucky or hostile environment.

Usage: robustness.py CHECK WORK_DIR   (the vgcu tools must be on PATH; run with a Python with torch)

Each check prints "ok: <what>" lines and exits 1 with "FAIL: <why>" on the first failure, or
prints "skipped: <why>" when the machine cannot run it (e.g. mounting a tmpfs needs root).

  force        --force replaces only artifacts: never through a symlink, never the input, never
               a directory or file that is not an artifact; an artifact is replaced whole
  disk-full    a full disk at each write point (program, weights, manifest): an error naming
               the file and errno, no staging directory left (mounts small tmpfs: root only)
  interrupt    SIGINT, SIGTERM and SIGHUP while the artifact is being written remove the
               staging directory and end the process by that signal
  replace      --force when the old artifact cannot be removed (its parent is read-only): the
               old artifact is kept whole and the error names the problem
  sigbus       a checkpoint (vgcu-compile) or rank weights (vgcu-run --mmap-weights) truncated
               while mapped: an error naming the file, exit 1, no staging directory; weights
               copied at load (the default) truncated later: the run goes on
  launcher     a signal to the vgcu-run launcher alone stops its rank processes
  names        an output name of 250 bytes works (its staging name is shortened)
"""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
PROMPT = ["--prompt-ids", "5,17,42", "--max-new-tokens", "3"]


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run(command, expect_code=0, env=None, **kwargs):
    result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace", env=env,
                            timeout=300, **kwargs)
    if expect_code is not None and result.returncode != expect_code:
        fail("%s exited with %d (expected %d):\n%s%s" % (" ".join(command), result.returncode,
                                                         expect_code, result.stdout,
                                                         result.stderr))
    return result


def expect_error(command, text, env=None):
    result = run(command, expect_code=1, env=env)
    if text not in result.stderr:
        fail("%s: stderr lacks %r:\n%s" % (" ".join(command), text, result.stderr))
    for sign in ("Stack dump", "LLVM ERROR", "PLEASE submit", "Aborted", "terminate called"):
        if sign in result.stderr:
            fail("%s crashed: %s" % (" ".join(command), result.stderr))
    return result.stderr


def make_model(path, *extra):
    run([sys.executable, os.path.join(SRC, "python", "make_tiny_model.py"), "llama", path,
         *extra])


def compile_artifact(model, out, *extra, env=None):
    return run(["vgcu-compile", model, "-o", out, "--log-level=warn", *extra], env=env)


def listing(directory):
    return sorted(os.listdir(directory))


def tree_digest(path):
    """Every file under path with its bytes, to see that nothing changed."""
    digest = {}
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as f:
                digest[os.path.relpath(full, path)] = f.read()
    return digest


def staging_left(directory):
    return [e for e in os.listdir(directory) if ".tmp-" in e or ".old-" in e]


def runs(artifact):
    return run(["vgcu-run", artifact, *PROMPT]).stdout.split()


# -------------------------------------------------------------------------------------------

def check_force(work):
    model = os.path.join(work, "model")
    make_model(model)
    before = tree_digest(model)

    victim = os.path.join(work, "victim")
    os.makedirs(victim)
    with open(os.path.join(victim, "precious.txt"), "w") as f:
        f.write("keep me\n")
    link = os.path.join(work, "link.vgcu")
    os.symlink(victim, link)
    expect_error(["vgcu-compile", model, "-o", link, "--force"], "is a symbolic link")
    if listing(victim) != ["precious.txt"] or not os.path.islink(link):
        fail("the directory behind the link was touched")
    print("ok: -o LINK --force refuses and leaves the link's target alone")

    expect_error(["vgcu-compile", model, "-o", model, "--force"],
                 "is the input '%s'; vgcu-compile never replaces its input" % model)
    expect_error(["vgcu-compile", os.path.join(model, "config.json"), "-o", model, "--force"],
                 "vgcu-compile never replaces its input")
    expect_error(["vgcu-compile", model, "-o", work, "--force"], "contains the input")
    if tree_digest(model) != before:
        fail("the input checkpoint changed")
    print("ok: -o MODEL_DIR --force (and -o its parent) refuses and leaves the checkpoint alone")

    expect_error(["vgcu-compile", model, "-o", victim, "--force"],
                 "exists and is not a vgcu artifact")
    plain = os.path.join(work, "plain-file")
    with open(plain, "w") as f:
        f.write("not an artifact\n")
    expect_error(["vgcu-compile", model, "-o", plain, "--force"], "exists and is not a vgcu artifact")
    if listing(victim) != ["precious.txt"] or open(plain).read() != "not an artifact\n":
        fail("a non-artifact was replaced")
    print("ok: --force refuses a directory or file that is not an artifact")

    artifact = os.path.join(work, "out", "model.vgcu")
    os.makedirs(os.path.dirname(artifact))
    compile_artifact(model, artifact, "--tp", "2")
    tokens = runs(artifact)
    compile_artifact(model, artifact, "--force")
    if json.load(open(os.path.join(artifact, "manifest.json")))["tp"] != 1:
        fail("--force did not replace the artifact")
    if runs(artifact) != tokens or staging_left(os.path.dirname(artifact)):
        fail("the replaced artifact does not run the same, or debris was left")
    print("ok: --force replaces an artifact whole (tp 2 -> tp 1, same tokens, no debris)")


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % size, "tmpfs", path],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def check_disk_full(work):
    if os.geteuid() != 0:
        print("skipped: mounting a small tmpfs needs root")
        return
    model = os.path.join(work, "model")
    make_model(model, "--layers", "6")  # a program of more than one 4 KiB page
    reference = os.path.join(work, "reference.vgcu")
    compile_artifact(model, reference)
    sizes = {name: os.path.getsize(os.path.join(reference, name))
             for name in ("program.mlirbc", "rank0/weights.safetensors", "manifest.json")}
    page = 4096
    pages = {name: (size + page - 1) // page for name, size in sizes.items()}
    # tmpfs counts whole pages of file data: room for everything before the failing file.
    cases = [("program.mlirbc", 0),
             ("rank0/weights.safetensors", pages["program.mlirbc"]),
             ("manifest.json", pages["program.mlirbc"] + pages["rank0/weights.safetensors"])]
    for failing, room in cases:
        mount = os.path.join(work, "full-" + failing.replace("/", "-"))
        if sizes["program.mlirbc"] <= page:
            fail("the program must be larger than a page for this check")
        if not mount_tmpfs(mount, max(room, 1) * page):
            print("skipped: this machine does not allow mounting a tmpfs")
            return
        try:
            out = os.path.join(mount, "model.vgcu")
            stderr = expect_error(["vgcu-compile", model, "-o", out, "--log-level=warn"],
                                  "(errno 28)")
            if failing not in stderr or "No space left on device" not in stderr:
                fail("the full-disk error does not name %s and ENOSPC:\n%s" % (failing, stderr))
            if os.listdir(mount):
                fail("left on the full disk: %s" % os.listdir(mount))
        finally:
            subprocess.run(["umount", mount])
        print("ok: a full disk while writing %s: %s" % (failing, stderr.strip().splitlines()[-1]
                                                        .split("error: ")[-1]))


def paused(env_stage, pause_file):
    env = dict(os.environ)
    env["VGCU_DEBUG_PAUSE"] = "%s:%s" % (env_stage, pause_file)
    return env


def wait_for(predicate, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    fail("timed out waiting for " + what)


def check_interrupt(work):
    model = os.path.join(work, "model")
    make_model(model)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        out_dir = os.path.join(work, "out-" + sig.name)
        os.makedirs(out_dir)
        pause = os.path.join(work, "never-" + sig.name)
        process = subprocess.Popen(["vgcu-compile", model, "-o", os.path.join(out_dir, "m.vgcu"),
                                    "--log-level=warn"], env=paused("weights", pause),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: any(glob.glob(os.path.join(out_dir, ".m.vgcu.tmp-*/program.mlirbc"))),
                 "the staging directory")
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
        if process.returncode != -sig:
            fail("%s: exit %d, expected death by the signal; %s" % (sig.name, process.returncode,
                                                                    stderr.decode()))
        if os.listdir(out_dir):
            fail("%s left %s" % (sig.name, os.listdir(out_dir)))
        print("ok: %s while writing removes the staging directory" % sig.name)


def check_replace(work):
    """The old artifact survives a --force whose replacement cannot happen."""
    as_user = []
    if os.geteuid() == 0:  # root ignores directory permissions: run as nobody
        as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
        os.chmod(work, 0o777)
    model = os.path.join(work, "model")
    make_model(model)
    os.chmod(model, 0o755)
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir)
    if as_user:
        shutil.chown(out_dir, "nobody", "nogroup")
    artifact = os.path.join(out_dir, "model.vgcu")
    run(as_user + ["vgcu-compile", model, "-o", artifact, "--log-level=warn"])
    before = tree_digest(artifact)
    pause = os.path.join(work, "go")
    process = subprocess.Popen(as_user + ["vgcu-compile", model, "-o", artifact, "--force",
                                          "--tp", "2", "--log-level=warn"],
                               env=paused("weights", pause), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    wait_for(lambda: any(glob.glob(os.path.join(out_dir, ".model.vgcu.tmp-*/program.mlirbc"))),
             "the staging directory")
    os.chmod(out_dir, 0o555)  # the old artifact can no longer be removed or renamed
    try:
        open(pause, "w").close()
        _, stderr = process.communicate(timeout=120)
    finally:
        os.chmod(out_dir, 0o755)
    stderr = stderr.decode()
    if process.returncode != 1 or "cannot replace" not in stderr:
        fail("expected a 'cannot replace' error, got exit %d: %s" % (process.returncode, stderr))
    if tree_digest(artifact) != before:
        fail("the old artifact was damaged by a failed replacement")
    runs(artifact)
    print("ok: a replacement that cannot happen keeps the old artifact whole: " +
          stderr.strip().split("error: ")[-1])


def check_sigbus(work):
    model = os.path.join(work, "model")
    make_model(model)
    checkpoint = os.path.join(model, "model.safetensors")
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir)
    pause = os.path.join(work, "go-compile")
    process = subprocess.Popen(["vgcu-compile", model, "-o", os.path.join(out_dir, "m.vgcu"),
                                "--log-level=warn"], env=paused("weights", pause),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(lambda: any(glob.glob(os.path.join(out_dir, ".m.vgcu.tmp-*/program.mlirbc"))),
             "the staging directory")
    os.truncate(checkpoint, 4096)
    open(pause, "w").close()
    _, stderr = process.communicate(timeout=120)
    stderr = stderr.decode()
    if process.returncode != 1 or checkpoint not in stderr or "changed while it was being read" not in stderr:
        fail("truncated checkpoint: exit %d: %s" % (process.returncode, stderr))
    if os.listdir(out_dir):
        fail("left %s" % os.listdir(out_dir))
    print("ok: vgcu-compile: " + stderr.strip().split("error: ")[-1])

    make_model(model)
    artifact = os.path.join(work, "run.vgcu")
    compile_artifact(model, artifact, "--tp", "2")
    weights = os.path.join(artifact, "rank1", "weights.safetensors")

    def truncate_weights_at_decode(name, *extra):
        """Runs the artifact, truncates rank 1's weights while both ranks wait before their
        first decode step (weights loaded), and returns (exit status, stderr)."""
        pause = os.path.join(work, name)
        process = subprocess.Popen(["vgcu-run", artifact, *PROMPT, *extra],
                                   env=paused("decode", pause),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: len(glob.glob(pause + ".waiting-*")) == 2, "both ranks at the pause")
        with open(weights, "r+b") as f:
            header = int.from_bytes(f.read(8), "little")
            f.truncate(8 + header)
        open(pause, "w").close()
        _, stderr = process.communicate(timeout=120)
        return process.returncode, stderr.decode()

    # --mmap-weights reads the weights from the mapped file while the ranks run.
    status, stderr = truncate_weights_at_decode("go-run-mapped", "--mmap-weights")
    if status != 1 or weights not in stderr or "rank 1 of 2 exited with status 1" not in stderr:
        fail("truncated weights: exit %d: %s" % (status, stderr))
    print("ok: vgcu-run --mmap-weights: " + [line for line in stderr.splitlines()
                                             if weights in line][0].split("error: ")[-1])
    # By default they are copied into memory when loaded, so the same truncation changes
    # nothing.
    compile_artifact(model, artifact, "--tp", "2", "--force")
    status, stderr = truncate_weights_at_decode("go-run-copied")
    if status != 0:
        fail("weights copied at load: exit %d: %s" % (status, stderr))
    print("ok: vgcu-run: weights copied at load are not read from the file again")


def rank_pids(artifact):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if artifact.encode() in argv and any(a.startswith(b"--rank=") for a in argv):
            pids.append(int(entry))
    return pids


def check_launcher(work):
    model = os.path.join(work, "model")
    make_model(model)
    artifact = os.path.join(work, "model.vgcu")
    compile_artifact(model, artifact, "--tp", "2")
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
        pause = os.path.join(work, "never-" + sig.name)
        process = subprocess.Popen(["vgcu-run", artifact, *PROMPT], env=paused("decode", pause),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: len(rank_pids(artifact)) == 2, "two rank processes")
        process.send_signal(sig)  # the launcher alone, not its process group
        process.wait(timeout=60)
        wait_for(lambda: not rank_pids(artifact), "the ranks to stop after %s" % sig.name, 30)
        print("ok: %s to the launcher stops its ranks" % sig.name)


def check_names(work):
    model = os.path.join(work, "model")
    make_model(model)
    out = os.path.join(work, "n" * 250)
    compile_artifact(model, out)
    runs(out)
    print("ok: an output name of 250 bytes compiles and runs")


CHECKS = {"force": check_force, "disk-full": check_disk_full, "interrupt": check_interrupt,
          "replace": check_replace, "sigbus": check_sigbus, "launcher": check_launcher,
          "names": check_names}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in CHECKS:
        sys.exit(__doc__)
    work_dir = os.path.abspath(sys.argv[2])
    shutil.rmtree(work_dir, ignore_errors=True)
    os.makedirs(work_dir)
    CHECKS[sys.argv[1]](work_dir)
    print("OK")
