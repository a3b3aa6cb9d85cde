#include "kernels/int8/fast/elementwise_kernels.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/int8/reference/fixed_point.h"
#include "kernels/int8/reference/quantize.h"

#ifdef QFORGE_HAVE_AVX2_KERNELS
#include "kernels/int8/fast/avx2/avx2_elementwise.h"
#endif

namespace qforge::kernels::int8::fast {
namespace {

using reference::BinaryParams;
using reference::kInt8Max;
using reference::kInt8Min;

std::atomic<int64_t> g_simd_calls{0};

// Counts a SIMD call; returns true.
[[maybe_unused]] bool Counted() {
  g_simd_calls.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool CpuHasAvx2Fma() {
#ifdef QFORGE_HAVE_AVX2_KERNELS
  static const bool has =
      CpuHasIsa(Isa::kAvx2) && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

enum class BinaryOp { kAdd, kSub, kMul };

#ifdef QFORGE_HAVE_AVX2_KERNELS

// Output dims without the 1s, adjacent dims that broadcast alike merged;
// dims[0] is the innermost. stride = 0 where the input is broadcast.
struct MergedDim {
  int64_t size, stride1, stride2;
};

std::vector<MergedDim> MergeDims(absl::Span<const int64_t> out,
                                 absl::Span<const int64_t> shape1,
                                 absl::Span<const int64_t> shape2) {
  const size_t rank = out.size();
  auto strides_for = [&](absl::Span<const int64_t> shape) {
    std::vector<int64_t> strides(rank, 0);
    int64_t s = 1;
    for (size_t d = rank; d-- > 0;) {
      const size_t offset = rank - shape.size();
      const int64_t dim = d < offset ? 1 : shape[d - offset];
      strides[d] = dim == 1 ? 0 : s;
      s *= dim;
    }
    return strides;
  };
  const std::vector<int64_t> s1 = strides_for(shape1);
  const std::vector<int64_t> s2 = strides_for(shape2);
  std::vector<MergedDim> dims;
  for (size_t d = rank; d-- > 0;) {
    if (out[d] == 1) continue;
    const MergedDim next{out[d], s1[d], s2[d]};
    if (!dims.empty()) {
      MergedDim& cur = dims.back();
      auto merges = [](int64_t inner_stride, int64_t inner_size,
                       int64_t outer_stride) {
        if (inner_stride == 0 || outer_stride == 0) {
          return inner_stride == 0 && outer_stride == 0;
        }
        return outer_stride == inner_stride * inner_size;
      };
      if (merges(cur.stride1, cur.size, next.stride1) &&
          merges(cur.stride2, cur.size, next.stride2)) {
        cur.size *= next.size;
        continue;
      }
    }
    dims.push_back(next);
  }
  if (dims.empty()) dims.push_back({1, 0, 0});  // one-element output
  return dims;
}

// Calls span_fn(span) for every innermost span in row-major order.
template <typename SpanFn>
void ForEachSpan(const std::vector<MergedDim>& dims, const int8_t* in1,
                 const int8_t* in2, int8_t* out, SpanFn&& span_fn) {
  const MergedDim& inner = dims[0];
  std::vector<int64_t> index(dims.size(), 0);
  int64_t o1 = 0, o2 = 0;
  int64_t spans = 1;
  for (size_t d = 1; d < dims.size(); ++d) spans *= dims[d].size;
  for (int64_t s = 0; s < spans; ++s) {
    span_fn(avx2::BinarySpan{in1 + o1, inner.stride1 != 0 ? 1 : 0, in2 + o2,
                             inner.stride2 != 0 ? 1 : 0, inner.size,
                             out + s * inner.size});
    for (size_t d = 1; d < dims.size(); ++d) {
      o1 += dims[d].stride1;
      o2 += dims[d].stride2;
      if (++index[d] < dims[d].size) break;
      o1 -= dims[d].stride1 * dims[d].size;
      o2 -= dims[d].stride2 * dims[d].size;
      index[d] = 0;
    }
  }
}

// When the innermost span is short, both operands are contiguous in it, and
// one operand is the same vector for every span (stride 0 in every outer
// dim) while the other runs on contiguously through the next dim: replaces
// that vector by `tiled`, k copies of it, and merges k rows of the next dim
// into the span (k divides that dim). Same bytes, longer spans.
void TileShortVectorOperand(std::vector<MergedDim>& dims, const int8_t** in1,
                            const int8_t** in2, std::vector<int8_t>* tiled) {
  constexpr int64_t kTargetSpan = 1024;
  if (dims.size() < 2) return;
  MergedDim& inner = dims[0];
  MergedDim& next = dims[1];
  if (inner.size >= kTargetSpan / 2 || inner.stride1 == 0 ||
      inner.stride2 == 0) {
    return;
  }
  auto vector_operand = [&](bool second) {
    for (size_t d = 1; d < dims.size(); ++d) {
      if ((second ? dims[d].stride2 : dims[d].stride1) != 0) return false;
    }
    return (second ? next.stride1 : next.stride2) == inner.size;
  };
  const bool tile2 = vector_operand(true);
  const bool tile1 = !tile2 && vector_operand(false);
  if (!tile1 && !tile2) return;
  int64_t k = std::min(next.size, kTargetSpan / inner.size);
  while (k > 1 && next.size % k != 0) --k;
  if (k <= 1) return;
  const int8_t* vec = tile2 ? *in2 : *in1;
  tiled->resize(static_cast<size_t>(inner.size * k));
  for (int64_t r = 0; r < k; ++r) {
    std::memcpy(tiled->data() + r * inner.size, vec, inner.size);
  }
  if (tile2) {
    *in2 = tiled->data();
    next.stride1 *= k;
  } else {
    *in1 = tiled->data();
    next.stride2 *= k;
  }
  next.size /= k;
  inner.size *= k;
}

bool BinaryArgsValid(const BinaryParams& p, absl::Span<const int64_t> shape1,
                     const int8_t* input1, absl::Span<const int64_t> shape2,
                     const int8_t* input2, int8_t* output,
                     std::vector<int64_t>* out_dims, int64_t* count) {
  if (!reference::ValidateQuantParam(p.input1, "").ok() ||
      !reference::ValidateQuantParam(p.input2, "").ok() ||
      !reference::ValidateQuantParam(p.output, "").ok() ||
      !reference::ValidateActivationRange(p.activation).ok()) {
    return false;
  }
  for (absl::Span<const int64_t> shape : {shape1, shape2}) {
    for (int64_t d : shape) {
      if (d < 0) return false;
    }
  }
  absl::StatusOr<std::vector<int64_t>> dims =
      reference::BroadcastShapes(shape1, shape2);
  if (!dims.ok()) return false;
  *count = 1;
  for (int64_t d : *dims) *count *= d;
  if (*count > 0 &&
      (input1 == nullptr || input2 == nullptr || output == nullptr)) {
    return false;
  }
  *out_dims = *std::move(dims);
  return true;
}

// The SIMD path; false when it does not apply (then the caller runs the
// reference, which also reports any error).
bool BinaryAvx2(BinaryOp op, ArithmeticProfile profile, const BinaryParams& p,
                absl::Span<const int64_t> shape1, const int8_t* input1,
                absl::Span<const int64_t> shape2, const int8_t* input2,
                int8_t* output) {
  std::vector<int64_t> out_dims;
  int64_t count = 0;
  if (!BinaryArgsValid(p, shape1, input1, shape2, input2, output, &out_dims,
                       &count)) {
    return false;
  }
  if (count == 0) return Counted();
  const int32_t lo = std::max(p.activation.min, kInt8Min);
  const int32_t hi = std::min(p.activation.max, kInt8Max);
  std::vector<MergedDim> dims = MergeDims(out_dims, shape1, shape2);
  // A short vector operand repeated along the outer dims (per-channel NHWC
  // [N, H, W, C] + [C]): tile it so that each span covers many rows.
  std::vector<int8_t> tiled;
  const int8_t* in1 = input1;
  const int8_t* in2 = input2;
  TileShortVectorOperand(dims, &in1, &in2, &tiled);
  auto run = [&](auto&& span_fn) {
    ForEachSpan(dims, in1, in2, output, span_fn);
    return Counted();
  };
  if (profile == ArithmeticProfile::kOnnxRuntime) {
    switch (op) {
      case BinaryOp::kAdd: {
        const avx2::OrtAddArgs args = avx2::MakeOrtAddArgs(
            p.input1.scale, p.input1.zero_point, p.input2.scale,
            p.input2.zero_point, p.output.scale, p.output.zero_point, lo, hi);
        return run(
            [&](const avx2::BinarySpan& s) { avx2::OrtAddSpan(s, args); });
      }
      case BinaryOp::kSub: {
        const avx2::OrtSubArgs args{p.input1.scale,
                                    p.input2.scale,
                                    p.output.scale,
                                    p.input1.zero_point,
                                    p.input2.zero_point,
                                    p.output.zero_point,
                                    lo,
                                    hi};
        return run(
            [&](const avx2::BinarySpan& s) { avx2::OrtSubSpan(s, args); });
      }
      case BinaryOp::kMul: {
        const float product = p.input1.scale * p.input2.scale;
        const avx2::OrtMulArgs args{p.input1.zero_point,
                                    p.input2.zero_point,
                                    p.output.zero_point,
                                    product / p.output.scale,
                                    lo,
                                    hi};
        return run(
            [&](const avx2::BinarySpan& s) { avx2::OrtMulSpan(s, args); });
      }
    }
    return false;
  }
  // tflite_reference
  if (op == BinaryOp::kMul) {
    const float float_product = p.input1.scale * p.input2.scale;
    const float float_ratio = float_product / p.output.scale;
    absl::StatusOr<reference::QuantizedMultiplier> m =
        reference::QuantizeMultiplierChecked(static_cast<double>(float_ratio));
    if (!m.ok() || m->multiplier < 0 || m->shift < -31 || m->shift > 31) {
      return false;
    }
    const avx2::TfliteMulArgs args{p.input1.zero_point,
                                   p.input2.zero_point,
                                   p.output.zero_point,
                                   m->multiplier,
                                   m->shift,
                                   lo,
                                   hi};
    return run(
        [&](const avx2::BinarySpan& s) { avx2::TfliteMulSpan(s, args); });
  }
  // add.cc / sub.cc Prepare (reference::Add's PrepareTfliteAdd).
  const double twice_max =
      2 * static_cast<double>(std::max(p.input1.scale, p.input2.scale));
  absl::StatusOr<reference::QuantizedMultiplier> m1 =
      reference::QuantizeMultiplierSmallerThanOneExp(
          static_cast<double>(p.input1.scale) / twice_max);
  absl::StatusOr<reference::QuantizedMultiplier> m2 =
      reference::QuantizeMultiplierSmallerThanOneExp(
          static_cast<double>(p.input2.scale) / twice_max);
  absl::StatusOr<reference::QuantizedMultiplier> mo =
      reference::QuantizeMultiplierSmallerThanOneExp(
          twice_max /
          (static_cast<double>(1 << 20) * static_cast<double>(p.output.scale)));
  for (const auto* m : {&m1, &m2, &mo}) {
    if (!m->ok() || (*m)->multiplier < 0 || (*m)->shift > 0 ||
        (*m)->shift < -31) {
      return false;
    }
  }
  const avx2::TfliteAddArgs args{p.input1.zero_point,
                                 p.input2.zero_point,
                                 p.output.zero_point,
                                 m1->multiplier,
                                 m1->shift,
                                 m2->multiplier,
                                 m2->shift,
                                 mo->multiplier,
                                 mo->shift,
                                 op == BinaryOp::kSub,
                                 lo,
                                 hi};
  return run([&](const avx2::BinarySpan& s) { avx2::TfliteAddSpan(s, args); });
}

#endif  // QFORGE_HAVE_AVX2_KERNELS

}  // namespace

int64_t SimdCallsForTesting() {
  return g_simd_calls.load(std::memory_order_relaxed);
}

Isa ElementwiseIsa(Isa requested) {
  return requested >= Isa::kAvx2 && CpuHasAvx2Fma() ? Isa::kAvx2 : Isa::kScalar;
}

namespace {

// The AVX2 kernel of `op` when the ISA and the operands allow it, else its
// reference kernel `reference_op`.
absl::Status Binary(BinaryOp op, decltype(&reference::Add) reference_op,
                    Isa isa, ArithmeticProfile profile,
                    const reference::BinaryParams& params,
                    absl::Span<const int64_t> shape1, const int8_t* input1,
                    absl::Span<const int64_t> shape2, const int8_t* input2,
                    int8_t* output) {
#ifdef QFORGE_HAVE_AVX2_KERNELS
  if (ElementwiseIsa(isa) == Isa::kAvx2 &&
      BinaryAvx2(op, profile, params, shape1, input1, shape2, input2, output)) {
    return absl::OkStatus();
  }
#endif
  return reference_op(profile, params, shape1, input1, shape2, input2, output);
}

}  // namespace

absl::Status Add(Isa isa, ArithmeticProfile profile,
                 const reference::BinaryParams& params,
                 absl::Span<const int64_t> shape1, const int8_t* input1,
                 absl::Span<const int64_t> shape2, const int8_t* input2,
                 int8_t* output) {
  return Binary(BinaryOp::kAdd, &reference::Add, isa, profile, params, shape1,
                input1, shape2, input2, output);
}

absl::Status Sub(Isa isa, ArithmeticProfile profile,
                 const reference::BinaryParams& params,
                 absl::Span<const int64_t> shape1, const int8_t* input1,
                 absl::Span<const int64_t> shape2, const int8_t* input2,
                 int8_t* output) {
  return Binary(BinaryOp::kSub, &reference::Sub, isa, profile, params, shape1,
                input1, shape2, input2, output);
}

absl::Status Mul(Isa isa, ArithmeticProfile profile,
                 const reference::BinaryParams& params,
                 absl::Span<const int64_t> shape1, const int8_t* input1,
                 absl::Span<const int64_t> shape2, const int8_t* input2,
                 int8_t* output) {
  return Binary(BinaryOp::kMul, &reference::Mul, isa, profile, params, shape1,
                input1, shape2, input2, output);
}

absl::Status ApplyLut(Isa isa, const reference::Int8Lut& lut,
                      const int8_t* input, int64_t count, int8_t* output) {
#ifdef QFORGE_HAVE_AVX2_KERNELS
  if (ElementwiseIsa(isa) == Isa::kAvx2 && count > 0 && input != nullptr &&
      output != nullptr) {
    avx2::LookUp(lut.data(), input, count, output);
    Counted();
    return absl::OkStatus();
  }
#endif
  return reference::ApplyLut(lut, input, count, output);
}

absl::Status QuantizeLinear(Isa isa, ArithmeticProfile profile,
                            const float* input, int64_t count,
                            const reference::QuantParam& output_quant,
                            int8_t* output) {
#ifdef QFORGE_HAVE_AVX2_KERNELS
  if (ElementwiseIsa(isa) == Isa::kAvx2 && count > 0 && input != nullptr &&
      output != nullptr &&
      reference::ValidateQuantParam(output_quant, "").ok()) {
    if (profile == ArithmeticProfile::kOnnxRuntime) {
      avx2::QuantizeOrt(input, count, output_quant.scale,
                        output_quant.zero_point, output);
    } else {
      avx2::QuantizeTflite(input, count, output_quant.scale,
                           output_quant.zero_point, output);
    }
    Counted();
    return absl::OkStatus();
  }
#endif
  return reference::QuantizeLinear(profile, input, count, output_quant, output);
}

absl::Status DequantizeLinear(Isa isa, const int8_t* input, int64_t count,
                              const reference::QuantParam& input_quant,
                              float* output) {
#ifdef QFORGE_HAVE_AVX2_KERNELS
  if (ElementwiseIsa(isa) == Isa::kAvx2 && count > 0 && input != nullptr &&
      output != nullptr &&
      reference::ValidateQuantParam(input_quant, "").ok()) {
    avx2::Dequantize(input, count, input_quant.scale, input_quant.zero_point,
                     output);
    Counted();
    return absl::OkStatus();
  }
#endif
  return reference::DequantizeLinear(input, count, input_quant, output);
}

absl::Status Concat(Isa isa, ArithmeticProfile profile,
                    absl::Span<const reference::ConcatInput> inputs,
                    int64_t outer_size, int64_t inner_size,
                    const reference::QuantParam& output_quant, int8_t* output) {
  auto reference_concat = [&] {
    return reference::Concat(profile, inputs, outer_size, inner_size,
                             output_quant, output);
  };
  if (inputs.empty() || outer_size < 0 || inner_size < 0) {
    return reference_concat();
  }
  // Sizes and buffers the reference would reject go to the reference.
  int64_t total_axis = 0;
  for (const reference::ConcatInput& in : inputs) {
    int64_t block = 0, count = 0;
    if (in.axis_size < 0 ||
        __builtin_mul_overflow(in.axis_size, inner_size, &block) ||
        __builtin_mul_overflow(block, outer_size, &count) ||
        (count > 0 && in.data == nullptr) ||
        __builtin_add_overflow(total_axis, in.axis_size, &total_axis)) {
      return reference_concat();
    }
  }
  int64_t out_block = 0, out_count = 0;
  if (__builtin_mul_overflow(total_axis, inner_size, &out_block) ||
      __builtin_mul_overflow(out_block, outer_size, &out_count) ||
      (out_count > 0 && output == nullptr)) {
    return reference_concat();
  }
  // Per input: copy, or the reference's mapping tabulated by running the
  // reference Concat on the 256 int8 values (it also validates the params).
  std::vector<reference::Int8Lut> tables(inputs.size());
  std::vector<bool> copy(inputs.size());
  int8_t all_values[256];
  for (int v = 0; v < 256; ++v) all_values[v] = static_cast<int8_t>(v);
  if (!reference::ValidateQuantParam(output_quant, "").ok()) {
    return reference_concat();
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    copy[i] = inputs[i].quant == output_quant;
    if (copy[i]) continue;
    const reference::ConcatInput one{all_values, 256, inputs[i].quant};
    if (!reference::Concat(profile, {one}, 1, 1, output_quant, tables[i].data())
             .ok()) {
      return reference_concat();
    }
  }
  const Isa run_isa = ElementwiseIsa(isa);
  int8_t* out = output;
  for (int64_t o = 0; o < outer_size; ++o) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int64_t block = inputs[i].axis_size * inner_size;
      if (block == 0) continue;
      const int8_t* in = inputs[i].data + o * block;
      if (copy[i]) {
        std::memcpy(out, in, block);
      } else if (block < 64) {
        // Short blocks (e.g. a few channels of NHWC): a call's table setup
        // would cost more than the lookups.
        for (int64_t j = 0; j < block; ++j) {
          out[j] = reference::LookUp(tables[i], in[j]);
        }
      } else {
        // ApplyLut cannot fail here: block > 0 and both buffers are set.
        ApplyLut(run_isa, tables[i], in, block, out).IgnoreError();
      }
      out += block;
    }
  }
  if (run_isa != Isa::kScalar) Counted();
  return absl::OkStatus();
}

absl::Status Softmax(Isa isa, ArithmeticProfile profile,
                     const reference::SoftmaxParams& params,
                     const int8_t* input, int64_t rows, int64_t depth,
                     int8_t* output) {
  auto reference_softmax = [&] {
    return reference::Softmax(profile, params, input, rows, depth, output);
  };
#ifdef QFORGE_HAVE_AVX2_KERNELS
  int64_t count = 0;
  if (ElementwiseIsa(isa) != Isa::kAvx2 || rows <= 0 || depth <= 0 ||
      __builtin_mul_overflow(rows, depth, &count) || input == nullptr ||
      output == nullptr || !std::isfinite(params.input_scale) ||
      !(params.input_scale > 0.0f) || !std::isfinite(params.beta) ||
      !(params.beta > 0.0f)) {
    return reference_softmax();
  }
  if (profile == ArithmeticProfile::kOnnxRuntime) {
    if (params.beta != 1.0f) return reference_softmax();
    const std::array<float, 256> table =
        reference::SoftmaxOrtTable(params.input_scale, depth);
    for (int64_t r = 0; r < rows; ++r) {
      avx2::SoftmaxOrtRow(table.data(), input + r * depth, depth,
                          output + r * depth);
    }
    Counted();
    return absl::OkStatus();
  }
  // tflite_reference (reference::Softmax's SoftmaxTflite).
  constexpr int kScaledDiffIntegerBits = 5;
  constexpr int kAccumulationIntegerBits = 12;
  absl::StatusOr<reference::QuantizedMultiplier> scaling =
      reference::PreprocessSoftmaxScaling(
          static_cast<double>(params.beta),
          static_cast<double>(params.input_scale), kScaledDiffIntegerBits);
  if (!scaling.ok()) return reference_softmax();
  const int diff_min =
      static_cast<int>(-1.0 * reference::CalculateInputRadius(
                                  kScaledDiffIntegerBits, scaling->shift));
  // exp_table[255 + d], d = x - max in [-255, 0].
  std::array<int32_t, 256> exp_table;
  for (int32_t d = -255; d <= 0; ++d) {
    exp_table[255 + d] =
        d >= diff_min
            ? reference::ExpOnNegativeValues(
                  reference::MultiplyByQuantizedMultiplierGreaterThanOne(
                      d, scaling->multiplier, scaling->shift),
                  kScaledDiffIntegerBits)
            : 0;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* x = input + r * depth;
    const int32_t max = avx2::MaxInt8(x, depth);
    const int32_t sum = avx2::SoftmaxTfliteSum(exp_table.data(), x, depth, max);
    if (sum <= 0) return reference_softmax();  // the reference's error
    int num_bits_over_unit = 0;
    const int32_t shifted_scale = reference::GetReciprocal(
        sum, kAccumulationIntegerBits, &num_bits_over_unit);
    const int exponent = num_bits_over_unit + 31 - 8;
    if (exponent < 0 || exponent > 31) return reference_softmax();
    avx2::SoftmaxTfliteOutputs(exp_table.data(), x, depth, max, shifted_scale,
                               exponent, output + r * depth);
  }
  Counted();
  return absl::OkStatus();
#else
  return reference_softmax();
#endif
}

}  // namespace qforge::kernels::int8::fast
