// Runs the ONNX backend node conformance tests of qforge's op set.
//
// Each test folder (test_*/model.onnx + test_data_set_*/{input,output}_N.pb)
// whose model has exactly one node with an op listed in op_set.txt becomes
// one parameterized test: the model is loaded with LoadOnnx, each data set is
// run with the Executor, and every output is compared with the expected one:
// |actual - expected| <= atol + rtol * |expected| (rtol 1e-3, atol 1e-7),
// NaN equals NaN, integers and bools exactly, shapes and dtypes must match.
// The op is read from the model, not guessed from the folder name.
//
// Environment:
//   QFORGE_ONNX_NODE_TESTS        folder holding the test_* folders
//                                 (default: compiled in,
//                                 <build>/onnx-node-tests/node)
//   QFORGE_CONFORMANCE_RESULTS    when set, each test writes its outcome to
//                                 <dir>/<test name> for the summary
// `--qforge_summary` (instead of running tests) prints
//   ONNX conformance: N passed, M failed, K skipped of T
// from the results folder; ctest runs it as the fixture's cleanup step.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "io/atomic_file.h"
#include "io/onnx_tensor.h"
#include "onnx/onnx_pb.h"
#include "qforge/io/onnx.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "tests/conformance/tolerance.h"
#include "tests/io/graph_compare.h"

namespace qforge {
namespace {

constexpr double kMaxSkippedFraction = 0.05;

std::string NodeTestsDir() {
  const char* env = std::getenv("QFORGE_ONNX_NODE_TESTS");
  if (env != nullptr && env[0] != '\0') return env;
  return QFORGE_DEFAULT_NODE_TESTS_DIR;
}

std::string ConformanceDataDir() { return QFORGE_CONFORMANCE_DATA_DIR; }

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Non-comment lines of a checked-in list, split at the first whitespace.
std::map<std::string, std::string> ReadList(const std::string& path) {
  std::map<std::string, std::string> entries;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    const size_t space = text.find_first_of(" \t");
    std::string key(text.substr(0, space));
    std::string rest =
        space == absl::string_view::npos
            ? std::string()
            : std::string(absl::StripAsciiWhitespace(text.substr(space)));
    entries[key] = rest;
  }
  return entries;
}

const std::map<std::string, std::string>& OpSet() {
  static const auto* ops = new std::map<std::string, std::string>(
      ReadList(ConformanceDataDir() + "/op_set.txt"));
  return *ops;
}

const std::map<std::string, std::string>& SkipList() {
  static const auto* skips = new std::map<std::string, std::string>(
      ReadList(ConformanceDataDir() + "/skip.txt"));
  return *skips;
}

struct NodeTest {
  std::string name;
  std::string dir;
  std::string op;
  int num_attributes = 0;
  // True when every graph input/output is a tensor of an element type the
  // IR carries.
  bool types_carried = true;
};

// Test names print as the folder name (in --gtest_list_tests and failures).
void PrintTo(const NodeTest& t, std::ostream* os) {
  *os << t.name << " (" << t.op << ")";
}

bool ElementTypeCarried(const onnx::ValueInfoProto& info) {
  if (!info.type().has_tensor_type()) return false;
  absl::StatusOr<DataType> t =
      internal::DataTypeFromOnnx(info.type().tensor_type().elem_type(), "");
  return t.ok() && *t != DataType::kString;
}

// All test folders whose model has a single node of an in-set op.
const std::vector<NodeTest>& InSetTests() {
  static const auto* tests = [] {
    auto* out = new std::vector<NodeTest>();
    const std::string root = NodeTestsDir();
    for (const std::string& name : ListDir(root)) {
      if (name.rfind("test_", 0) != 0) continue;
      const std::string dir = root + "/" + name;
      std::string bytes;
      if (!internal::ReadFileToString(dir + "/model.onnx", &bytes).ok())
        continue;
      onnx::ModelProto model;
      if (!model.ParseFromString(bytes)) continue;
      if (model.graph().node_size() != 1) continue;
      const onnx::NodeProto& node = model.graph().node(0);
      if (!(node.domain().empty() || node.domain() == "ai.onnx")) continue;
      if (OpSet().count(node.op_type()) == 0) continue;
      NodeTest t{name, dir, node.op_type(), node.attribute_size(), true};
      for (const auto& v : model.graph().input())
        t.types_carried &= ElementTypeCarried(v);
      for (const auto& v : model.graph().output())
        t.types_carried &= ElementTypeCarried(v);
      out->push_back(std::move(t));
    }
    return out;
  }();
  return *tests;
}

const Registry& BuiltinRegistry() {
  static const Registry* registry = [] {
    auto* r = new Registry();
    absl::Status s = RegisterBuiltins(*r);
    if (!s.ok()) std::cerr << "RegisterBuiltins failed: " << s << "\n";
    return r;
  }();
  return *registry;
}

// Reads input_0.pb, input_1.pb, ... (or output_*) until one is missing.
std::vector<std::string> NumberedFiles(const std::string& dir,
                                       const std::string& prefix) {
  std::vector<std::string> files;
  for (int i = 0;; ++i) {
    const std::string path = absl::StrCat(dir, "/", prefix, i, ".pb");
    if (!IsFile(path)) break;
    files.push_back(path);
  }
  return files;
}

// --- Outcome bookkeeping ----------------------------------------------------

struct Counts {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
};
Counts g_counts;

constexpr char kSuite[] = "OnnxNode/Conformance";

class OutcomeRecorder : public ::testing::EmptyTestEventListener {
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (std::string(info.test_suite_name()) != kSuite) return;
    const ::testing::TestResult& r = *info.result();
    std::string outcome;
    if (r.Skipped()) {
      outcome = "skipped";
      ++g_counts.skipped;
    } else if (r.Passed()) {
      outcome = "passed";
      ++g_counts.passed;
    } else {
      outcome = "failed";
      ++g_counts.failed;
    }
    const char* dir = std::getenv("QFORGE_CONFORMANCE_RESULTS");
    if (dir != nullptr && dir[0] != '\0') {
      // The parameter name is the test folder name.
      std::string name = info.name();
      name = name.substr(name.find('/') + 1);
      std::ofstream(absl::StrCat(dir, "/", name)) << outcome << "\n";
    }
  }
};

