"""Running vgcu's tools from the Python checks and benchmarks."""

import os
import subprocess
import sys


def run(command, env=None):
    """Runs `command` and returns its stdout; on failure exits with the command and its stderr."""
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"command failed ({result.returncode}): {' '.join(command)}\n{result.stderr}")
    return result.stdout


def use_external_models(plugins, reference_modules):
    """Makes a user's model known to this process and the tools it runs: vgcu plugins through
    VGCU_PLUGINS (vgcu-compile), PyTorch reference modules through VGCU_REF_MODULES (vgcu_ref,
    imported afterwards)."""
    for variable, paths in (("VGCU_PLUGINS", plugins), ("VGCU_REF_MODULES", reference_modules)):
        for path in paths:
            if not os.path.isfile(path):
                sys.exit(f"{path}: no such file")
        current = [p for p in os.environ.get(variable, "").split(os.pathsep) if p]
        os.environ[variable] = os.pathsep.join(current + [os.path.abspath(p) for p in paths])
    if reference_modules:
        from . import families  # imports the environment's modules if it is imported first

        families.load_reference_modules(reference_modules)
