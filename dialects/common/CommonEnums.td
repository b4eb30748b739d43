//===- CommonEnums.td - Enums shared by the vgcu and gcu dialects -----*- tablegen -*-===//
//
// One definition each, so a graph op and the kernel it lowers to speak the same enum.
//
//===----------------------------------------------------------------------===//

#ifndef VGCU_COMMON_ENUMS_TD
#define VGCU_COMMON_ENUMS_TD

include "mlir/IR/EnumAttr.td"

def RotaryStyleEnum : I32EnumAttr<"RotaryStyle", "how rotary pairs are formed", [
    I32EnumAttrCase<"neox", 0>,   // rotate_half: pairs (i, i + d/2)
    I32EnumAttrCase<"gptj", 1>    // interleaved: pairs (2i, 2i + 1)
  ]> {
  let cppNamespace = "::vgcu";
  let genSpecializedAttr = 0;
}

def GeluApproximationEnum : I32EnumAttr<"GeluApproximation", "GELU formula", [
    I32EnumAttrCase<"none", 0>,   // x * Phi(x) with erf
    I32EnumAttrCase<"tanh", 1>    // tanh approximation
  ]> {
  let cppNamespace = "::vgcu";
  let genSpecializedAttr = 0;
}

def EpilogueEnum : I32EnumAttr<"Epilogue", "work fused after a GEMM", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"silu_and_mul", 1>,
    I32EnumAttrCase<"gelu_and_mul", 2>,
    I32EnumAttrCase<"gelu_tanh_and_mul", 3>,
    I32EnumAttrCase<"relu", 4>,
    I32EnumAttrCase<"gelu", 5>,
    I32EnumAttrCase<"gelu_tanh", 6>
  ]> {
  let cppNamespace = "::vgcu";
  let genSpecializedAttr = 0;
}

// Which ranks a collective spans. Ranks are numbered expert-parallel index major:
// rank = ep_index · tp + tp_index.
def CollectiveGroupEnum : I32EnumAttr<"CollectiveGroup", "ranks a collective spans", [
    I32EnumAttrCase<"tensor", 0>,   // the tp ranks of one expert-parallel index
    I32EnumAttrCase<"expert", 1>    // all tp × ep ranks: a layer whose experts are split
  ]> {
  let cppNamespace = "::vgcu";
  let genSpecializedAttr = 0;
}
// How a mixture-of-experts router scores the experts from the gate's logits.
def MoeScoringEnum : I32EnumAttr<"MoeScoring", "expert scores of a router", [
    I32EnumAttrCase<"softmax", 0>,  // Mixtral, Qwen-MoE, DeepSeek-V2
    I32EnumAttrCase<"sigmoid", 1>   // DeepSeek-V3
  ]> {
  let cppNamespace = "::vgcu";
  let genSpecializedAttr = 0;
}
def MoeScoringProp : DefaultValuedProp<EnumProp<MoeScoringEnum>, "::vgcu::MoeScoring::softmax">;

// How a group-limited router scores a group of experts.
def MoeGroupScoreEnum : I32EnumAttr<"MoeGroupScore", "score of a group of experts", [
    I32EnumAttrCase<"max", 0>,       // DeepSeek-V2's group_limited_greedy
    I32EnumAttrCase<"top2_sum", 1>   // DeepSeek-V3's noaux_tc
  ]> {
  let cppNamespace = "::vgcu";
  let genSpecializedAttr = 0;
}
def MoeGroupScoreProp : DefaultValuedProp<EnumProp<MoeGroupScoreEnum>, "::vgcu::MoeGroupScore::max">;

def CollectiveGroupProp
    : DefaultValuedProp<EnumProp<CollectiveGroupEnum>, "::vgcu::CollectiveGroup::tensor">;

#endif // VGCU_COMMON_ENUMS_TD
