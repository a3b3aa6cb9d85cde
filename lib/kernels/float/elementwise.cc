// Float kernels of elementwise ops, activations, Softmax, Identity and Cast.
//
// Numeric contracts:
// - float16 elements are computed in float and rounded back to nearest even.
// - Integer Add/Sub/Mul wrap around (two's complement); integer Div truncates
//   towards zero, fails on a zero divisor, and INT_MIN / -1 wraps to INT_MIN.
// - Pow with an integer base and a non-negative integer exponent is exact
//   (wrapping on overflow); otherwise it is computed in float/double and
//   converted back to the base type like Cast (truncated, saturated).
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/schemas/cast_target.h"
#include "kernels/float/broadcast.h"
#include "kernels/float/dtype_dispatch.h"
#include "kernels/float/gelu.h"
#include "kernels/float/groups.h"
#include "kernels/float/kernel_util.h"
#include "qforge/core/status.h"

namespace qforge::kernels {
namespace {

// --- binary arithmetic -------------------------------------------------------

// Integers compute in an unsigned type at least as wide as `unsigned`, so
// that overflow wraps instead of being undefined (and small types do not
// promote to signed int).
template <typename T>
using WrapType = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned,
                                    std::make_unsigned_t<T>>;

// Applies `op` to a and b in T's arithmetic type: float for Half, a wrapping
// unsigned type for integers, T itself for float and double.
template <typename T, typename Op>
inline T Arith(T a, T b, Op op) {
  if constexpr (std::is_same_v<T, Half>) {
    return Store<Half>(op(Load(a), Load(b)));
  } else if constexpr (kIsInt<T>) {
    return static_cast<T>(
        op(static_cast<WrapType<T>>(a), static_cast<WrapType<T>>(b)));
  } else {
    return op(a, b);
  }
}

struct AddOp {
  template <typename T>
  T operator()(T a, T b) const {
    return Arith(a, b, [](auto x, auto y) { return x + y; });
  }
};
struct SubOp {
  template <typename T>
  T operator()(T a, T b) const {
    return Arith(a, b, [](auto x, auto y) { return x - y; });
  }
};
struct MulOp {
  template <typename T>
  T operator()(T a, T b) const {
    return Arith(a, b, [](auto x, auto y) { return x * y; });
  }
};
// Integer divisors are checked for zero before this runs.
struct DivOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (kIsInt<T>) {
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) {  // -INT_MIN overflows: negate in the wrapping type.
          return static_cast<T>(WrapType<T>{0} - static_cast<WrapType<T>>(a));
        }
      }
      return static_cast<T>(a / b);
    } else {
      return Arith(a, b, [](auto x, auto y) { return x / y; });
    }
  }
};

// out = a <op> b with numpy broadcasting; both inputs of type T.
template <typename T, typename Op>
absl::Status BinaryKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* a, Input(ctx, 0, DataTypeOf<T>()));
  QFORGE_ASSIGN_OR_RETURN(const Tensor* b, Input(ctx, 1, DataTypeOf<T>()));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  absl::StatusOr<std::vector<int64_t>> dims =
      BroadcastDims(a->dims(), b->dims());
  if (!dims.ok()) return ctx.Error(dims.status().message());
  if constexpr (std::is_same_v<Op, DivOp> && kIsInt<T>) {
    const T* pb = b->data<T>();
    for (int64_t i = 0; i < b->num_elements(); ++i) {
      if (pb[i] == 0) {
        return ctx.Error(absl::StrCat("integer division by zero: element ", i,
                                      " of the divisor '",
                                      ctx.node().input(1)->name(), "' is 0"));
      }
    }
  }
  // BroadcastBinary writes every element: no zero-fill needed.
  out->ResetUninitialized(DataTypeOf<T>(), *std::move(dims));
  BroadcastBinary(a->data<T>(), a->dims(), b->data<T>(), b->dims(),
                  out->data<T>(), out->dims(), Op{});
  return absl::OkStatus();
}

// --- Pow ---------------------------------------------------------------------

