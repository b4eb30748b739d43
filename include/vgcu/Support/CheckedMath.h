//===- CheckedMath.h - Counting with sizes from untrusted configs without wrapping --===//
#ifndef VGCU_SUPPORT_CHECKEDMATH_H
#define VGCU_SUPPORT_CHECKEDMATH_H

#include <cstdint>
#include <optional>

namespace vgcu {

/// An int64 that remembers an overflow instead of wrapping: sizes from a config can each be
/// legal and still multiply past 2^63.
class CheckedInt64 {
public:
  CheckedInt64(int64_t value = 0) : current(value) {}

  CheckedInt64 &operator+=(CheckedInt64 other) {
    overflowed |= other.overflowed || __builtin_add_overflow(current, other.current, &current);
    return *this;
  }
  CheckedInt64 &operator-=(CheckedInt64 other) {
    overflowed |= other.overflowed || __builtin_sub_overflow(current, other.current, &current);
    return *this;
  }
  CheckedInt64 &operator*=(CheckedInt64 other) {
    overflowed |= other.overflowed || __builtin_mul_overflow(current, other.current, &current);
    return *this;
  }
  friend CheckedInt64 operator+(CheckedInt64 a, CheckedInt64 b) { return a += b; }
  friend CheckedInt64 operator-(CheckedInt64 a, CheckedInt64 b) { return a -= b; }
  friend CheckedInt64 operator*(CheckedInt64 a, CheckedInt64 b) { return a *= b; }

  /// The value, or nothing if any step overflowed.
  std::optional<int64_t> get() const {
    return overflowed ? std::nullopt : std::optional<int64_t>(current);
  }

private:
  int64_t current;
  bool overflowed = false;
};

} // namespace vgcu

#endif // VGCU_SUPPORT_CHECKEDMATH_H
