#include "qforge/registry.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "kernels/float/register.h"
#include "kernels/int8/register.h"
#include "ir/onnx_schemas.h"
#include "qforge/core/status.h"
#include "quantize/builtin_quantizers.h"

namespace qforge {

absl::Status Registry::Transaction(
    const std::function<absl::Status(Registry&)>& change) {
  schemas_.BeginTransaction();
  kernels_.BeginTransaction();
  quantizers_.BeginTransaction();
  absl::Status status;
  try {
    status = change(*this);
  } catch (const std::exception& e) {
    status = absl::InternalError(
        absl::StrCat("registration threw an exception: ", e.what()));
  } catch (...) {
    status = absl::InternalError("registration threw an exception");
  }
  if (status.ok()) {
    quantizers_.CommitTransaction();
    kernels_.CommitTransaction();
    schemas_.CommitTransaction();
  } else {
    quantizers_.RollbackTransaction();
    kernels_.RollbackTransaction();
    schemas_.RollbackTransaction();
  }
  return status;
}

absl::Status RegisterBuiltins(Registry& registry) {
  QFORGE_RETURN_IF_ERROR(internal::RegisterOnnxSchemas(registry.schemas()));
  QFORGE_RETURN_IF_ERROR(kernels::RegisterFloatKernels(registry.kernels()));
  QFORGE_RETURN_IF_ERROR(kernels::RegisterInt8Kernels(registry.kernels()));
  QFORGE_RETURN_IF_ERROR(internal::RegisterBuiltinQuantizers(registry.quantizers()));
  return absl::OkStatus();
}

}  // namespace qforge