// base ^ exponent for an integer base and exponent; see the file comment.
template <typename T, typename E>
T IntPow(T base, E exponent) {
  if (exponent < 0) {
    return SaturatingFloatToInt<T>(
        std::pow(static_cast<double>(base), static_cast<double>(exponent)));
  }
  using W = WrapType<T>;
  W result = 1;
  W b = static_cast<W>(base);
  // Square-and-multiply over the exponent's bits.
  for (auto e = static_cast<std::make_unsigned_t<E>>(exponent); e != 0;
       e >>= 1) {
    if (e & 1) result = static_cast<W>(result * b);
    b = static_cast<W>(b * b);
  }
  return static_cast<T>(result);
}

template <typename T, typename E>
T PowValue(T base, E exponent) {
  if constexpr (kIsInt<T> && kIsInt<E>) {
    return IntPow(base, exponent);
  } else if constexpr (kIsInt<T>) {
    return SaturatingFloatToInt<T>(std::pow(
        static_cast<double>(base), static_cast<double>(Load(exponent))));
  } else {
    using C = ComputeType<T>;
    return Store<T>(std::pow(Load(base), static_cast<C>(Load(exponent))));
  }
}

// Pow: the base's type T decides the output type; the exponent may have any
// numeric type.
template <typename T>
absl::Status PowKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0, DataTypeOf<T>()));
  QFORGE_ASSIGN_OR_RETURN(const Tensor* y, Input(ctx, 1));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  absl::StatusOr<std::vector<int64_t>> dims =
      BroadcastDims(x->dims(), y->dims());
  if (!dims.ok()) return ctx.Error(dims.status().message());
  out->Reset(DataTypeOf<T>(), *std::move(dims));
  absl::Status status = VisitDtype(y->dtype(), [&]<typename E>(TypeTag<E>) {
    if constexpr (std::is_same_v<E, bool>) {
      return ctx.Error("the exponent of Pow must be numeric, got bool");
    } else {
      BroadcastBinary(x->data<T>(), x->dims(), y->data<E>(), y->dims(),
                      out->data<T>(), out->dims(),
                      [](T b, E e) { return PowValue(b, e); });
      return absl::OkStatus();
    }
  });
  if (!status.ok() && status.code() == absl::StatusCode::kUnimplemented) {
    return ctx.Error(status.message());
  }
  return status;
}

// --- unary maps --------------------------------------------------------------

// po[i] = f(px[i]). The buffers are distinct (an output never aliases an
// input; `__restrict` tells the compiler). Blocks of a fixed 8 elements let
// g++ -O2 (whose "very cheap" vectorizer cost model skips loops of unknown
// trip count) vectorize simple maps such as Clip and Relu with baseline
// SSE2; the map is element-wise, so the results are unchanged.
template <typename T, typename F>
void MapElements(const T* __restrict px, T* __restrict po, int64_t n, F f) {
  auto one = [&f](T v) {
    return Store<T>(static_cast<ComputeType<T>>(f(Load(v))));
  };
  constexpr int64_t kBlock = 8;
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (int64_t j = 0; j < kBlock; ++j) po[i + j] = one(px[i + j]);
  }
  for (; i < n; ++i) po[i] = one(px[i]);
}

// out[i] = f(x[i]) with f working on ComputeType<T>.
template <typename T, typename F>
absl::Status UnaryMap(KernelContext& ctx, F f) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0, DataTypeOf<T>()));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  // Every element is written below: no zero-fill needed.
  out->ResetUninitialized(DataTypeOf<T>(), x->dims());
  MapElements(x->data<T>(), out->data<T>(), x->num_elements(), f);
  return absl::OkStatus();
}

// A kernel for a unary map without attributes: Unary<T>(f).
template <typename T, typename F>
KernelFactory Unary(F f) {
  return StatelessKernel(
      [f](KernelContext& ctx) { return UnaryMap<T>(ctx, f); });
}

template <typename C>
C Sigmoid(C v) {
  if (v >= 0) return C{1} / (C{1} + std::exp(-v));
  const C e = std::exp(v);  // Avoids exp overflow for large negative v.
  return e / (C{1} + e);
}

