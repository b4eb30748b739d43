//===- Metrics.cpp - The server's counters and histograms in Prometheus text format --===//

#include "Metrics.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace vgcu::serve;

namespace {
std::string number(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.9g", value);
  return text;
}

void header(std::string &out, llvm::StringRef name, llvm::StringRef type, llvm::StringRef help) {
  out += ("# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n").str();
}
} // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds(std::move(bounds)), counts(this->bounds.size() + 1, 0) {}

void Histogram::observe(double value) {
  std::lock_guard<std::mutex> lock(mutex);
  size_t bucket = 0;
  while (bucket < bounds.size() && value > bounds[bucket])
    ++bucket;
  ++counts[bucket];
  sum += value;
  ++count;
}

void Histogram::write(std::string &out, llvm::StringRef name, llvm::StringRef help) const {
  std::lock_guard<std::mutex> lock(mutex);
  header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += counts[i];
    out += (name + "_bucket{le=\"" + number(bounds[i]) + "\"} " + llvm::Twine(cumulative) + "\n")
               .str();
  }
  cumulative += counts.back();
  out += (name + "_bucket{le=\"+Inf\"} " + llvm::Twine(cumulative) + "\n").str();
  out += (name + "_sum " + number(sum) + "\n").str();
  out += (name + "_count " + llvm::Twine(count) + "\n").str();
}

Metrics::Metrics()
    : timeToFirstToken({0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
                        2.5, 5.0, 7.5, 10.0}),
      interTokenLatency({0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
                         0.75, 1.0, 2.5}),
      requestLatency({0.01, 0.05, 0.1, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0}) {
  for (const char *reason : {"stop", "length", "abort"})
    requestsByReason[reason] = 0;
}

void Metrics::finished(llvm::StringRef reason, int64_t prompt, int64_t generated) {
  std::lock_guard<std::mutex> lock(mutex);
  ++requestsByReason[reason.str()];
  promptTokens += prompt;
  generationTokens += generated;
}

std::string Metrics::render() const {
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mutex);
    header(out, "vgcu_requests_total", "counter", "Requests that ended, by finish reason.");
    for (const auto &[reason, count] : requestsByReason)
      out += "vgcu_requests_total{finish_reason=\"" + reason + "\"} " + std::to_string(count) +
             "\n";
    header(out, "vgcu_prompt_tokens_total", "counter", "Prompt tokens of ended requests.");
    out += "vgcu_prompt_tokens_total " + std::to_string(promptTokens) + "\n";
    header(out, "vgcu_generation_tokens_total", "counter", "Tokens generated for ended requests.");
    out += "vgcu_generation_tokens_total " + std::to_string(generationTokens) + "\n";
  }
  header(out, "vgcu_requests_rejected_total", "counter",
         "Requests answered with an error before generation.");
  out += "vgcu_requests_rejected_total " + std::to_string(rejected.load()) + "\n";
  header(out, "vgcu_num_requests_running", "gauge", "Requests in the running batch.");
  out += "vgcu_num_requests_running " + std::to_string(running.load()) + "\n";
  header(out, "vgcu_num_requests_waiting", "gauge", "Requests queued for the batch.");
  out += "vgcu_num_requests_waiting " + std::to_string(waiting.load()) + "\n";
  header(out, "vgcu_kv_cache_usage_ratio", "gauge", "Fraction of the KV cache's blocks in use.");
  out += "vgcu_kv_cache_usage_ratio " + number(cacheUsage.load()) + "\n";
  header(out, "vgcu_kv_cache_blocks", "gauge", "Blocks of the KV cache.");
  out += "vgcu_kv_cache_blocks " + std::to_string(cacheBlocks.load()) + "\n";
  timeToFirstToken.write(out, "vgcu_time_to_first_token_seconds",
                         "Time from a request's arrival to its first token.");
  interTokenLatency.write(out, "vgcu_inter_token_latency_seconds",
                          "Time between a request's successive tokens.");
  requestLatency.write(out, "vgcu_e2e_request_latency_seconds",
                       "Time from a request's arrival to its end.");
  return out;
}
