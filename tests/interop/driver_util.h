// Shared by the interop drivers (qdq_interop_driver, tflite_interop_driver):
// run a prepared model on every sample of an .npz and write each output,
// stacked over the samples, as OUT_DIR/output_K.npy for the Python side.
#ifndef QFORGE_TESTS_INTEROP_DRIVER_UTIL_H_
#define QFORGE_TESTS_INTEROP_DRIVER_UTIL_H_

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "qforge/core/status.h"
#include "qforge/io/npy.h"
#include "qforge/ir/graph.h"
#include "qforge/runtime/executor.h"

namespace qforge::interop {

// How a sample is cut from a tensor stacked along its leading axis.
enum class SampleBatch {
  kDropLeadingAxis,  // Sample i is t[i]; outputs get a new leading axis.
  kKeepBatchOfOne,   // Sample i is t[i:i+1]; outputs' batch of 1 becomes N.
};

inline Tensor SampleOf(const Tensor& t, int64_t i, SampleBatch batch) {
  std::vector<int64_t> dims = t.dims();
  const size_t bytes = t.num_bytes() / dims[0];
  if (batch == SampleBatch::kDropLeadingAxis) {
    dims.erase(dims.begin());
  } else {
    dims[0] = 1;
  }
  Tensor s(t.dtype(), dims);
  std::memcpy(s.raw_data(), static_cast<const char*>(t.raw_data()) + i * bytes,
              bytes);
  return s;
}

// Runs `model` (prepared as `executor`) on each sample of the .npz at
// `inputs_path` and writes the stacked outputs to `out_dir`.
// `run_options(i)` gives the options for sample i.
inline absl::Status RunSamplesAndWriteOutputs(
    Executor& executor, const Graph& model, const std::string& inputs_path,
    const std::string& out_dir, SampleBatch batch,
    const std::function<RunOptions(int64_t)>& run_options) {
  QFORGE_ASSIGN_OR_RETURN(NpzContents inputs, ReadNpz(inputs_path));
  int64_t n = -1;
  for (const auto& [name, t] : inputs) {
    if (t.rank() < 1)
      return absl::InvalidArgumentError(
          absl::StrCat("input ", name, " is a scalar"));
    n = t.dims()[0];
  }
  std::vector<std::vector<Tensor>> per_output(model.outputs().size());
  for (int64_t i = 0; i < n; ++i) {
    TensorMap sample;
    for (const auto& [name, t] : inputs) sample[name] = SampleOf(t, i, batch);
    QFORGE_ASSIGN_OR_RETURN(TensorMap out,
                            executor.Run(sample, run_options(i)));
    for (size_t k = 0; k < model.outputs().size(); ++k) {
      per_output[k].push_back(out.at(model.outputs()[k]->name()));
    }
  }
  for (size_t k = 0; k < per_output.size(); ++k) {
    const Tensor& first = per_output[k][0];
    std::vector<int64_t> dims = first.dims();
    if (batch == SampleBatch::kDropLeadingAxis) {
      dims.insert(dims.begin(), n);
    } else {
      if (dims.empty() || dims[0] != 1) {
        return absl::InternalError("outputs are expected to have a batch of 1");
      }
      dims[0] = n;
    }
    Tensor stacked(first.dtype(), dims);
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(
          static_cast<char*>(stacked.raw_data()) + i * first.num_bytes(),
          per_output[k][i].raw_data(), first.num_bytes());
    }
    QFORGE_RETURN_IF_ERROR(
        WriteNpy(absl::StrCat(out_dir, "/output_", k, ".npy"), stacked));
  }
  return absl::OkStatus();
}

}  // namespace qforge::interop

#endif  // QFORGE_TESTS_INTEROP_DRIVER_UTIL_H_