struct LeakyReluFn {
  float alpha;
  template <typename C>
  C operator()(C v) const {
    return v >= C{0} ? v : static_cast<C>(v * alpha);
  }
};

struct HardSigmoidFn {
  float alpha;
  float beta;
  template <typename C>
  C operator()(C v) const {
    return std::max(C{0}, std::min(C{1}, static_cast<C>(alpha * v + beta)));
  }
};

struct GeluFn {
  bool tanh_approximation;
  template <typename C>
  C operator()(C v) const {
    return Gelu(v, tanh_approximation);
  }
};

// A kernel whose map is built from attributes read once at creation:
// `build(node)` returns StatusOr<map functor>.
template <typename T, typename Build>
KernelFactory UnaryWithAttributes(Build build) {
  return [build](const KernelInitContext& init)
             -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    QFORGE_ASSIGN_OR_RETURN(auto f, build(init.node));
    return std::make_unique<FunctionKernel>(
        [f](KernelContext& ctx) { return UnaryMap<T>(ctx, f); });
  };
}

// --- Clip --------------------------------------------------------------------

// The bound from input `i` (opset 11+) or attribute `attr` (opset 6), else
// `fallback`.
template <typename T>
absl::StatusOr<ComputeType<T>> ClipBound(const KernelContext& ctx, int i,
                                         const char* attr,
                                         ComputeType<T> fallback) {
  if (const Tensor* t = ctx.input(i); t != nullptr) {
    if (t->dtype() != DataTypeOf<T>()) {
      return ctx.Error(absl::StrCat("input ", i, " (", attr, ") is ",
                                    DataTypeName(t->dtype()), ", expected ",
                                    DataTypeName(DataTypeOf<T>())));
    }
    if (t->num_elements() != 1) {
      return ctx.Error(absl::StrCat("input ", i, " (", attr,
                                    ") must be a scalar, got shape ",
                                    DimsToString(t->dims())));
    }
    return Load(t->data<T>()[0]);
  }
  if (ctx.node().HasAttribute(attr)) {
    QFORGE_ASSIGN_OR_RETURN(float v, ctx.node().GetFloat(attr, 0.0f));
    return Load(CastValue<T>(v));
  }
  return fallback;
}

template <typename T>
absl::Status ClipKernel(KernelContext& ctx) {
  using C = ComputeType<T>;
  constexpr C kLowest = std::numeric_limits<C>::has_infinity
                            ? -std::numeric_limits<C>::infinity()
                            : std::numeric_limits<C>::lowest();
  constexpr C kHighest = std::numeric_limits<C>::has_infinity
                             ? std::numeric_limits<C>::infinity()
                             : std::numeric_limits<C>::max();
  QFORGE_ASSIGN_OR_RETURN(C lo, ClipBound<T>(ctx, 1, "min", kLowest));
  QFORGE_ASSIGN_OR_RETURN(C hi, ClipBound<T>(ctx, 2, "max", kHighest));
  // min > max gives max everywhere, as ONNX specifies.
  return UnaryMap<T>(ctx,
                     [lo, hi](C v) { return std::min(std::max(v, lo), hi); });
}

// --- Softmax -----------------------------------------------------------------

// Softmax over blocks of `n` x `inner` elements: normalizes x[k * inner + j]
// over k for each j.
template <typename T>
void SoftmaxBlocks(const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  using C = ComputeType<T>;
  std::vector<C> e(n * inner), max(inner), sum(inner);
  for (int64_t o = 0; o < outer; ++o) {
    const T* xb = x + o * n * inner;
    T* yb = y + o * n * inner;
    std::fill(max.begin(), max.end(), -std::numeric_limits<C>::infinity());
    std::fill(sum.begin(), sum.end(), C{0});
    for (int64_t k = 0; k < n; ++k) {
      for (int64_t j = 0; j < inner; ++j) {
        max[j] = std::max(max[j], static_cast<C>(Load(xb[k * inner + j])));
      }
    }
    for (int64_t k = 0; k < n; ++k) {
      for (int64_t j = 0; j < inner; ++j) {
        const C v = std::exp(static_cast<C>(Load(xb[k * inner + j])) - max[j]);
        e[k * inner + j] = v;
        sum[j] += v;
      }
    }
    for (int64_t k = 0; k < n; ++k) {
      for (int64_t j = 0; j < inner; ++j) {
        yb[k * inner + j] = Store<T>(e[k * inner + j] / sum[j]);
      }
    }
  }
}

