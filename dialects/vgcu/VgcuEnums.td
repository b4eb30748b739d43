//===- VgcuEnums.td - Enums of the vgcu dialect alone -----------------*- tablegen -*-===//
//
// Kept apart from the op definitions so that enum generation sees only these; the enums
// shared with gcu come from dialects/common/CommonEnums.td (included by VgcuBase.td).
//
//===----------------------------------------------------------------------===//

#ifndef VGCU_ENUMS_TD
#define VGCU_ENUMS_TD

include "mlir/IR/EnumAttr.td"

def Vgcu_ComparePredicate : I32EnumAttr<"ComparePredicate", "elementwise comparison", [
    I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>, I32EnumAttrCase<"lt", 2>,
    I32EnumAttrCase<"le", 3>, I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>
  ]> {
  let cppNamespace = "::vgcu";
  let genSpecializedAttr = 0;
}

def Vgcu_RopeType : I32EnumAttr<"RopeType", "Hugging Face rope_scaling type", [
    I32EnumAttrCase<"linear", 0>,    // frequencies / factor
    I32EnumAttrCase<"dynamic", 1>,   // NTK: base grows with the call's sequence length
    I32EnumAttrCase<"yarn", 2>,      // ramp between interpolated and extrapolated frequencies
    I32EnumAttrCase<"longrope", 3>,  // per-frequency short / long factors, by sequence length
    I32EnumAttrCase<"llama3", 4>,    // Llama 3.1 smoothing between wavelength bands
    I32EnumAttrCase<"precomputed", 5> // frequencies given as they are (a traced table)
  ]> {
  let cppNamespace = "::vgcu";
  let genSpecializedAttr = 0;
}

def Vgcu_QuantCodes : I32EnumAttr<"QuantCodes", "how a quantized weight's elements are coded", [
    I32EnumAttrCase<"uint4", 0>,    // 4-bit unsigned integers (GPTQ, AWQ)
    I32EnumAttrCase<"uint8", 1>,    // 8-bit unsigned integers (GPTQ 8-bit, W8A16)
    I32EnumAttrCase<"fp8_e4m3", 2>  // OCP FP8 E4M3 (e4m3fn: no infinities, max 448)
  ]> {
  let cppNamespace = "::vgcu";
  let genSpecializedAttr = 0;
}

#endif // VGCU_ENUMS_TD
