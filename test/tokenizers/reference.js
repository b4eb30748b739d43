// Reference token ids for the tokenizer tests, from @lenml/tokenizers (transformers.js's
// tokenizers as a Node package): node reference.js LIB_DIR TOKENIZER_DIR CORPUS.jsonl
"use strict";
const fs = require("fs");
const path = require("path");

const [libDir, tokenizerDir, corpusPath] = process.argv.slice(2);
const { TokenizerLoader } = require(path.join(libDir, "dist", "main.js"));
const readJson = (name) => JSON.parse(fs.readFileSync(path.join(tokenizerDir, name), "utf8"));
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: readJson("tokenizer.json"),
  tokenizerConfig: readJson("tokenizer_config.json"),
});
const lines = fs.readFileSync(corpusPath, "utf8").split("\n").filter((line) => line.length);
// transformers.js refuses to decode an empty list; the text of no tokens is "".
const decode = (ids, options) => (ids.length ? tokenizer.decode(ids, options) : "");
const out = [];
for (const line of lines) {
  const { text } = JSON.parse(line);
  const ids = tokenizer.encode(text);
  const plain = tokenizer.encode(text, { add_special_tokens: false });
  out.push(JSON.stringify({
    ids,
    ids_without_special: plain,
    decoded: decode(ids),
    decoded_skip_special: decode(ids, { skip_special_tokens: true }),
    decoded_without_cleanup: decode(plain, { clean_up_tokenization_spaces: false }),
  }));
}
process.stdout.write(out.join("\n") + "\n");