// Softmax; `legacy` selects the semantics before opset 13 (see the schema).
template <typename T>
class SoftmaxKernel final : public OpKernel {
 public:
  SoftmaxKernel(bool legacy, int64_t axis) : legacy_(legacy), axis_(axis) {}

  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(
      const KernelInitContext& init) {
    const bool legacy = init.opset > 0 && init.opset < 13;
    QFORGE_ASSIGN_OR_RETURN(int64_t axis,
                            init.node.GetInt("axis", legacy ? 1 : -1));
    return std::make_unique<SoftmaxKernel>(legacy, axis);
  }

  absl::Status Run(KernelContext& ctx) const override {
    QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0, DataTypeOf<T>()));
    Tensor* out = ctx.output(0);
    if (out == nullptr) return absl::OkStatus();
    if (x->rank() == 0)
      return ctx.Error("input must have rank >= 1, got a scalar");
    QFORGE_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, axis_, x->rank()));
    out->Reset(DataTypeOf<T>(), x->dims());
    if (x->empty()) return absl::OkStatus();
    const int64_t outer = Product(x->dims(), 0, axis);
    const int64_t n = legacy_ ? x->num_elements() / outer : x->dim(axis);
    const int64_t inner = legacy_ ? 1 : Product(x->dims(), axis + 1, x->rank());
    SoftmaxBlocks(x->data<T>(), out->data<T>(), outer, n, inner);
    return absl::OkStatus();
  }

 private:
  bool legacy_;
  int64_t axis_;
};

// --- Identity and Cast -------------------------------------------------------

absl::Status IdentityKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0));
  if (Tensor* out = ctx.output(0); out != nullptr) *out = *x;
  return absl::OkStatus();
}

template <typename From>
KernelFactory CastFactory() {
  return [](const KernelInitContext& init)
             -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    QFORGE_ASSIGN_OR_RETURN(DataType to, internal::CastTargetType(init.node));
    return std::make_unique<FunctionKernel>([to](KernelContext& ctx) {
      QFORGE_ASSIGN_OR_RETURN(const Tensor* x,
                              Input(ctx, 0, DataTypeOf<From>()));
      Tensor* out = ctx.output(0);
      if (out == nullptr) return absl::OkStatus();
      out->Reset(to, x->dims());
      return VisitDtype(to, [&]<typename To>(TypeTag<To>) {
        const From* px = x->data<From>();
        To* po = out->data<To>();
        for (int64_t i = 0; i < x->num_elements(); ++i) {
          po[i] = CastValue<To>(px[i]);
        }
        return absl::OkStatus();
      });
    });
  };
}

}  // namespace