std::string SummaryLine(const Counts& c, int total) {
  return absl::StrCat("ONNX conformance: ", c.passed, " passed, ", c.failed,
                      " failed, ", c.skipped, " skipped of ", total);
}

class SummaryEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    const int ran = g_counts.passed + g_counts.failed + g_counts.skipped;
    if (ran > 1)
      std::cout << SummaryLine(g_counts, InSetTests().size()) << "\n";
  }
};

// Prints the summary from the results folder; returns the exit code.
int PrintSummaryFromResults() {
  const char* dir = std::getenv("QFORGE_CONFORMANCE_RESULTS");
  if (dir == nullptr || dir[0] == '\0') {
    std::cerr << "--qforge_summary needs QFORGE_CONFORMANCE_RESULTS\n";
    return 1;
  }
  Counts c;
  int not_run = 0;
  std::vector<std::string> failed;
  for (const NodeTest& t : InSetTests()) {
    std::ifstream in(absl::StrCat(dir, "/", t.name));
    std::string outcome;
    if (!(in >> outcome)) {
      ++not_run;
    } else if (outcome == "passed") {
      ++c.passed;
    } else if (outcome == "skipped") {
      ++c.skipped;
    } else {
      ++c.failed;
      failed.push_back(t.name);
    }
  }
  std::map<std::string, std::pair<int, int>> by_op;  // op -> (passed, total)
  for (const NodeTest& t : InSetTests()) {
    std::ifstream in(absl::StrCat(dir, "/", t.name));
    std::string outcome;
    if (!(in >> outcome)) continue;
    auto& entry = by_op[t.op];
    entry.first += outcome == "passed";
    entry.second += outcome != "skipped";
  }
  for (const auto& [op, pt] : by_op) {
    std::cout << "  " << op << ": " << pt.first << "/" << pt.second
              << " passed\n";
  }
  std::cout << SummaryLine(c, InSetTests().size());
  if (not_run > 0) std::cout << " (" << not_run << " not run)";
  std::cout << "\n";
  if (InSetTests().empty()) {
    std::cerr << "no ONNX node tests found in " << NodeTestsDir() << "\n";
    return 1;
  }
  return 0;
}

// --- The tests
// ----------------------------------------------------------------

class Conformance : public ::testing::TestWithParam<NodeTest> {};

