//===- Trace.h - A kernel trace of every run and a profile of where the time goes ----===//
//
// KernelTracer records one slice per launch (named by its gcu op, with layer, module,
// shapes, dtype, bytes moved and FLOPs) inside one slice per run of an entry ("prefill",
// "decode 3"), as Chrome trace events: the JSON that Perfetto and chrome://tracing open.
// Each rank is its own process track. The profile sums the same records per kernel kind.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_RUNTIME_TRACE_H
#define VGCU_RUNTIME_TRACE_H

#include "vgcu/Runtime/Observer.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <chrono>
#include <string>
#include <vector>

namespace vgcu::runtime {

class KernelTracer : public ExecutionObserver {
public:
  explicit KernelTracer(int64_t rank) : rank(rank) {}

  void entryBegin(llvm::StringRef entry, const std::vector<LaunchInfo> &launches,
                  const Batch &batch) override;
  void launchBegin(const LaunchInfo &launch, Frame &frame, RuntimeState &state) override;
  void launchEnd(const LaunchInfo &launch, Frame &frame, RuntimeState &state) override;
  void entryEnd(llvm::StringRef entry) override;

  /// This rank's events: a process-name record and "X" (complete) events, timestamps in
  /// microseconds of the system's monotonic clock (shared by the processes of a machine).
  llvm::json::Array events() const;
  /// Per kernel kind over the runs of one entry: launches per run, time, share of the run,
  /// achieved GB/s and GFLOP/s.
  llvm::json::Object profile(llvm::StringRef entry) const;

private:
  struct Launch {
    const LaunchInfo *info;
    double startUs, durationUs;
    std::string shapes, dtype;
    double bytes, flops;
  };
  struct Run {
    std::string entry, name;
    double startUs, durationUs;
    int64_t tokens, sequences;
    std::vector<Launch> launches;
  };
  int64_t rank;
  std::vector<Run> runs;
  int64_t decodeRuns = 0;
  /// Per sequence of the current batch: new tokens and keys attended (for FLOPs and bytes).
  int64_t attendedPairs = 0, contextTokens = 0;
  std::chrono::steady_clock::time_point launchStart;
};

/// The Chrome trace file of all ranks' events: each timestamp made relative to the earliest.
llvm::json::Value chromeTrace(std::vector<llvm::json::Value> rankEvents);

/// A profile as a text table.
std::string formatProfile(const llvm::json::Object &profile, llvm::StringRef title);

} // namespace vgcu::runtime

#endif // VGCU_RUNTIME_TRACE_H
