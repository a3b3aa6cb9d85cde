#include "qforge/quantize/quant_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::HasSubstr;

TEST(QuantConfig, DefaultsAreTheDocumentedOnes) {
  QuantConfig c;
  EXPECT_EQ(c.activation_type, DataType::kInt8);
  EXPECT_TRUE(c.per_channel_weights);
  EXPECT_EQ(c.profile, ArithmeticProfile::kOnnxRuntime);
  EXPECT_EQ(c.calibration_method, CalibrationMethod::kMinMax);
  EXPECT_EQ(c.unknown_op_policy, UnknownOpPolicy::kError);
  EXPECT_EQ(c.weight_range, WeightRange::kFull);
  EXPECT_THAT(c.Validate(), IsOk());
}

TEST(QuantConfig, Uint8ActivationsNeedTheOnnxRuntimeProfile) {
  QuantConfig c;
  c.activation_type = DataType::kUint8;
  EXPECT_THAT(c.Validate(), IsOk());
  c.profile = ArithmeticProfile::kTfliteReference;
  EXPECT_THAT(c.Validate(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     AllOf(HasSubstr("uint8"), HasSubstr("onnxruntime"))));
}

TEST(QuantConfig, ParsesEveryKindOfField) {
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantConfig c, ParseQuantConfig(R"pb(
    activation_type: "int8"
    per_channel_weights: false
    weight_range: "reduced"
    profile: "tflite_reference"
    calibration_method: "percentile"
    percentile: 99.9
    exclude_nodes: "conv1"
    exclude_name_patterns: "head/.*"
    exclude_op_types: "Softmax"
    keep_last_layer_float: true
    tensor_overrides { name: "logits" min: -20 max: 20 }
    tensor_overrides { name: "probs" scale: 0.00390625 zero_point: -128 }
    unknown_op_policy: "keep_float"
    op_aliases { from: "com.acme::Anchors" to: "qforge.contrib::AnchorBoxes" }
  )pb"));
  EXPECT_EQ(c.activation_type, DataType::kInt8);
  EXPECT_FALSE(c.per_channel_weights);
  EXPECT_EQ(c.weight_range, WeightRange::kReduced);
  EXPECT_EQ(c.profile, ArithmeticProfile::kTfliteReference);
  EXPECT_EQ(c.calibration_method, CalibrationMethod::kPercentile);
  EXPECT_EQ(c.range.percentile, 99.9);
  EXPECT_EQ(c.exclude_nodes, std::vector<std::string>{"conv1"});
  EXPECT_EQ(c.exclude_name_patterns, std::vector<std::string>{"head/.*"});
  EXPECT_TRUE(c.keep_last_layer_float);
  EXPECT_EQ(*c.tensor_overrides.at("logits").max, 20.0f);
  EXPECT_EQ(*c.tensor_overrides.at("probs").zero_point, -128);
  EXPECT_EQ(c.unknown_op_policy, UnknownOpPolicy::kKeepFloat);
  EXPECT_EQ(c.op_aliases.at("com.acme::Anchors"), "qforge.contrib::AnchorBoxes");
}

TEST(QuantConfig, TextRoundTripIsExact) {
  QuantConfig c;
  c.activation_type = DataType::kUint8;
  c.weight_range = WeightRange::kFull;
  c.calibration_method = CalibrationMethod::kEntropy;
  c.exclude_op_types = {"Resize", "Softmax"};
  c.tensor_overrides["x"] = TensorOverride{.min = -1.5f, .max = 2.0f};
  c.op_aliases["Erf"] = "qforge.contrib::Erf";
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantConfig parsed, ParseQuantConfig(QuantConfigToText(c)));
  EXPECT_EQ(parsed, c);
}

TEST(QuantConfig, ErrorsNameTheField) {
  EXPECT_THAT(ParseQuantConfig("activation_typo: \"int8\""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("line 1"), HasSubstr("activation_typo"))));
  EXPECT_THAT(ParseQuantConfig("calibration_method: \"median\""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("median")));
  EXPECT_THAT(ParseQuantConfig("activation_type: \"float32\""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("int8 or uint8")));
  EXPECT_THAT(ParseQuantConfig("exclude_name_patterns: \"conv[\""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("conv[")));
  EXPECT_THAT(ParseQuantConfig("tensor_overrides { name: \"t\" min: 1 }"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'t'")));
  EXPECT_THAT(ParseQuantConfig("weight_range: \"6bit\""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("6bit"), HasSubstr("full, reduced"))));
  EXPECT_THAT(ParseQuantConfig("unknown_op_policy: \"ignore\""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ignore")));
  EXPECT_THAT(LoadQuantConfig("/nonexistent/qforge.cfg"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/qforge.cfg")));
}

}  // namespace
}  // namespace qforge
