#include "qforge/quantize/calibration_data.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "qforge/core/status.h"
#include "qforge/io/npy.h"

namespace qforge {
namespace {

Tensor CastToFloat32(const Tensor& t) {
  Tensor out(DataType::kFloat32, t.dims());
  float* o = out.data<float>();
  for (int64_t i = 0; i < t.num_elements(); ++i) o[i] = static_cast<float>(t.GetAsDouble(i));
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TensorCalibrationData>> TensorCalibrationData::Create(
    TensorMap inputs) {
  auto data = std::unique_ptr<TensorCalibrationData>(new TensorCalibrationData());
  if (inputs.empty()) {
    return absl::InvalidArgumentError("calibration data has no inputs");
  }
  int64_t samples = -1;
  std::string first;
  for (auto& [name, t] : inputs) {
    if (t.rank() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "calibration input '", name,
          "' is a scalar; its leading axis must enumerate the samples"));
    }
    if (samples >= 0 && t.dim(0) != samples) {
      return absl::InvalidArgumentError(absl::StrCat(
          "calibration inputs disagree on the number of samples: '", first, "' has ",
          samples, ", '", name, "' has ", t.dim(0)));
    }
    if (samples < 0) {
      samples = t.dim(0);
      first = name;
    }
    if (t.dtype() == DataType::kFloat64) {
      data->warnings_.push_back(absl::StrCat("calibration input '", name,
                                             "' is float64; cast to float32"));
      t = CastToFloat32(t);
    }
  }
  data->num_samples_ = samples;
  data->inputs_ = std::move(inputs);
  return data;
}

absl::StatusOr<TensorMap> TensorCalibrationData::Sample(int64_t i) const {
  if (i < 0 || i >= num_samples_) {
    return absl::OutOfRangeError(
        absl::StrCat("sample ", i, " is outside [0, ", num_samples_, ")"));
  }
  TensorMap sample;
  for (const auto& [name, t] : inputs_) {
    std::vector<int64_t> dims = t.dims();
    dims[0] = 1;
    Tensor s(t.dtype(), dims);
    const size_t bytes = s.num_bytes();
    std::memcpy(s.raw_data(), static_cast<const char*>(t.raw_data()) + i * bytes, bytes);
    if (s.dtype() == DataType::kFloat32) {
      const float* p = s.data<float>();
      for (int64_t k = 0; k < s.num_elements(); ++k) {
        if (!std::isfinite(p[k])) {
          return absl::InvalidArgumentError(absl::StrCat(
              "calibration input '", name, "' sample ", i, " has ", p[k],
              " at element ", k, "; calibration data must be finite"));
        }
      }
    }
    sample.emplace(name, std::move(s));
  }
  return sample;
}

namespace {

// Appends `more` to `all` along axis 0 (same trailing dims and dtype).
absl::Status Concatenate(const std::string& name, Tensor& all, const Tensor& more) {
  if (all.dtype() != more.dtype() || all.rank() != more.rank() ||
      !std::equal(all.dims().begin() + 1, all.dims().end(), more.dims().begin() + 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "calibration input '", name, "': cannot append ", more.DebugString(), " to ",
        all.DebugString()));
  }
  std::vector<int64_t> dims = all.dims();
  dims[0] += more.dim(0);
  Tensor joined(all.dtype(), dims);
  std::memcpy(joined.raw_data(), all.raw_data(), all.num_bytes());
  std::memcpy(static_cast<char*>(joined.raw_data()) + all.num_bytes(), more.raw_data(),
              more.num_bytes());
  all = std::move(joined);
  return absl::OkStatus();
}

absl::Status AddAll(TensorMap& into, TensorMap more) {
  for (auto& [name, t] : more) {
    auto it = into.find(name);
    if (it == into.end()) {
      into.emplace(name, std::move(t));
    } else {
      QFORGE_RETURN_IF_ERROR(Concatenate(name, it->second, t));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CalibrationData>> OpenCalibrationData(
    absl::string_view spec) {
  TensorMap inputs;
  const std::string path(spec);
  std::error_code ec;
  if (spec.find('=') != absl::string_view::npos) {
    for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
      if (kv.first.empty() || kv.second.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("calibration data '", item, "' is not NAME=FILE.npy"));
      }
      QFORGE_ASSIGN_OR_RETURN(Tensor t, ReadNpy(kv.second));
      if (!inputs.emplace(kv.first, std::move(t)).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("calibration input '", kv.first, "' is given twice"));
      }
    }
  } else if (std::filesystem::is_directory(path, ec)) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
      const std::string ext = entry.path().extension().string();
      if (ext == ".npz" || ext == ".npy") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("calibration folder '", path, "' has no .npz or .npy files"));
    }
    for (const auto& file : files) {
      TensorMap more;
      if (file.extension() == ".npz") {
        QFORGE_ASSIGN_OR_RETURN(NpzContents npz, ReadNpz(file.string()));
        for (auto& [k, t] : npz) more.emplace(k, std::move(t));
      } else {
        QFORGE_ASSIGN_OR_RETURN(Tensor t, ReadNpy(file.string()));
        more.emplace(file.stem().string(), std::move(t));
      }
      QFORGE_RETURN_IF_ERROR(AddAll(inputs, std::move(more)));
    }
  } else {
    QFORGE_ASSIGN_OR_RETURN(NpzContents npz, ReadNpz(path));
    for (auto& [k, t] : npz) inputs.emplace(k, std::move(t));
  }
  QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<TensorCalibrationData> data,
                          TensorCalibrationData::Create(std::move(inputs)));
  return std::unique_ptr<CalibrationData>(std::move(data));
}

}  // namespace qforge