absl::Status RegisterElementwiseFloatKernels(KernelTable& table) {
  auto binary = [&](const char* op, auto op_tag) {
    using Op = decltype(op_tag);
    return RegisterEach(table, op, NumericTypes{}, [](auto tag) {
      return StatelessKernel(&BinaryKernel<typename decltype(tag)::type, Op>);
    });
  };
  QFORGE_RETURN_IF_ERROR(binary("Add", AddOp{}));
  QFORGE_RETURN_IF_ERROR(binary("Sub", SubOp{}));
  QFORGE_RETURN_IF_ERROR(binary("Mul", MulOp{}));
  QFORGE_RETURN_IF_ERROR(binary("Div", DivOp{}));
  QFORGE_RETURN_IF_ERROR(RegisterEach(
      table, "Pow", TypeList<float, double, Half, int32_t, int64_t>{},
      [](auto tag) {
        return StatelessKernel(&PowKernel<typename decltype(tag)::type>);
      }));

  // Unary maps without attributes. Each lambda sees ComputeType<T> values.
  auto unary = [&](const char* op, auto types, auto f) {
    return RegisterEach(table, op, types, [f](auto tag) {
      return Unary<typename decltype(tag)::type>(f);
    });
  };
  QFORGE_RETURN_IF_ERROR(
      unary("Exp", FloatTypes{}, [](auto v) { return std::exp(v); }));
  QFORGE_RETURN_IF_ERROR(
      unary("Sqrt", FloatTypes{}, [](auto v) { return std::sqrt(v); }));
  QFORGE_RETURN_IF_ERROR(
      unary("Erf", NumericTypes{}, [](auto v) { return std::erf(v); }));
  QFORGE_RETURN_IF_ERROR(
      unary("Tanh", FloatTypes{}, [](auto v) { return std::tanh(v); }));
  QFORGE_RETURN_IF_ERROR(
      unary("Sigmoid", FloatTypes{}, [](auto v) { return Sigmoid(v); }));
  QFORGE_RETURN_IF_ERROR(
      unary("Relu",
            TypeList<float, double, Half, int8_t, int16_t, int32_t, int64_t>{},
            [](auto v) { return std::max(v, decltype(v){0}); }));
  QFORGE_RETURN_IF_ERROR(unary("HardSwish", FloatTypes{}, [](auto v) {
    using C = decltype(v);
    return v * std::max(C{0}, std::min(C{1}, v / C{6} + C{0.5}));
  }));

  // Unary maps with float attributes, read once when the kernel is created.
  QFORGE_RETURN_IF_ERROR(
      RegisterEach(table, "LeakyRelu", FloatTypes{}, [](auto tag) {
        return UnaryWithAttributes<typename decltype(tag)::type>(
            [](const Node& node) -> absl::StatusOr<LeakyReluFn> {
              QFORGE_ASSIGN_OR_RETURN(float alpha,
                                      node.GetFloat("alpha", 0.01f));
              return LeakyReluFn{alpha};
            });
      }));
  QFORGE_RETURN_IF_ERROR(
      RegisterEach(table, "HardSigmoid", FloatTypes{}, [](auto tag) {
        return UnaryWithAttributes<typename decltype(tag)::type>(
            [](const Node& node) -> absl::StatusOr<HardSigmoidFn> {
              QFORGE_ASSIGN_OR_RETURN(float alpha,
                                      node.GetFloat("alpha", 0.2f));
              QFORGE_ASSIGN_OR_RETURN(float beta, node.GetFloat("beta", 0.5f));
              return HardSigmoidFn{alpha, beta};
            });
      }));

  QFORGE_RETURN_IF_ERROR(
      RegisterEach(table, "Gelu", FloatTypes{}, [](auto tag) {
        return UnaryWithAttributes<typename decltype(tag)::type>(
            [](const Node& node) -> absl::StatusOr<GeluFn> {
              QFORGE_ASSIGN_OR_RETURN(std::string approximate,
                                      node.GetString("approximate", "none"));
              if (approximate != "none" && approximate != "tanh") {
                return absl::InvalidArgumentError(
                    absl::StrCat(node.Describe(),
                                 ": attribute approximate must be 'none' or "
                                 "'tanh', got '",
                                 approximate, "'"));
              }
              return GeluFn{approximate == "tanh"};
            });
      }));
  QFORGE_RETURN_IF_ERROR(
      RegisterEach(table, "Clip", NumericTypes{}, [](auto tag) {
        return StatelessKernel(&ClipKernel<typename decltype(tag)::type>);
      }));
  QFORGE_RETURN_IF_ERROR(
      RegisterEach(table, "Softmax", FloatTypes{}, [](auto tag) {
        return KernelFactory(
            &SoftmaxKernel<typename decltype(tag)::type>::Create);
      }));
  QFORGE_RETURN_IF_ERROR(table.Register({{"", "Identity"},
                                         DataType::kUndefined,
                                         StatelessKernel(IdentityKernel)}));
  QFORGE_RETURN_IF_ERROR(RegisterEach(table, "Cast", AllTypes{}, [](auto tag) {
    return CastFactory<typename decltype(tag)::type>();
  }));
  return absl::OkStatus();
}

}  // namespace qforge::kernels
