#include "ir/tensor_transpose.h"

#include <cstring>
#include <vector>

namespace qforge::internal {

// QuantParams of a tensor transposed with `p` (out dim i = in dim p[i]): a
// per-axis axis moves to where its dim went; per-tensor params stay.
std::optional<QuantParams> PermuteQuant(const std::optional<QuantParams>& q,
                                        absl::Span<const int> p) {
  if (!q.has_value() || !q->per_axis()) return q;
  QuantParams out = *q;
  for (int i = 0; i < static_cast<int>(p.size()); ++i) {
    if (p[i] == q->axis) out.axis = i;
  }
  return out;
}

// out dim i = in dim p[i]; any element type with a fixed size.
Tensor TransposeTensor(const Tensor& t, absl::Span<const int> p) {
  const int r = t.rank();
  std::vector<int64_t> out_dims(r);
  for (int i = 0; i < r; ++i) out_dims[i] = t.dim(p[i]);
  Tensor out(t.dtype(), out_dims);
  out.set_quant(PermuteQuant(t.quant(), p));
  const size_t es = SizeOf(t.dtype());
  std::vector<int64_t> in_strides(r, 1);
  for (int i = r - 2; i >= 0; --i)
    in_strides[i] = in_strides[i + 1] * t.dim(i + 1);
  std::vector<int64_t> step(r);  // input stride of each output dim
  for (int i = 0; i < r; ++i) step[i] = in_strides[p[i]];
  std::vector<int64_t> idx(r, 0);
  const char* src = static_cast<const char*>(t.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  int64_t off = 0;
  for (int64_t i = 0; i < out.num_elements(); ++i) {
    std::memcpy(dst + i * es, src + off * es, es);
    for (int d = r - 1; d >= 0; --d) {
      off += step[d];
      if (++idx[d] < out_dims[d]) break;
      off -= step[d] * out_dims[d];
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace qforge::internal
