//===- Metrics.h - The server's counters and histograms in Prometheus text format ----===//
#ifndef VGCU_TOOLS_VGCU_SERVE_METRICS_H
#define VGCU_TOOLS_VGCU_SERVE_METRICS_H

#include "llvm/ADT/StringRef.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace vgcu::serve {

/// A histogram with fixed upper bounds (seconds), as Prometheus clients keep them.
class Histogram {
public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  /// The _bucket (cumulative), _sum and _count lines of `name`.
  void write(std::string &out, llvm::StringRef name, llvm::StringRef help) const;

private:
  mutable std::mutex mutex;
  std::vector<double> bounds;
  std::vector<uint64_t> counts; // one per bound, then +Inf
  double sum = 0;
  uint64_t count = 0;
};

struct Metrics {
  Metrics();
  /// Requests that ended, by finish reason (stop, length, abort), and those refused.
  void finished(llvm::StringRef reason, int64_t promptTokens, int64_t generatedTokens);
  std::atomic<int64_t> rejected{0};
  Histogram timeToFirstToken, interTokenLatency, requestLatency;
  // Set by the engine loop after every step.
  std::atomic<int64_t> running{0}, waiting{0};
  std::atomic<double> cacheUsage{0.0};
  std::atomic<int64_t> cacheBlocks{0};

  /// Everything in Prometheus' text exposition format.
  std::string render() const;

private:
  mutable std::mutex mutex;
  std::map<std::string, int64_t> requestsByReason;
  int64_t promptTokens = 0, generationTokens = 0;
};

} // namespace vgcu::serve

#endif // VGCU_TOOLS_VGCU_SERVE_METRICS_H
