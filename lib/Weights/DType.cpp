//===- DType.cpp - Element types of checkpoint tensors and their conversions ------===//

#include "vgcu/Weights/DType.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringSwitch.h"

#include <cstring>

using namespace vgcu;

llvm::StringRef vgcu::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32: return "F32";
  case DType::F16: return "F16";
  case DType::BF16: return "BF16";
  case DType::F64: return "F64";
  case DType::I64: return "I64";
  case DType::I32: return "I32";
  case DType::I16: return "I16";
  case DType::I8: return "I8";
  case DType::U8: return "U8";
  case DType::Bool: return "BOOL";
  case DType::F8E4M3: return "F8_E4M3";
  }
  return "?";
}

std::optional<DType> vgcu::parseDTypeName(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<DType>>(name)
      .Case("F32", DType::F32)
      .Case("F16", DType::F16)
      .Case("BF16", DType::BF16)
      .Case("F64", DType::F64)
      .Case("I64", DType::I64)
      .Case("I32", DType::I32)
      .Case("I16", DType::I16)
      .Case("I8", DType::I8)
      .Case("U8", DType::U8)
      .Case("BOOL", DType::Bool)
      .Case("F8_E4M3", DType::F8E4M3)
      .Default(std::nullopt);
}

size_t vgcu::dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F64: case DType::I64: return 8;
  case DType::F32: case DType::I32: return 4;
  case DType::F16: case DType::BF16: case DType::I16: return 2;
  case DType::I8: case DType::U8: case DType::Bool: case DType::F8E4M3: return 1;
  }
  return 0;
}

bool vgcu::isFloatDType(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16;
}

std::optional<DType> vgcu::parseComputeDType(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<DType>>(name.lower())
      .Cases({"f32", "float32", "float"}, DType::F32)
      .Cases({"f16", "float16", "half"}, DType::F16)
      .Cases({"bf16", "bfloat16"}, DType::BF16)
      .Default(std::nullopt);
}

mlir::Type vgcu::dtypeToMlir(mlir::MLIRContext *context, DType dtype) {
  switch (dtype) {
  case DType::F32: return mlir::Float32Type::get(context);
  case DType::F16: return mlir::Float16Type::get(context);
  case DType::BF16: return mlir::BFloat16Type::get(context);
  case DType::F64: return mlir::Float64Type::get(context);
  case DType::I64: return mlir::IntegerType::get(context, 64);
  case DType::I32: return mlir::IntegerType::get(context, 32);
  case DType::I16: return mlir::IntegerType::get(context, 16);
  case DType::I8: case DType::U8: case DType::F8E4M3: return mlir::IntegerType::get(context, 8);
  case DType::Bool: return mlir::IntegerType::get(context, 1);
  }
  return {};
}

std::optional<DType> vgcu::mlirToDType(mlir::Type type) {
  if (type.isF32()) return DType::F32;
  if (type.isF16()) return DType::F16;
  if (type.isBF16()) return DType::BF16;
  if (type.isF64()) return DType::F64;
  if (type.isInteger(64)) return DType::I64;
  if (type.isInteger(32)) return DType::I32;
  if (type.isInteger(8)) return DType::I8;
  if (type.isInteger(1)) return DType::Bool;
  return std::nullopt;
}

float vgcu::bfloat16ToFloat(uint16_t bits) {
  uint32_t word = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &word, sizeof(value));
  return value;
}

uint16_t vgcu::floatToBfloat16(float value) {
  uint32_t word;
  std::memcpy(&word, &value, sizeof(word));
  if ((word & 0x7fffffffu) > 0x7f800000u) // NaN stays a quiet NaN
    return static_cast<uint16_t>((word >> 16) | 0x40);
  uint32_t roundingBias = 0x7fffu + ((word >> 16) & 1u);
  return static_cast<uint16_t>((word + roundingBias) >> 16);
}

float vgcu::halfToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  uint32_t word;
  if (exponent == 0x1f) {
    word = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    word = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    word = sign;
  } else { // subnormal half: normalize
    int shift = 0;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      ++shift;
    }
    mantissa &= 0x3ffu;
    word = sign | ((113 - shift) << 23) | (mantissa << 13);
  }
  float value;
  std::memcpy(&value, &word, sizeof(value));
  return value;
}

uint16_t vgcu::floatToHalf(float value) {
  uint32_t word;
  std::memcpy(&word, &value, sizeof(word));
  uint32_t sign = (word >> 16) & 0x8000u;
  uint32_t absolute = word & 0x7fffffffu;
  if (absolute > 0x7f800000u) // NaN
    return static_cast<uint16_t>(sign | 0x7e00u);
  if (absolute >= 0x477ff000u) // rounds to or beyond infinity
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (absolute < 0x38800000u) { // subnormal or zero in half
    if (absolute < 0x33000000u)
      return static_cast<uint16_t>(sign);
    uint32_t exponent = absolute >> 23;
    uint32_t mantissa = (absolute & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - exponent; // 14..24
    uint32_t halfMantissa = mantissa >> shift;
    uint32_t remainder = mantissa & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (halfMantissa & 1u)))
      ++halfMantissa;
    return static_cast<uint16_t>(sign | halfMantissa);
  }
  uint32_t rounded = absolute + 0xfffu + ((absolute >> 13) & 1u);
  return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

void vgcu::convertFloats(const void *source, DType sourceType, void *destination,
                         DType destinationType, size_t count) {
  if (sourceType == destinationType) {
    std::memcpy(destination, source, count * dtypeSize(sourceType));
    return;
  }
  auto load = [&](size_t i) -> float {
    switch (sourceType) {
    case DType::F32: return static_cast<const float *>(source)[i];
    case DType::F16: return halfToFloat(static_cast<const uint16_t *>(source)[i]);
    case DType::BF16: return bfloat16ToFloat(static_cast<const uint16_t *>(source)[i]);
    default: return 0.0f;
    }
  };
  for (size_t i = 0; i < count; ++i) {
    float value = load(i);
    switch (destinationType) {
    case DType::F32: static_cast<float *>(destination)[i] = value; break;
    case DType::F16: static_cast<uint16_t *>(destination)[i] = floatToHalf(value); break;
    case DType::BF16: static_cast<uint16_t *>(destination)[i] = floatToBfloat16(value); break;
    default: break;
    }
  }
}
