//===- Trace.cpp - A kernel trace of every run and a profile of where the time goes --===//

#include "vgcu/Runtime/Trace.h"
#include "vgcu/Runtime/Executor.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <limits>
#include <map>

using namespace vgcu;
using namespace vgcu::runtime;

namespace {

double nowUs() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

llvm::StringRef scalarName(at::ScalarType type) {
  switch (type) {
  case at::kFloat: return "f32";
  case at::kHalf: return "f16";
  case at::kBFloat16: return "bf16";
  case at::kLong: return "i64";
  case at::kInt: return "i32";
  case at::kBool: return "i1";
  default: return "other";
  }
}

/// Multiply-adds count two FLOPs; kernels without a product count none (their time is
/// memory, which bytes measure).
double flopsOf(const LaunchInfo &launch, const std::vector<at::Tensor> &operands,
               int64_t attendedPairs) {
  llvm::StringRef kernel = launch.kernel;
  if (kernel == "gemm" && operands.size() >= 2 && operands[1].dim() == 2)
    return 2.0 * operands[0].numel() * operands[1].size(0);
  if (kernel == "batch_matmul" && operands.size() >= 2)
    return 2.0 * operands[0].numel() * operands[1].size(-1);
  if (launch.attentionHeads > 0 && launch.attentionHeadDim > 0)
    // Q·Kᵀ and P·V for every (query, key) pair the causal mask keeps.
    return 4.0 * launch.attentionHeads * launch.attentionHeadDim * attendedPairs;
  if (kernel == "fused_moe" && operands.size() >= 6) {
    double tokens = operands[0].size(0), perToken = operands[1].size(-1);
    double experts = std::max<int64_t>(1, operands[3].size(0));
    double flops = 2.0 * tokens * perToken * (operands[3].numel() + operands[4].numel()) / experts;
    for (size_t i = 5; i + 1 < operands.size(); ++i)
      if (operands[i].dim() == 2)
        flops += 2.0 * tokens * operands[i].numel();
    return flops;
  }
  return 0.0;
}

} // namespace

void KernelTracer::entryBegin(llvm::StringRef entry, const std::vector<LaunchInfo> &,
                              const Batch &batch) {
  Run run;
  run.entry = entry.str();
  run.name = entry == "decode" ? "decode " + std::to_string(decodeRuns++) : entry.str();
  run.tokens = batch.inputIds.size(0);
  run.sequences = batch.seqLens.size(0);
  const int64_t *starts = batch.queryStartLoc.data_ptr<int64_t>();
  const int64_t *lengths = batch.seqLens.data_ptr<int64_t>();
  attendedPairs = contextTokens = 0;
  for (int64_t s = 0; s < run.sequences; ++s) {
    int64_t queries = starts[s + 1] - starts[s], length = lengths[s];
    attendedPairs += queries * (length - queries) + queries * (queries + 1) / 2;
    contextTokens += length;
  }
  run.startUs = nowUs();
  runs.push_back(std::move(run));
}

void KernelTracer::launchBegin(const LaunchInfo &, Frame &, RuntimeState &) {
  launchStart = std::chrono::steady_clock::now();
}

void KernelTracer::launchEnd(const LaunchInfo &launch, Frame &frame, RuntimeState &) {
  auto end = std::chrono::steady_clock::now();
  Launch record;
  record.info = &launch;
  record.startUs =
      std::chrono::duration<double, std::micro>(launchStart.time_since_epoch()).count();
  record.durationUs = std::chrono::duration<double, std::micro>(end - launchStart).count();
  std::vector<at::Tensor> operands;
  std::string shapes;
  record.bytes = 0;
  for (const LaunchInfo::Operand &operand : launch.operands) {
    const at::Tensor &tensor = frame.tensors[operand.reg];
    operands.push_back(tensor);
    if (!shapes.empty())
      shapes += ", ";
    shapes += (operand.written ? "out " : "") +
              ("[" + llvm::join(llvm::map_range(tensor.sizes(),
                                                [](int64_t d) { return std::to_string(d); }),
                                "x") +
               "]");
    if (record.dtype.empty() && at::isFloatingType(tensor.scalar_type()))
      record.dtype = scalarName(tensor.scalar_type()).str();
    if (operand.kvCache && tensor.dim() >= 2) {
      // [blocks, block_size, heads, dim]: the rows of the batch's sequences.
      double rowBytes = static_cast<double>(tensor.nbytes()) /
                        std::max<int64_t>(1, tensor.size(0) * tensor.size(1));
      record.bytes += rowBytes * contextTokens;
    } else {
      record.bytes += static_cast<double>(tensor.numel() * tensor.element_size());
    }
  }
  record.shapes = std::move(shapes);
  record.flops = flopsOf(launch, operands, attendedPairs);
  runs.back().launches.push_back(std::move(record));
}

void KernelTracer::entryEnd(llvm::StringRef) {
  runs.back().durationUs = nowUs() - runs.back().startUs;
}