TEST_P(Conformance, Run) {
  const NodeTest& t = GetParam();
  auto skip = SkipList().find(t.name);
  if (skip != SkipList().end()) GTEST_SKIP() << skip->second;

  absl::StatusOr<Graph> graph =
      LoadOnnx(t.dir + "/model.onnx", BuiltinRegistry());
  ASSERT_TRUE(graph.ok()) << "load failed: " << graph.status();
  absl::StatusOr<std::unique_ptr<Executor>> exec =
      Executor::Prepare(*graph, BuiltinRegistry());
  ASSERT_TRUE(exec.ok()) << "prepare failed: " << exec.status();

  int data_sets = 0;
  for (const std::string& entry : ListDir(t.dir)) {
    if (entry.rfind("test_data_set_", 0) != 0) continue;
    ++data_sets;
    const std::string dir = t.dir + "/" + entry;
    SCOPED_TRACE(entry);
    const std::vector<std::string> input_files = NumberedFiles(dir, "input_");
    const std::vector<std::string> output_files = NumberedFiles(dir, "output_");
    ASSERT_EQ(input_files.size(), graph->inputs().size())
        << "input files vs graph inputs";
    ASSERT_EQ(output_files.size(), graph->outputs().size())
        << "output files vs graph outputs";
    TensorMap inputs;
    for (size_t i = 0; i < input_files.size(); ++i) {
      absl::StatusOr<Tensor> tensor =
          internal::ReadOnnxTensorFile(input_files[i]);
      ASSERT_TRUE(tensor.ok()) << tensor.status();
      inputs[graph->inputs()[i]->name()] = *std::move(tensor);
    }
    absl::StatusOr<TensorMap> outputs = (*exec)->Run(inputs);
    ASSERT_TRUE(outputs.ok()) << "run failed: " << outputs.status();
    for (size_t i = 0; i < output_files.size(); ++i) {
      absl::StatusOr<Tensor> expected =
          internal::ReadOnnxTensorFile(output_files[i]);
      ASSERT_TRUE(expected.ok()) << expected.status();
      const std::string& name = graph->outputs()[i]->name();
      auto it = outputs->find(name);
      ASSERT_NE(it, outputs->end()) << "output '" << name << "' missing";
      const std::string diff = testing::ConformanceDiff(
          absl::StrCat("output ", i, " '", name, "'"), it->second, *expected);
      EXPECT_TRUE(diff.empty()) << diff;
    }
  }
  EXPECT_GT(data_sets, 0) << "no test_data_set_* in " << t.dir;
}

INSTANTIATE_TEST_SUITE_P(OnnxNode, Conformance,
                         ::testing::ValuesIn(InSetTests()),
                         [](const ::testing::TestParamInfo<NodeTest>& info) {
                           return info.param.name;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);

TEST(OnnxConformanceSuite, FindsTests) {
  ASSERT_TRUE(IsDirectory(NodeTestsDir()))
      << "ONNX node tests not found at " << NodeTestsDir()
      << ": generate them with ../shared/tools/gen-onnx-node-tests.sh (ctest "
         "does so through the onnx_node_tests fixture) or set "
         "QFORGE_ONNX_NODE_TESTS";
  EXPECT_GT(InSetTests().size(), 100u)
      << "too few in-set node tests in " << NodeTestsDir();
  EXPECT_GE(OpSet().size(), 40u) << "op_set.txt not read";
}

TEST(OnnxConformanceSuite, SkipListIsWithinLimits) {
  std::map<std::string, const NodeTest*> by_name;
  for (const NodeTest& t : InSetTests()) by_name[t.name] = &t;
  ASSERT_FALSE(by_name.empty());
  for (const auto& [name, reason] : SkipList()) {
    EXPECT_FALSE(reason.empty()) << name << ": skip.txt entries need a reason";
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      ADD_FAILURE() << "skip.txt lists '" << name
                    << "', which is not an in-set node test";
      continue;
    }
    const NodeTest& t = *it->second;
    EXPECT_FALSE(t.num_attributes == 0 && t.types_carried)
        << name << " tests " << t.op
        << " with its default attributes and element types the IR carries; "
           "it may not be skipped";
  }
  EXPECT_LE(static_cast<double>(SkipList().size()),
            kMaxSkippedFraction * static_cast<double>(by_name.size()))
      << SkipList().size() << " skipped of " << by_name.size()
      << " in-set tests is more than 5%";
}

// ONNX export: import -> export -> import gives the same graph (nodes,
// attributes, constants bitwise, dtypes and shapes) for every in-set model
// that imports.
TEST(OnnxConformanceSuite, ExportRoundTripsEveryModel) {
  int round_tripped = 0;
  for (const NodeTest& t : InSetTests()) {
    absl::StatusOr<Graph> graph =
        LoadOnnx(t.dir + "/model.onnx", BuiltinRegistry());
    if (!graph.ok()) continue;  // Reported by the test's own Run.
    absl::StatusOr<std::string> bytes = SaveOnnxToBytes(*graph);
    ASSERT_TRUE(bytes.ok()) << t.name << ": " << bytes.status();
    absl::StatusOr<Graph> back =
        LoadOnnxFromBytes(*bytes, BuiltinRegistry(), t.name);
    ASSERT_TRUE(back.ok()) << t.name << ": " << back.status();
    EXPECT_EQ(testing::GraphDiff(*graph, *back), "") << t.name;
    ++round_tripped;
  }
  EXPECT_GT(round_tripped, 100);
}

}  // namespace
}  // namespace qforge

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--qforge_summary") {
      return qforge::PrintSummaryFromResults();
    }
  }
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::UnitTest::GetInstance()->listeners().Append(
      new qforge::OutcomeRecorder);
  ::testing::AddGlobalTestEnvironment(new qforge::SummaryEnvironment);
  return RUN_ALL_TESTS();
}
