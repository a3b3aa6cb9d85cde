#include "quantize/activation_storage.h"

#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace qforge::internal {
namespace {

bool IsQdq(const Node& n) {
  return (n.domain().empty() || n.domain() == "ai.onnx") &&
         (n.op_type() == "QuantizeLinear" || n.op_type() == "DequantizeLinear");
}

// The integer side of a QuantizeLinear (output 0) / DequantizeLinear (input 0).
const Value* IntegerSide(const Node& n) {
  return n.op_type() == "QuantizeLinear" ? n.output(0) : n.input(0);
}

bool IsWeight(const Value& v) {
  if (!v.is_constant()) return false;
  if (v.quant()->axis >= 0) return true;
  if (v.consumers().empty()) return false;
  for (const Node* c : v.consumers()) {
    const std::string& op = c->op_type();
    const bool weight_op =
        op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul";
    if (!weight_op || c->input(1) != &v) return false;
  }
  return true;
}

int64_t Shift(DataType from) { return from == DataType::kInt8 ? 128 : -128; }

Tensor ShiftedTensor(const Tensor& t, DataType from, DataType to) {
  Tensor out(to, t.dims());
  const int64_t n = t.num_elements();
  const int64_t shift = Shift(from);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t q = t.GetAsInt64(i) + shift;
    if (to == DataType::kInt8) {
      out.data<int8_t>()[i] = static_cast<int8_t>(q);
    } else {
      out.data<uint8_t>()[i] = static_cast<uint8_t>(q);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<int> ConvertActivationStorage(Graph& graph, DataType from,
                                             DataType to) {
  const bool valid = (from == DataType::kInt8 && to == DataType::kUint8) ||
                     (from == DataType::kUint8 && to == DataType::kInt8);
  if (!valid) {
    return absl::InvalidArgumentError(
        absl::StrCat("activation storage converts int8 <-> uint8, not ",
                     DataTypeName(from), " -> ", DataTypeName(to)));
  }
  // Values whose Q/DQ nodes lack a zero-point input cannot be converted.
  absl::flat_hash_set<const Value*> blocked;
  for (const Node* n : graph.nodes()) {
    if (IsQdq(*n) && n->input(2) == nullptr && IntegerSide(*n) != nullptr) {
      blocked.insert(IntegerSide(*n));
    }
  }
  absl::flat_hash_set<const Value*> converted;
  const int64_t shift = Shift(from);
  for (Value* v : graph.values()) {
    if (v == nullptr || !v->quant().has_value()) continue;
    const QuantParams& p = *v->quant();
    if (p.storage != from || IsWeight(*v) || blocked.contains(v)) continue;
    QuantParams q = p;
    q.storage = to;
    for (int64_t& z : q.zero_point) z += shift;
    if (v->is_constant()) {
      Tensor t = ShiftedTensor(*v->constant(), from, to);
      t.set_quant(q);
      v->set_constant(std::move(t));
    }
    v->set_dtype(to);
    v->set_quant(q);
    converted.insert(v);
  }
  for (Node* n : graph.nodes()) {
    if (!IsQdq(*n) || !converted.contains(IntegerSide(*n))) continue;
    const Value* zp = n->input(2);
    if (zp == nullptr || !zp->is_constant()) continue;
    Value* nz = graph.AddConstant(
        absl::StrCat(n->name(), "_zero_point_", DataTypeName(to)),
        ShiftedTensor(*zp->constant(), from, to));
    n->SetInput(2, nz);
  }
  return static_cast<int>(converted.size());
}

}  // namespace qforge::internal
