//===- Error.h - Building llvm::Error values with formatted messages --------------===//
#ifndef VGCU_SUPPORT_ERROR_H
#define VGCU_SUPPORT_ERROR_H

#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"

namespace vgcu {

/// An llvm::Error whose message is formatted with llvm::formatv.
template <typename... Ts>
llvm::Error makeError(const char *format, Ts &&...values) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 llvm::formatv(format, std::forward<Ts>(values)...).str());
}

/// Prefixes the message of `error` (if any) with `context: `.
inline llvm::Error addContext(llvm::Error error, const llvm::Twine &context) {
  if (!error)
    return error;
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 context + ": " + llvm::toString(std::move(error)));
}

} // namespace vgcu

#endif // VGCU_SUPPORT_ERROR_H
