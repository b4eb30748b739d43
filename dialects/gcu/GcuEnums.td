//===- GcuEnums.td - Enums of the gcu dialect alone -------------------*- tablegen -*-===//
//
// Kept apart from the op definitions so that enum generation sees only these; the enums
// shared with vgcu come from dialects/common/CommonEnums.td (included by GcuOps.td).
//
//===----------------------------------------------------------------------===//

#ifndef GCU_ENUMS_TD
#define GCU_ENUMS_TD

include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//

def Gcu_AttentionPhase : I32EnumAttr<"AttentionPhase", "which step of generation", [
    // any number of new tokens per sequence: prompts, chunks of prompts, decode tokens
    I32EnumAttrCase<"prefill", 0>,
    I32EnumAttrCase<"decode", 1>     // exactly one new token per sequence
  ]> {
  let cppNamespace = "::gcu";
  let genSpecializedAttr = 0;
}

def Gcu_BinaryKind : I32EnumAttr<"BinaryKind", "elementwise binary function", [
    I32EnumAttrCase<"add", 0>, I32EnumAttrCase<"sub", 1>, I32EnumAttrCase<"mul", 2>,
    I32EnumAttrCase<"div", 3>, I32EnumAttrCase<"pow", 4>, I32EnumAttrCase<"maximum", 5>,
    I32EnumAttrCase<"eq", 6>, I32EnumAttrCase<"ne", 7>, I32EnumAttrCase<"lt", 8>,
    I32EnumAttrCase<"le", 9>, I32EnumAttrCase<"gt", 10>, I32EnumAttrCase<"ge", 11>,
    I32EnumAttrCase<"logical_or", 12>
  ]> {
  let cppNamespace = "::gcu";
  let genSpecializedAttr = 0;
}

def Gcu_UnaryKind : I32EnumAttr<"UnaryKind", "elementwise unary function", [
    I32EnumAttrCase<"neg", 0>, I32EnumAttrCase<"rsqrt", 1>, I32EnumAttrCase<"sqrt", 2>,
    I32EnumAttrCase<"exp", 3>, I32EnumAttrCase<"cos", 4>, I32EnumAttrCase<"sin", 5>,
    I32EnumAttrCase<"sigmoid", 6>, I32EnumAttrCase<"tanh", 7>, I32EnumAttrCase<"silu", 8>,
    I32EnumAttrCase<"relu", 9>, I32EnumAttrCase<"gelu", 10>, I32EnumAttrCase<"gelu_tanh", 11>,
    I32EnumAttrCase<"cast", 12>, I32EnumAttrCase<"copy", 13>
  ]> {
  let cppNamespace = "::gcu";
  let genSpecializedAttr = 0;
}

def Gcu_ReduceKind : I32EnumAttr<"ReduceKind", "reduction", [
    I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"mean", 1>
  ]> {
  let cppNamespace = "::gcu";
  let genSpecializedAttr = 0;
}

#endif // GCU_ENUMS_TD
