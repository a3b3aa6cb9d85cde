#include "kernels/int8/reference/elementwise.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kernels/int8/reference/fixed_point.h"
#include "kernels/int8/reference/float_rounding.h"
#include "kernels/int8/reference/kernel_util.h"
#include "kernels/int8/reference/quantize.h"
#include "kernels/int8/reference/requantize.h"
#include "qforge/core/status.h"

namespace qforge::kernels::reference {
namespace {

enum class OpKind { kAdd, kSub, kMul };

absl::string_view OpName(OpKind op) {
  switch (op) {
    case OpKind::kAdd:
      return "Add";
    case OpKind::kSub:
      return "Sub";
    case OpKind::kMul:
      return "Mul";
  }
  return "?";
}

int32_t ClampInt8(int64_t v) {
  return static_cast<int32_t>(v < kInt8Min   ? kInt8Min
                              : v > kInt8Max ? kInt8Max
                                             : v);
}

// Which operand ORT's broadcast helper presents to MLAS as a scalar for the
// innermost span (see elementwise.h).
enum class OrtSpanMode { kGeneral, kInput1Constant, kInput2Constant };

// Broadcast iteration plan: output dims and per-input strides (0 where the
// input is broadcast), all aligned to the output rank.
struct BroadcastPlan {
  std::vector<int64_t> out_dims;
  std::vector<int64_t> stride1;
  std::vector<int64_t> stride2;
  int64_t count = 1;
  OrtSpanMode ort_mode = OrtSpanMode::kGeneral;
};

absl::StatusOr<BroadcastPlan> MakePlan(absl::Span<const int64_t> shape1,
                                       absl::Span<const int64_t> shape2) {
  BroadcastPlan plan;
  QFORGE_ASSIGN_OR_RETURN(plan.out_dims, BroadcastShapes(shape1, shape2));
  const size_t rank = plan.out_dims.size();
  auto strides_for = [&](absl::Span<const int64_t> shape) {
    std::vector<int64_t> aligned(rank, 1);
    std::copy(shape.begin(), shape.end(),
              aligned.begin() + (rank - shape.size()));
    std::vector<int64_t> strides(rank, 0);
    int64_t s = 1;
    for (size_t d = rank; d-- > 0;) {
      strides[d] = aligned[d] == 1 ? 0 : s;
      s *= aligned[d];
    }
    return strides;
  };
  plan.stride1 = strides_for(shape1);
  plan.stride2 = strides_for(shape2);
  for (int64_t d : plan.out_dims) plan.count *= d;
  plan.ort_mode = OrtSpanMode::kInput1Constant;  // one-element output
  for (size_t d = rank; d-- > 0;) {
    if (plan.out_dims[d] == 1) continue;
    if (plan.stride1[d] == 0) {
      plan.ort_mode = OrtSpanMode::kInput1Constant;
    } else if (plan.stride2[d] == 0) {
      plan.ort_mode = OrtSpanMode::kInput2Constant;
    } else {
      plan.ort_mode = OrtSpanMode::kGeneral;
    }
    break;
  }
  return plan;
}

// Calls fn(output_index, index1, index2) for every output element in
// row-major order.
template <typename Fn>
void ForEachBroadcast(const BroadcastPlan& plan, Fn&& fn) {
  const size_t rank = plan.out_dims.size();
  std::vector<int64_t> index(rank, 0);
  int64_t i1 = 0;
  int64_t i2 = 0;
  for (int64_t out = 0; out < plan.count; ++out) {
    fn(out, i1, i2);
    for (size_t d = rank; d-- > 0;) {
      ++index[d];
      i1 += plan.stride1[d];
      i2 += plan.stride2[d];
      if (index[d] < plan.out_dims[d]) break;
      i1 -= plan.stride1[d] * plan.out_dims[d];
      i2 -= plan.stride2[d] * plan.out_dims[d];
      index[d] = 0;
    }
  }
}

// tflite_reference Add/Sub parameters (add.cc / sub.cc Prepare).
struct TfliteAddParams {
  QuantizedMultiplier input1;
  QuantizedMultiplier input2;
  QuantizedMultiplier output;
};

absl::StatusOr<TfliteAddParams> PrepareTfliteAdd(const BinaryParams& p) {
  constexpr int kLeftShift = 20;
  const double twice_max_input_scale =
      2 * static_cast<double>(std::max(p.input1.scale, p.input2.scale));
  const double real_input1 =
      static_cast<double>(p.input1.scale) / twice_max_input_scale;
  const double real_input2 =
      static_cast<double>(p.input2.scale) / twice_max_input_scale;
  const double real_output =
      twice_max_input_scale / (static_cast<double>(1 << kLeftShift) *
                               static_cast<double>(p.output.scale));
  TfliteAddParams t;
  QFORGE_ASSIGN_OR_RETURN(t.input1,
                          QuantizeMultiplierSmallerThanOneExp(real_input1));
  QFORGE_ASSIGN_OR_RETURN(t.input2,
                          QuantizeMultiplierSmallerThanOneExp(real_input2));
  absl::StatusOr<QuantizedMultiplier> out =
      QuantizeMultiplierSmallerThanOneExp(real_output);
  if (!out.ok()) {
    return absl::OutOfRangeError(absl::StrCat(
        "the tflite_reference Add/Sub output multiplier 2*max(s1, s2) / "
        "(2^20 * s_out) = ",
        real_output, " must be < 1; the output scale ", p.output.scale,
        " is too small for the input scales"));
  }
  t.output = *out;
  return t;
}

int32_t TfliteAddSub(const TfliteAddParams& t, const BinaryParams& p, int32_t a,
                     int32_t b, bool subtract) {
  constexpr int kLeftShift = 20;
  const int32_t shifted1 = (a - p.input1.zero_point) * (1 << kLeftShift);
  const int32_t shifted2 = (b - p.input2.zero_point) * (1 << kLeftShift);
  const int32_t scaled1 = MultiplyByQuantizedMultiplierSmallerThanOneExp(
      shifted1, t.input1.multiplier, t.input1.shift);
  const int32_t scaled2 = MultiplyByQuantizedMultiplierSmallerThanOneExp(
      shifted2, t.input2.multiplier, t.input2.shift);
  const int32_t raw = subtract ? scaled1 - scaled2 : scaled1 + scaled2;
  const int64_t out =
      static_cast<int64_t>(MultiplyByQuantizedMultiplierSmallerThanOneExp(
          raw, t.output.multiplier, t.output.shift)) +
      p.output.zero_point;
  return ClampInt8(out);
}

// ORT QLinearAdd constants.
struct OrtAddParams {
  float ratio1;  // sA / sC
  float ratio2;  // sB / sC
  float fixed;   // zC - (ratio1 * zA + ratio2 * zB)
};

OrtAddParams PrepareOrtAdd(const BinaryParams& p) {
  OrtAddParams o;
  o.ratio1 = p.input1.scale / p.output.scale;
  o.ratio2 = p.input2.scale / p.output.scale;
  const float term1 = o.ratio1 * static_cast<float>(p.input1.zero_point);
  const float term2 = o.ratio2 * static_cast<float>(p.input2.zero_point);
  const float sum = term1 + term2;
  o.fixed = static_cast<float>(p.output.zero_point) - sum;
  return o;
}

int32_t OrtAdd(const OrtAddParams& o, OrtSpanMode mode, int32_t a, int32_t b) {
  const float fa = static_cast<float>(a);
  const float fb = static_cast<float>(b);
  float v;
  switch (mode) {
    case OrtSpanMode::kInput2Constant: {
      const float product = fb * o.ratio2;
      const float fixed = o.fixed + product;
      v = std::fmaf(fa, o.ratio1, fixed);
      break;
    }
    case OrtSpanMode::kInput1Constant: {
      const float product = fa * o.ratio1;
      const float fixed = o.fixed + product;
      v = std::fmaf(fb, o.ratio2, fixed);
      break;
    }
    case OrtSpanMode::kGeneral:
    default:
      v = std::fmaf(fa, o.ratio1, std::fmaf(fb, o.ratio2, o.fixed));
      break;
  }
  return ClampInt8(ConvertToInt32RoundHalfEvenX86(v));
}

int32_t OrtSub(const BinaryParams& p, int32_t a, int32_t b) {
  const float fa = DequantizeValue(a, p.input1.scale, p.input1.zero_point);
  const float fb = DequantizeValue(b, p.input2.scale, p.input2.zero_point);
  const float diff = fa - fb;
  return QuantizeValueOrt(diff, p.output.scale, p.output.zero_point, kInt8Min,
                          kInt8Max);
}

int32_t OrtMul(float ratio, const BinaryParams& p, int32_t a, int32_t b) {
  const int32_t product = (a - p.input1.zero_point) * (b - p.input2.zero_point);
  const float scaled = static_cast<float>(product) * ratio;
  const float v = scaled + static_cast<float>(p.output.zero_point);
  return ClampInt8(ConvertToInt32RoundHalfEvenX86(v));
}

absl::Status Binary(OpKind op, ArithmeticProfile profile, const BinaryParams& p,
                    absl::Span<const int64_t> shape1, const int8_t* input1,
                    absl::Span<const int64_t> shape2, const int8_t* input2,
                    int8_t* output) {
  const std::string name(OpName(op));
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(p.input1, name + " input1"));
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(p.input2, name + " input2"));
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(p.output, name + " output"));
  QFORGE_RETURN_IF_ERROR(ValidateActivationRange(p.activation));
  for (absl::Span<const int64_t> shape : {shape1, shape2}) {
    for (int64_t d : shape) {
      if (d < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ": negative dimension in [",
                         absl::StrJoin(shape, ", "), "]"));
      }
    }
  }
  QFORGE_ASSIGN_OR_RETURN(BroadcastPlan plan, MakePlan(shape1, shape2));
  if (plan.count == 0) return absl::OkStatus();
  if (input1 == nullptr || input2 == nullptr || output == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": null buffer"));
  }

  if (profile == ArithmeticProfile::kTfliteReference &&
      (op == OpKind::kAdd || op == OpKind::kSub)) {
    QFORGE_ASSIGN_OR_RETURN(TfliteAddParams t, PrepareTfliteAdd(p));
    const bool subtract = op == OpKind::kSub;
    ForEachBroadcast(plan, [&](int64_t o, int64_t i1, int64_t i2) {
      output[o] = static_cast<int8_t>(ClampToActivation(
          TfliteAddSub(t, p, input1[i1], input2[i2], subtract), p.activation));
    });
    return absl::OkStatus();
  }
  if (profile == ArithmeticProfile::kTfliteReference) {  // Mul
    const float float_product = p.input1.scale * p.input2.scale;
    const float float_ratio = float_product / p.output.scale;
    QFORGE_ASSIGN_OR_RETURN(
        QuantizedMultiplier m,
        QuantizeMultiplierChecked(static_cast<double>(float_ratio)));
    ForEachBroadcast(plan, [&](int64_t o, int64_t i1, int64_t i2) {
      const int32_t product = (input1[i1] - p.input1.zero_point) *
                              (input2[i2] - p.input2.zero_point);
      output[o] = static_cast<int8_t>(ClampToActivation(
          RequantizeTflite(product, m, p.output.zero_point), p.activation));
    });
    return absl::OkStatus();
  }
  // onnxruntime
  switch (op) {
    case OpKind::kAdd: {
      const OrtAddParams o = PrepareOrtAdd(p);
      ForEachBroadcast(plan, [&](int64_t out, int64_t i1, int64_t i2) {
        output[out] = static_cast<int8_t>(ClampToActivation(
            OrtAdd(o, plan.ort_mode, input1[i1], input2[i2]), p.activation));
      });
      break;
    }
    case OpKind::kSub:
      ForEachBroadcast(plan, [&](int64_t out, int64_t i1, int64_t i2) {
        output[out] = static_cast<int8_t>(
            ClampToActivation(OrtSub(p, input1[i1], input2[i2]), p.activation));
      });
      break;
    case OpKind::kMul: {
      const float product = p.input1.scale * p.input2.scale;
      const float ratio = product / p.output.scale;
      ForEachBroadcast(plan, [&](int64_t out, int64_t i1, int64_t i2) {
        output[out] = static_cast<int8_t>(ClampToActivation(
            OrtMul(ratio, p, input1[i1], input2[i2]), p.activation));
      });
      break;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> BroadcastShapes(
    absl::Span<const int64_t> shape1, absl::Span<const int64_t> shape2) {
  const size_t rank = std::max(shape1.size(), shape2.size());
  std::vector<int64_t> out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t d1 =
        i < rank - shape1.size() ? 1 : shape1[i - (rank - shape1.size())];
    const int64_t d2 =
        i < rank - shape2.size() ? 1 : shape2[i - (rank - shape2.size())];
    if (d1 != d2 && d1 != 1 && d2 != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shapes [", absl::StrJoin(shape1, ", "), "] and [",
          absl::StrJoin(shape2, ", "), "] do not broadcast (dimension ", i,
          ": ", d1, " vs ", d2, ")"));
    }
    out[i] = d1 == 1 ? d2 : d1;
  }
  int64_t count = 1;
  for (int64_t d : out) {
    if (d != 0 && count > (int64_t{1} << 62) / d) {
      return absl::InvalidArgumentError("broadcast shape overflows");
    }
    count *= d;
  }
  return out;
}

absl::Status Add(ArithmeticProfile profile, const BinaryParams& params,
                 absl::Span<const int64_t> shape1, const int8_t* input1,
                 absl::Span<const int64_t> shape2, const int8_t* input2,
                 int8_t* output) {
  return Binary(OpKind::kAdd, profile, params, shape1, input1, shape2, input2,
                output);
}

absl::Status Sub(ArithmeticProfile profile, const BinaryParams& params,
                 absl::Span<const int64_t> shape1, const int8_t* input1,
                 absl::Span<const int64_t> shape2, const int8_t* input2,
                 int8_t* output) {
  return Binary(OpKind::kSub, profile, params, shape1, input1, shape2, input2,
                output);
}

absl::Status Mul(ArithmeticProfile profile, const BinaryParams& params,
                 absl::Span<const int64_t> shape1, const int8_t* input1,
                 absl::Span<const int64_t> shape2, const int8_t* input2,
                 int8_t* output) {
  return Binary(OpKind::kMul, profile, params, shape1, input1, shape2, input2,
                output);
}

}  // namespace qforge::kernels::reference
