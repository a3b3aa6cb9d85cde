#include "kernels/int8/reference/concat.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/int8/reference/float_rounding.h"
#include "kernels/int8/reference/kernel_util.h"
#include "kernels/int8/reference/lut.h"
#include "qforge/core/status.h"

namespace qforge::kernels::reference {
namespace {

// ConcatenationWithScaling's per-element mapping, as a table.
Int8Lut TfliteConcatTable(const QuantParam& in, const QuantParam& out) {
  const float inverse_output_scale = 1.0f / out.scale;
  const float scale = in.scale * inverse_output_scale;
  const float bias = static_cast<float>(-in.zero_point) * scale;
  Int8Lut lut;
  for (int32_t q = kInt8Min; q <= kInt8Max; ++q) {
    const float product = static_cast<float>(q) * scale;
    const float shifted = product + bias;
    const int64_t value =
        static_cast<int64_t>(ConvertToInt32RoundHalfAwaySaturate(shifted)) +
        out.zero_point;
    lut[static_cast<uint8_t>(q)] = static_cast<int8_t>(
        value < kInt8Min ? kInt8Min : (value > kInt8Max ? kInt8Max : value));
  }
  return lut;
}

}  // namespace

absl::Status Concat(ArithmeticProfile profile,
                    absl::Span<const ConcatInput> inputs, int64_t outer_size,
                    int64_t inner_size, const QuantParam& output_quant,
                    int8_t* output) {
  if (inputs.empty()) return absl::InvalidArgumentError("Concat: no inputs");
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(output_quant, "Concat output"));
  int64_t total_axis = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    QFORGE_RETURN_IF_ERROR(
        ValidateQuantParam(inputs[i].quant, absl::StrCat("Concat input ", i)));
    QFORGE_ASSIGN_OR_RETURN(int64_t count,
                            internal::CheckedElementCount(
                                {outer_size, inputs[i].axis_size, inner_size},
                                absl::StrCat("Concat input ", i)));
    if (count > 0 && inputs[i].data == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("Concat: input ", i, " is null"));
    }
    total_axis += inputs[i].axis_size;
  }
  QFORGE_ASSIGN_OR_RETURN(
      int64_t out_count,
      internal::CheckedElementCount({outer_size, total_axis, inner_size},
                                    "Concat output"));
  if (out_count > 0 && output == nullptr) {
    return absl::InvalidArgumentError("Concat: null output");
  }

  std::vector<Int8Lut> tables(inputs.size());
  std::vector<bool> copy(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    copy[i] = inputs[i].quant == output_quant;
    if (copy[i]) continue;
    if (profile == ArithmeticProfile::kOnnxRuntime) {
      QFORGE_ASSIGN_OR_RETURN(tables[i],
                              BuildLut(profile, inputs[i].quant, output_quant,
                                       [](float x) { return x; }));
    } else {
      tables[i] = TfliteConcatTable(inputs[i].quant, output_quant);
    }
  }

  int8_t* out = output;
  for (int64_t o = 0; o < outer_size; ++o) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int64_t block = inputs[i].axis_size * inner_size;
      const int8_t* in = inputs[i].data + o * block;
      for (int64_t j = 0; j < block; ++j) {
        out[j] = copy[i] ? in[j] : LookUp(tables[i], in[j]);
      }
      out += block;
    }
  }
  return absl::OkStatus();
}

}  // namespace qforge::kernels::reference
