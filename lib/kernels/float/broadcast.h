// Numpy-style multidirectional broadcasting for elementwise kernels.
//
// BroadcastDims computes the output dims of two broadcast operands.
// BroadcastBinary applies a functor element by element over two operands of
// possibly different shapes (and element types), writing a contiguous output:
//
//   QFORGE_ASSIGN_OR_RETURN(auto dims, BroadcastDims(a.dims(), b.dims()));
//   out.Reset(dtype, dims);
//   BroadcastBinary(a.data<float>(), a.dims(), b.data<float>(), b.dims(),
//                   out.data<float>(), dims,
//                   [](float x, float y) { return x + y; });
//
// Equal shapes and scalar operands take a flat loop. Otherwise the dims are
// coalesced (adjacent dims that broadcast the same way merge) so that the
// innermost loop is as long as possible and each operand's innermost stride
// is 0 or 1.
#ifndef QFORGE_LIB_KERNELS_FLOAT_BROADCAST_H_
#define QFORGE_LIB_KERNELS_FLOAT_BROADCAST_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "qforge/core/shape.h"

namespace qforge::kernels {

// The broadcast of `a` and `b`, or InvalidArgument naming both shapes and
// the dimension that does not match.
absl::StatusOr<std::vector<int64_t>> BroadcastDims(
    const std::vector<int64_t>& a, const std::vector<int64_t>& b);

// Iteration plan over an output of broadcast operands: coalesced output
// dims and each operand's element stride per dim (0 where it broadcasts).
struct BroadcastPlan {
  std::vector<int64_t> dims;
  std::vector<int64_t> stride_a;
  std::vector<int64_t> stride_b;
};

// `a` and `b` must broadcast to `out` (as BroadcastDims checked); `out` must
// have at least one element.
BroadcastPlan PlanBroadcast(const std::vector<int64_t>& a,
                            const std::vector<int64_t>& b,
                            const std::vector<int64_t>& out);

// out[i] = op(a[ia], b[ib]) for every output element i, where ia and ib are
// the broadcast positions. `out_dims` must be BroadcastDims(a_dims, b_dims).
template <typename TA, typename TB, typename TO, typename Op>
void BroadcastBinary(const TA* a, const std::vector<int64_t>& a_dims,
                     const TB* b, const std::vector<int64_t>& b_dims, TO* out,
                     const std::vector<int64_t>& out_dims, Op op) {
  const int64_t n = NumElements(out_dims);
  if (n == 0) return;
  const int64_t na = NumElements(a_dims);
  const int64_t nb = NumElements(b_dims);
  if (na == n && nb == n) {  // Same element order (equal up to leading 1s).
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], b[i]);
    return;
  }
  if (na == 1 && nb == n) {
    const TA av = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = op(av, b[i]);
    return;
  }
  if (nb == 1 && na == n) {
    const TB bv = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], bv);
    return;
  }
  const BroadcastPlan plan = PlanBroadcast(a_dims, b_dims, out_dims);
  const int rank = static_cast<int>(plan.dims.size());
  const int64_t inner = plan.dims[rank - 1];
  const int64_t sa = plan.stride_a[rank - 1];
  const int64_t sb = plan.stride_b[rank - 1];
  std::vector<int64_t> index(rank, 0);
  int64_t oa = 0, ob = 0;
  for (int64_t base = 0; base < n; base += inner) {
    const TA* pa = a + oa;
    const TB* pb = b + ob;
    TO* po = out + base;
    if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < inner; ++i) po[i] = op(pa[i], pb[i]);
    } else if (sa == 0) {
      const TA av = *pa;
      for (int64_t i = 0; i < inner; ++i) po[i] = op(av, pb[i]);
    } else {
      const TB bv = *pb;
      for (int64_t i = 0; i < inner; ++i) po[i] = op(pa[i], bv);
    }
    // Advance the outer index (dims 0..rank-2) like an odometer.
    for (int d = rank - 2; d >= 0; --d) {
      oa += plan.stride_a[d];
      ob += plan.stride_b[d];
      if (++index[d] < plan.dims[d]) break;
      oa -= plan.stride_a[d] * plan.dims[d];
      ob -= plan.stride_b[d] * plan.dims[d];
      index[d] = 0;
    }
  }
}

}  // namespace qforge::kernels

#endif  // QFORGE_LIB_KERNELS_FLOAT_BROADCAST_H_
