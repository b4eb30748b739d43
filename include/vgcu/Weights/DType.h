//===- DType.h - Element types of checkpoint tensors and their conversions --------===//
#ifndef VGCU_WEIGHTS_DTYPE_H
#define VGCU_WEIGHTS_DTYPE_H

#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace mlir {
class MLIRContext;
class Type;
} // namespace mlir

namespace vgcu {

/// F8E4M3: OCP FP8 E4M3 ("e4m3fn"), what FP8 checkpoints store; read as bytes, decoded by
/// the quantization code.
enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool, F8E4M3 };

/// The safetensors spelling ("F32", "BF16", ...).
llvm::StringRef dtypeName(DType dtype);
std::optional<DType> parseDTypeName(llvm::StringRef name);
size_t dtypeSize(DType dtype);
bool isFloatDType(DType dtype);

/// "f32" | "f16" | "bf16" (also "float32", "float16", "bfloat16") to a float dtype.
std::optional<DType> parseComputeDType(llvm::StringRef name);
mlir::Type dtypeToMlir(mlir::MLIRContext *context, DType dtype);
std::optional<DType> mlirToDType(mlir::Type type);

/// Converts `count` floats between F32, F16 and BF16 (round to nearest even); equal types
/// copy.
void convertFloats(const void *source, DType sourceType, void *destination,
                   DType destinationType, size_t count);

float halfToFloat(uint16_t bits);
uint16_t floatToHalf(float value);
float bfloat16ToFloat(uint16_t bits);
uint16_t floatToBfloat16(float value);

} // namespace vgcu

#endif // VGCU_WEIGHTS_DTYPE_H
