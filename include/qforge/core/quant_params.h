// Quantization parameters of a tensor.
//
// A quantized tensor stores integers q that stand for the real values
//   r = scale * (q - zero_point),
// with one (scale, zero_point) pair for the whole tensor (axis == -1) or one
// pair per slice along `axis` (per-channel). `storage` is the integer type
// that holds q; `bits` may be narrower than the storage (e.g. int4 values in
// int8 storage) and bounds q to [qmin(), qmax()].
#ifndef QFORGE_CORE_QUANT_PARAMS_H_
#define QFORGE_CORE_QUANT_PARAMS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "qforge/core/data_type.h"
#include "qforge/core/export.h"

namespace qforge {

struct QFORGE_EXPORT QuantParams {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int axis = -1;  // -1: per-tensor; otherwise the channel axis.
  DataType storage = DataType::kInt8;
  int bits = 8;

  static QuantParams PerTensor(float scale, int64_t zero_point,
                               DataType storage = DataType::kInt8);
  static QuantParams PerAxis(std::vector<float> scales,
                             std::vector<int64_t> zero_points, int axis,
                             DataType storage = DataType::kInt8);

  bool per_axis() const { return axis >= 0; }
  // Smallest and largest representable integers for `bits` and `storage`
  // signedness, e.g. [-128, 127] for int8.
  int64_t qmin() const;
  int64_t qmax() const;

  // OK when scales are finite and > 0, zero points lie in [qmin, qmax],
  // scale and zero point counts agree, and per-tensor params have one each.
  absl::Status Validate() const;

  std::string ToString() const;
  bool operator==(const QuantParams& other) const = default;
};

}  // namespace qforge

#endif  // QFORGE_CORE_QUANT_PARAMS_H_