llvm::json::Array KernelTracer::events() const {
  llvm::json::Array events;
  events.push_back(llvm::json::Object{
      {"ph", "M"}, {"name", "process_name"}, {"pid", rank}, {"tid", 0},
      {"args", llvm::json::Object{{"name", "rank " + std::to_string(rank)}}}});
  events.push_back(llvm::json::Object{
      {"ph", "M"}, {"name", "process_sort_index"}, {"pid", rank}, {"tid", 0},
      {"args", llvm::json::Object{{"sort_index", rank}}}});
  for (const Run &run : runs) {
    events.push_back(llvm::json::Object{
        {"ph", "X"}, {"name", run.name}, {"cat", "step"}, {"pid", rank}, {"tid", 0},
        {"ts", run.startUs}, {"dur", run.durationUs},
        {"args", llvm::json::Object{{"entry", run.entry},
                                    {"tokens", run.tokens},
                                    {"sequences", run.sequences},
                                    {"launches", static_cast<int64_t>(run.launches.size())}}}});
    for (const Launch &launch : run.launches) {
      const LaunchInfo &info = *launch.info;
      llvm::json::Object args{{"index", info.index},
                              {"module", info.modulePath},
                              {"shapes", launch.shapes},
                              {"dtype", launch.dtype},
                              {"bytes", launch.bytes},
                              {"flops", launch.flops},
                              {"hardware_entry", info.hardwareEntry}};
      if (info.layer >= 0)
        args["layer"] = info.layer;
      events.push_back(llvm::json::Object{{"ph", "X"},
                                          {"name", info.kernel},
                                          {"cat", info.collective ? "collective" : "kernel"},
                                          {"pid", rank},
                                          {"tid", 0},
                                          {"ts", launch.startUs},
                                          {"dur", launch.durationUs},
                                          {"args", std::move(args)}});
    }
  }
  return events;
}

llvm::json::Object KernelTracer::profile(llvm::StringRef entry) const {
  struct Kind {
    int64_t launches = 0;
    double microseconds = 0, bytes = 0, flops = 0;
  };
  std::map<std::string, Kind> kinds;
  int64_t count = 0, launches = 0;
  double stepUs = 0;
  for (const Run &run : runs) {
    if (run.entry != entry)
      continue;
    ++count;
    stepUs += run.durationUs;
    launches += static_cast<int64_t>(run.launches.size());
    for (const Launch &launch : run.launches) {
      Kind &kind = kinds[launch.info->kernel];
      ++kind.launches;
      kind.microseconds += launch.durationUs;
      kind.bytes += launch.bytes;
      kind.flops += launch.flops;
    }
  }
  llvm::json::Array table;
  std::vector<std::pair<std::string, Kind>> sorted(kinds.begin(), kinds.end());
  llvm::stable_sort(sorted, [](const auto &a, const auto &b) {
    return a.second.microseconds > b.second.microseconds;
  });
  for (const auto &[name, kind] : sorted) {
    double seconds = kind.microseconds * 1e-6;
    table.push_back(llvm::json::Object{
        {"kernel", name},
        {"launches_per_step", static_cast<double>(kind.launches) / std::max<int64_t>(count, 1)},
        {"ms_per_step", kind.microseconds * 1e-3 / std::max<int64_t>(count, 1)},
        {"share", stepUs > 0 ? kind.microseconds / stepUs : 0.0},
        {"gb_per_s", seconds > 0 ? kind.bytes / seconds * 1e-9 : 0.0},
        {"gflop_per_s", seconds > 0 ? kind.flops / seconds * 1e-9 : 0.0}});
  }
  return llvm::json::Object{
      {"entry", entry},
      {"steps", count},
      {"launches_per_step", count ? static_cast<double>(launches) / count : 0.0},
      {"ms_per_step", count ? stepUs * 1e-3 / count : 0.0},
      {"kernels", std::move(table)}};
}

llvm::json::Value vgcu::runtime::chromeTrace(std::vector<llvm::json::Value> rankEvents) {
  double earliest = std::numeric_limits<double>::infinity();
  for (const llvm::json::Value &events : rankEvents)
    if (const llvm::json::Array *array = events.getAsArray())
      for (const llvm::json::Value &event : *array)
        if (auto ts = event.getAsObject()->getNumber("ts"))
          earliest = std::min(earliest, *ts);
  llvm::json::Array all;
  for (llvm::json::Value &events : rankEvents)
    if (llvm::json::Array *array = events.getAsArray())
      for (llvm::json::Value &event : *array) {
        llvm::json::Object &object = *event.getAsObject();
        if (auto ts = object.getNumber("ts"))
          object["ts"] = *ts - earliest;
        all.push_back(std::move(event));
      }
  return llvm::json::Object{{"traceEvents", std::move(all)}, {"displayTimeUnit", "ms"}};
}

std::string vgcu::runtime::formatProfile(const llvm::json::Object &profile,
                                         llvm::StringRef title) {
  std::string text;
  llvm::raw_string_ostream os(text);
  int64_t steps = profile.getInteger("steps").value_or(0);
  os << llvm::formatv("{0}: {1} run(s), {2:F1} launches and {3:F3} ms per run\n", title, steps,
                      profile.getNumber("launches_per_step").value_or(0),
                      profile.getNumber("ms_per_step").value_or(0));
  os << llvm::formatv("  {0,-32} {1,9} {2,10} {3,7} {4,9} {5,10}\n", "kernel", "launches",
                      "ms/run", "share", "GB/s", "GFLOP/s");
  if (const llvm::json::Array *kernels = profile.getArray("kernels"))
    for (const llvm::json::Value &row : *kernels) {
      const llvm::json::Object &kind = *row.getAsObject();
      double gflops = kind.getNumber("gflop_per_s").value_or(0);
      os << llvm::formatv("  {0,-32} {1,9:F1} {2,10:F3} {3,6:F1}% {4,9:F2} {5,10}\n",
                          kind.getString("kernel").value_or(""),
                          kind.getNumber("launches_per_step").value_or(0),
                          kind.getNumber("ms_per_step").value_or(0),
                          100 * kind.getNumber("share").value_or(0),
                          kind.getNumber("gb_per_s").value_or(0),
                          gflops > 0 ? llvm::formatv("{0:F2}", gflops).str() : "-");
    }
  return text;
}
