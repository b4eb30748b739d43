//===- faulty_layer.cpp - A Llama port with one bug, for the layer-by-layer diff ----===//
//
// Overrides LlamaForCausalLM so that decoder layer 1's MLP gates with GELU instead of SiLU:
// the kind of slip a port makes (a wrong `hidden_act` in one branch of a builder). Every
// other layer is right, so python/vgcu_diff.py must name model.layers.1 and its MLP as the
// first divergence while layer 0 matches (test/e2e/diff.test).
//
//===----------------------------------------------------------------------===//

#include "vgcu/Models/Llama.h"
#include "vgcu/Models/ModelRegistry.h"

using namespace vgcu;

namespace {

class FaultyLlamaForCausalLM : public LlamaForCausalLM {
public:
  std::unique_ptr<LlamaMLP> makeMLP(ModelContext &ctx, std::string prefix,
                                    int64_t layerIndex) const override {
    if (layerIndex != 1)
      return LlamaForCausalLM::makeMLP(ctx, std::move(prefix), layerIndex);
    const ModelConfig &c = config();
    return std::make_unique<LlamaMLP>(ctx, prefix, c.hiddenSize, c.intermediateSize, "gelu",
                                      c.mlpBias, moduleNames());
  }
};

} // namespace

extern "C" void vgcuRegisterPlugin(ModelRegistry &registry) {
  registry.registerModel(
      "LlamaForCausalLM", [] { return std::make_unique<FaultyLlamaForCausalLM>(); },
      {"Llama (faulty plugin)", "Llama whose layer 1 MLP uses GELU: a bug for vgcu_diff", {}});
}
