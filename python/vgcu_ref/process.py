"""Running vgcu's tools from the Python checks and benchmarks."""

import subprocess
import sys


def run(command, env=None):
    """Runs `command` and returns its stdout; on failure exits with the command and its stderr."""
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"command failed ({result.returncode}): {' '.join(command)}\n{result.stderr}")
    return result.stdout
