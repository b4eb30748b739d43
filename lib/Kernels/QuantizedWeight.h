//===- QuantizedWeight.h - A #vgcu.quant weight as the kernels read it -----------*- C++ -*-===//
//
// Plain pointers and sizes, no ATen: the per-instruction-set kernel files include it, and
// must not instantiate ATen's inline functions with their -m flags (the linker could keep
// those copies for the whole library).
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_KERNELS_QUANTIZEDWEIGHT_H
#define VGCU_KERNELS_QUANTIZEDWEIGHT_H

#include <cstdint>

namespace vgcu::runtime::gemm {

/// Codes, scales and zero points of gcu.quant_gemm's weight (see docs/kernels.md).
struct QuantizedWeight {
  const uint8_t *codes = nullptr;
  const float *scales = nullptr, *zeros = nullptr;
  const int32_t *groupIndex = nullptr;
  int64_t rows = 0, cols = 0, groups = 1, bits = 4, blockRows = 1, blockCols = 0;
  bool fp8 = false;

  /// Row `row` as f32: (code - zero) · scale per element.
  void dequantizeRow(int64_t row, float *out) const;
};

} // namespace vgcu::runtime::gemm

#endif // VGCU_KERNELS_QUANTIZEDWEIGHT_H
