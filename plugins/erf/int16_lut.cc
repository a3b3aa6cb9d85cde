#include "erf/int16_lut.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "kernels/float/gelu.h"

namespace qforge::plugins::erf {
namespace {

constexpr int32_t kInt16Min = -32768;
constexpr int32_t kInt16Max = 32767;

absl::Status Validate(const Int16QuantParam& q, const char* what) {
  if (!std::isfinite(q.scale) || !(q.scale > 0.0f)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "int16 table ", what, " scale must be finite and > 0, got ", q.scale));
  }
  if (q.zero_point < kInt16Min || q.zero_point > kInt16Max) {
    return absl::InvalidArgumentError(
        absl::StrCat("int16 table ", what, " zero point ", q.zero_point,
                     " is outside [-32768, 32767]"));
  }
  return absl::OkStatus();
}

constexpr double kKnotLimit = 1073741824.0;  // 2^30

int32_t ClampKnot(double v) {
  if (std::isnan(v)) return 0;
  if (v < -kKnotLimit) return static_cast<int32_t>(-kKnotLimit);
  if (v > kKnotLimit) return static_cast<int32_t>(kKnotLimit);
  return static_cast<int32_t>(v);
}

}  // namespace

absl::StatusOr<Int16Lut> BuildInt16Lut(const Int16QuantParam& input,
                                       const Int16QuantParam& output,
                                       absl::FunctionRef<double(double)> fn) {
  if (absl::Status s = Validate(input, "input"); !s.ok()) return s;
  if (absl::Status s = Validate(output, "output"); !s.ok()) return s;
  const double sx = input.scale;
  const double sy = output.scale;
  // v(q): the exact output in (unrounded) output units.
  auto v = [&](double q) {
    return fn(sx * (q - input.zero_point)) / sy + output.zero_point;
  };
  Int16Lut lut;
  for (int k = 0; k <= 512; ++k) {
    const double q = kInt16Min + 128.0 * k;
    double value = v(q);
    if (k < 512) {
      const double midpoint_error = (value + v(q + 128.0)) / 2.0 - v(q + 64.0);
      value -= midpoint_error / 2.0;
    }
    lut[k] = ClampKnot(std::round(value));
  }
  return lut;
}

absl::StatusOr<Int16Lut> BuildErfInt16Lut(const Int16QuantParam& input,
                                          const Int16QuantParam& output) {
  return BuildInt16Lut(input, output,
                       [](double x) -> double { return std::erf(x); });
}

absl::StatusOr<Int16Lut> BuildGeluInt16Lut(const Int16QuantParam& input,
                                           const Int16QuantParam& output,
                                           bool tanh_approximation) {
  return BuildInt16Lut(input, output, [tanh_approximation](double x) -> double {
    return kernels::Gelu(x, tanh_approximation);
  });
}

int16_t LookUpInt16(const Int16Lut& lut, int16_t q) {
  const int32_t u = static_cast<int32_t>(q) - kInt16Min;  // 0..65535
  const int32_t segment = u >> 7;
  const int32_t offset = u & 127;
  const int64_t base = lut[segment];
  const int64_t slope = static_cast<int64_t>(lut[segment + 1]) - base;
  // floor((slope * offset + 64) / 128); >> on a negative int64 is an
  // arithmetic shift in C++20.
  const int64_t delta = (slope * offset + 64) >> 7;
  int64_t y = base + delta;
  if (y < kInt16Min) y = kInt16Min;
  if (y > kInt16Max) y = kInt16Max;
  return static_cast<int16_t>(y);
}

absl::Status ApplyInt16Lut(const Int16Lut& lut, const int16_t* input,
                           int64_t count, int16_t* output) {
  if (count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ApplyInt16Lut: element count must be >= 0, got ", count));
  }
  if (count > 0 && (input == nullptr || output == nullptr)) {
    return absl::InvalidArgumentError("ApplyInt16Lut: null buffer");
  }
  for (int64_t i = 0; i < count; ++i) output[i] = LookUpInt16(lut, input[i]);
  return absl::OkStatus();
}

}  // namespace qforge::plugins::erf
