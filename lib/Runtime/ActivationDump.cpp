//===- ActivationDump.cpp - Module outputs of a prompt, named by Hugging Face paths --===//

#include "vgcu/Runtime/ActivationDump.h"
#include "vgcu/Runtime/Executor.h"
#include "vgcu/Support/ModulePaths.h"
#include "vgcu/Support/StagedDirectory.h"
#include "vgcu/Weights/SafeTensors.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <map>

using namespace vgcu;
using namespace vgcu::runtime;

void ActivationRecorder::entryBegin(llvm::StringRef entry,
                                    const std::vector<LaunchInfo> &entryLaunches,
                                    const Batch &) {
  active = !finished && entry == "prefill";
  if (active)
    launches = &entryLaunches;
}

bool ActivationRecorder::keeps(llvm::StringRef path) const {
  if (options.layers.empty())
    return true;
  auto layer = decoderLayerOf(path);
  return !layer || options.layers.count(layer->index);
}

void ActivationRecorder::record(std::vector<std::pair<std::string, at::Tensor>> &into,
                                llvm::StringRef name, const at::Tensor &value) {
  at::Tensor copy = value.to(at::kFloat).contiguous().clone();
  for (auto &[existing, tensor] : into)
    if (existing == name) {
      tensor = std::move(copy);
      return;
    }
  into.emplace_back(name.str(), std::move(copy));
}

void ActivationRecorder::launchBegin(const LaunchInfo &launch, Frame &frame, RuntimeState &) {
  if (!active || launch.inputOperand < 0 || launch.branchPath.empty())
    return;
  // What the branch returned, before the kernel adds it to the residual and overwrites it.
  at::Tensor branch = frame.tensors[launch.operands[launch.inputOperand].reg]
                          .to(at::kFloat)
                          .contiguous()
                          .clone();
  // Every rank reduces (the ranks run the same launches), whether or not it keeps the value.
  if (launch.partialInput)
    collectives.allReduce(branch, launch.group);
  if (keeps(launch.branchPath))
    record(modules, launch.branchPath, branch);
}

void ActivationRecorder::launchEnd(const LaunchInfo &launch, Frame &frame, RuntimeState &) {
  if (!active)
    return;
  auto operand = [&](int index) -> const at::Tensor & {
    return frame.tensors[launch.operands[index].reg];
  };
  if (launch.residualOperand >= 0) {
    if (!launch.normPath.empty() && keeps(launch.normPath))
      record(modules, launch.normPath, operand(launch.inputOperand));
    if (!launch.layerOutputPath.empty() && keeps(launch.layerOutputPath))
      record(modules, launch.layerOutputPath, operand(launch.residualOperand));
  } else if (launch.outputOperand >= 0 && keeps(launch.moduleOutputPath)) {
    record(modules, launch.moduleOutputPath, operand(launch.outputOperand));
  }
  if (!options.kernels || !keeps(launch.modulePath))
    return;
  // "<module>:<kernel>", ".out<k>" for a launch's k-th written operand after its first,
  // "#<n>" for the n-th launch of that kernel in that module.
  std::string base = (launch.modulePath.empty() ? std::string("program") : launch.modulePath) +
                     ":" + launch.kernel;
  if (int64_t uses = kernelNameUses[base]++)
    base += "#" + std::to_string(uses + 1);
  int64_t written = 0;
  for (auto [position, described] : llvm::enumerate(launch.operands)) {
    if (!described.written || described.kvCache)
      continue;
    std::string name = written ? base + ".out" + std::to_string(written) : base;
    ++written;
    at::Tensor value = operand(position).to(at::kFloat).contiguous();
    int64_t tp = collectives.tensorParallelSize();
    if (tp > 1) {
      // One slice per tensor rank: how a kernel's shards join (packed projections interleave
      // per rank) is the kernel's own business.
      std::vector<int64_t> sizes{tp};
      llvm::append_range(sizes, value.sizes());
      at::Tensor stacked = at::empty(sizes, value.options());
      collectives.allGather(value.unsqueeze(0), stacked, 0);
      value = stacked;
    }
    record(kernels, name, value);
  }
}

void ActivationRecorder::entryEnd(llvm::StringRef) {
  if (active)
    finished = true;
  active = false;
}

static std::vector<TensorToWrite> tensorsToWrite(
    const std::vector<std::pair<std::string, at::Tensor>> &records) {
  std::vector<TensorToWrite> tensors;
  for (const auto &[name, tensor] : records) {
    TensorToWrite entry;
    entry.name = name;
    entry.dtype = DType::F32;
    entry.shape.assign(tensor.sizes().begin(), tensor.sizes().end());
    at::Tensor data = tensor;
    entry.fill = [data](llvm::MutableArrayRef<uint8_t> bytes) {
      std::memcpy(bytes.data(), data.data_ptr(), bytes.size());
    };
    tensors.push_back(std::move(entry));
  }
  return tensors;
}

llvm::Error ActivationRecorder::write(llvm::StringRef directory, bool overwrite) const {
  StagingOptions staging;
  staging.overwrite = overwrite;
  staging.replaceableKind = "vgcu activation dump";
  // An earlier dump (it has kernels.json) or an empty directory.
  staging.isReplaceable = [](llvm::StringRef existing) {
    llvm::SmallString<256> index(existing);
    llvm::sys::path::append(index, "kernels.json");
    std::error_code ec;
    return llvm::sys::fs::exists(index) ||
           llvm::sys::fs::directory_iterator(existing, ec) == llvm::sys::fs::directory_iterator();
  };
  auto staged = StagedDirectory::create(directory, staging);
  if (!staged)
    return staged.takeError();
  auto pathOf = [&](llvm::StringRef file) {
    llvm::SmallString<256> path(staged->path());
    llvm::sys::path::append(path, file);
    return std::string(path);
  };
  std::map<std::string, std::string> metadata{
      {"format", "vgcu activations"}, {"tp", std::to_string(collectives.tensorParallelSize())}};
  if (auto error = writeSafeTensors(pathOf("activations.safetensors"), tensorsToWrite(modules),
                                    metadata))
    return error;
  if (options.kernels)
    if (auto error = writeSafeTensors(pathOf("kernels.safetensors"), tensorsToWrite(kernels),
                                      metadata))
      return error;
  llvm::json::Array launchList, moduleOrder;
  if (launches)
    for (const LaunchInfo &launch : *launches)
      launchList.push_back(llvm::json::Object{{"index", launch.index},
                                              {"kernel", launch.kernel},
                                              {"module", launch.modulePath},
                                              {"layer", launch.layer}});
  for (const auto &[name, tensor] : modules)
    moduleOrder.push_back(name);
  std::string index;
  llvm::raw_string_ostream os(index);
  os << llvm::formatv("{0:2}", llvm::json::Value(llvm::json::Object{
                                   {"tp", collectives.tensorParallelSize()},
                                   {"launches", std::move(launchList)},
                                   {"modules", std::move(moduleOrder)}}))
     << "\n";
  std::error_code ec;
  llvm::raw_fd_ostream file(pathOf("kernels.json"), ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write '%s': %s", pathOf("kernels.json").c_str(),
                                   ec.message().c_str());
  file << index;
  file.close();
  if (file.has_error()) {
    std::error_code writeError = file.error();
    file.clear_error();
    return llvm::createStringError(writeError, "cannot write '%s': %s",
                                   pathOf("kernels.json").c_str(), writeError.message().c_str());
  }
  return staged->commit();
}
