// Test helper: builds small TFLite models (FlatBuffers bytes) with the
// schema's generated builder API, so importer tests can describe a model in
// a few lines (and corrupt it on purpose).
#ifndef QFORGE_TESTS_IO_TFLITE_MODEL_BUILDER_H_
#define QFORGE_TESTS_IO_TFLITE_MODEL_BUILDER_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "io/tflite/schema_generated.h"

namespace qforge::testing {

namespace tfl = ::qforge::tflite_fb;

// Affine quantization of a tensor (empty scale: none).
struct TfliteQuant {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int axis = 0;
};

class TfliteModelBuilder {
 public:
  using Quant = TfliteQuant;
  using OptionsFn =
      std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>;

  TfliteModelBuilder() { buffers_.emplace_back(); }  // Buffer 0: empty.

  int AddTensor(std::string name, tfl::TensorType type,
                std::vector<int32_t> shape, Quant quant = {}, int buffer = 0) {
    tensors_.push_back({std::move(name), type, std::move(shape),
                        std::move(quant), static_cast<uint32_t>(buffer)});
    return static_cast<int>(tensors_.size()) - 1;
  }

  template <typename T>
  int AddConstant(std::string name, tfl::TensorType type,
                  std::vector<int32_t> shape, const std::vector<T>& values,
                  Quant quant = {}) {
    std::string bytes(values.size() * sizeof(T), '\0');
    if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    buffers_.push_back(std::move(bytes));
    return AddTensor(std::move(name), type, std::move(shape), std::move(quant),
                     static_cast<int>(buffers_.size()) - 1);
  }

  // Operator code; `deprecated` < 0 writes min(builtin, 127) there as the
  // converter does.
  int AddOpCode(int32_t builtin, std::string custom = "", int deprecated = -1) {
    if (deprecated < 0) deprecated = std::min<int32_t>(builtin, 127);
    codes_.push_back(
        {builtin, static_cast<int8_t>(deprecated), std::move(custom)});
    return static_cast<int>(codes_.size()) - 1;
  }

  void AddOp(int opcode, std::vector<int32_t> inputs,
             std::vector<int32_t> outputs,
             tfl::BuiltinOptions options_type = tfl::BuiltinOptions_NONE,
             OptionsFn options = nullptr, std::string custom_options = "") {
    ops_.push_back({static_cast<uint32_t>(opcode), std::move(inputs),
                    std::move(outputs), options_type, std::move(options),
                    std::move(custom_options)});
  }

  void SetIo(std::vector<int32_t> inputs, std::vector<int32_t> outputs) {
    inputs_ = std::move(inputs);
    outputs_ = std::move(outputs);
  }

  std::string Finish() const {
    flatbuffers::FlatBufferBuilder b;
    std::vector<flatbuffers::Offset<tfl::Buffer>> buffers;
    for (const std::string& data : buffers_) {
      if (data.empty()) {
        buffers.push_back(tfl::CreateBuffer(b));
        continue;
      }
      b.ForceVectorAlignment(data.size(), 1, 16);
      auto v = b.CreateVector(reinterpret_cast<const uint8_t*>(data.data()),
                              data.size());
      buffers.push_back(tfl::CreateBuffer(b, v));
    }
    std::vector<flatbuffers::Offset<tfl::Tensor>> tensors;
    for (const TensorDef& t : tensors_) {
      flatbuffers::Offset<tfl::QuantizationParameters> q = 0;
      if (!t.quant.scale.empty()) {
        q = tfl::CreateQuantizationParameters(
            b, 0, 0, b.CreateVector(t.quant.scale),
            b.CreateVector(t.quant.zero_point), tfl::QuantizationDetails_NONE,
            0, t.quant.axis);
      }
      tensors.push_back(tfl::CreateTensor(b, b.CreateVector(t.shape), t.type,
                                          t.buffer, b.CreateString(t.name), q));
    }
    std::vector<flatbuffers::Offset<tfl::OperatorCode>> codes;
    for (const CodeDef& c : codes_) {
      codes.push_back(tfl::CreateOperatorCode(
          b, c.deprecated, c.custom.empty() ? 0 : b.CreateString(c.custom), 1,
          static_cast<tfl::BuiltinOperator>(c.builtin)));
    }
    std::vector<flatbuffers::Offset<tfl::Operator>> ops;
    for (const OpDef& o : ops_) {
      flatbuffers::Offset<void> options = o.options ? o.options(b) : 0;
      flatbuffers::Offset<flatbuffers::Vector<uint8_t>> custom = 0;
      if (!o.custom_options.empty()) {
        custom = b.CreateVector(
            reinterpret_cast<const uint8_t*>(o.custom_options.data()),
            o.custom_options.size());
      }
      ops.push_back(tfl::CreateOperator(b, o.opcode, b.CreateVector(o.inputs),
                                        b.CreateVector(o.outputs),
                                        o.options_type, options, custom));
    }
    auto subgraph = tfl::CreateSubGraph(
        b, b.CreateVector(tensors), b.CreateVector(inputs_),
        b.CreateVector(outputs_), b.CreateVector(ops), b.CreateString("main"));
    auto model = tfl::CreateModel(
        b, 3, b.CreateVector(codes), b.CreateVector(std::vector{subgraph}),
        b.CreateString("test model"), b.CreateVector(buffers));
    tfl::FinishModelBuffer(b, model);
    return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()),
                       b.GetSize());
  }

 private:
  struct TensorDef {
    std::string name;
    tfl::TensorType type;
    std::vector<int32_t> shape;
    Quant quant;
    uint32_t buffer;
  };
  struct CodeDef {
    int32_t builtin;
    int8_t deprecated;
    std::string custom;
  };
  struct OpDef {
    uint32_t opcode;
    std::vector<int32_t> inputs, outputs;
    tfl::BuiltinOptions options_type;
    OptionsFn options;
    std::string custom_options;
  };
  std::vector<std::string> buffers_;
  std::vector<TensorDef> tensors_;
  std::vector<CodeDef> codes_;
  std::vector<OpDef> ops_;
  std::vector<int32_t> inputs_, outputs_;
};

}  // namespace qforge::testing

#endif  // QFORGE_TESTS_IO_TFLITE_MODEL_BUILDER_H_
