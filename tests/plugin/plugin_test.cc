// Plugins: Registry::Transaction, RegisterPlugin for statically linked
// plugins, and LoadPlugin on real shared libraries built by the test suite
// (tests/plugin/*_plugin.cc): a good one, one reporting another ABI version,
// one without the entry point, one whose register function fails after
// registering. Every failure must leave the registry exactly as it was.
#include "qforge/plugin.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plugin/test_ops.h"
#include "qforge/registry.h"
#include "qforge/testing/status_matchers.h"
#include "qforge/version.h"

namespace qforge::test_plugin {
const PluginDescriptor& GoodPlugin();
const PluginDescriptor& FailingPlugin();
}  // namespace qforge::test_plugin

namespace qforge {
namespace {

using ::qforge::test_plugin::RegisterTestOps;
using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Everything a registry holds, by identity: the same objects at the same
// addresses, in the same order.
struct Contents {
  std::vector<const OpSchema*> schemas;
  std::vector<const KernelDef*> kernels;
  std::vector<std::string> quantizers;
  const OpQuantizer* sigmoid_quantizer;
  const KernelDef* relu_kernel;

  static Contents Of(const Registry& r) {
    return {r.schemas().List(), r.kernels().List(), r.quantizers().List(),
            r.quantizers().Find({"", "Sigmoid"}),
            r.kernels().Find({"", "Relu"}, DataType::kFloat32)};
  }
  bool operator==(const Contents&) const = default;
};

const OpKey kTwice{"qforge.test", "Twice"};

class PluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(RegisterBuiltins(registry_), IsOk()); }

  // Runs Twice's registered float kernel on {1, -2.5}.
  std::vector<float> RunTwice() {
    const KernelDef* def = registry_.kernels().Find(kTwice, DataType::kFloat32);
    if (def == nullptr) return {};
    Graph g;
    Value* x = g.AddValue("x", DataType::kFloat32, Shape({2}));
    Value* y = g.AddValue("y", DataType::kFloat32, Shape({2}));
    absl::StatusOr<Node*> node = g.AddNode({.name = "t",
                                            .domain = "qforge.test",
                                            .op_type = "Twice",
                                            .inputs = {x},
                                            .outputs = {y},
                                            .attributes = {}});
    if (!node.ok()) return {};
    absl::StatusOr<std::unique_ptr<OpKernel>> kernel =
        def->create({**node, {nullptr}});
    if (!kernel.ok()) return {};
    Tensor in = Tensor::FromVector<float>({2}, {1.0f, -2.5f});
    Tensor out;
    const Tensor* ins[] = {&in};
    Tensor* outs[] = {&out};
    KernelContext ctx(**node, ins, outs);
    if (!(*kernel)->Run(ctx).ok()) return {};
    return std::vector<float>(out.values<float>().begin(),
                              out.values<float>().end());
  }

  Registry registry_;
};

TEST(VersionTest, HeaderMatchesTheProjectVersion) {
  EXPECT_EQ(std::string(QFORGE_VERSION_STRING), QFORGE_PROJECT_VERSION);
  EXPECT_THAT(PluginAbiVersion(), HasSubstr(QFORGE_PROJECT_VERSION));
}

TEST_F(PluginTest, TransactionCommitsOnSuccess) {
  const Contents before = Contents::Of(registry_);
  EXPECT_THAT(registry_.Transaction([](Registry& r) {
    return RegisterTestOps(r, /*fail_at_end=*/false);
  }),
              IsOk());
  EXPECT_NE(Contents::Of(registry_), before);
  EXPECT_NE(registry_.schemas().Find(kTwice), nullptr);
  EXPECT_EQ(registry_.quantizers().Find({"", "Sigmoid"}), nullptr);
  EXPECT_NE(registry_.kernels().Find({"", "Relu"}, DataType::kFloat32),
            before.relu_kernel);
}

TEST_F(PluginTest, TransactionRollsBackAdditionsReplacementsAndRemovals) {
  const Contents before = Contents::Of(registry_);
  ASSERT_NE(before.sigmoid_quantizer, nullptr);
  EXPECT_THAT(registry_.Transaction([](Registry& r) {
    return RegisterTestOps(r, /*fail_at_end=*/true);
  }),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("fails after registering")));
  EXPECT_EQ(Contents::Of(registry_), before);
  EXPECT_EQ(registry_.schemas().Find(kTwice), nullptr);
}

TEST_F(PluginTest, NestedTransactionRollsBackOnlyItsOwnChanges) {
  const Contents before = Contents::Of(registry_);
  EXPECT_THAT(
      registry_.Transaction([](Registry& r) -> absl::Status {
        r.quantizers().Remove({"", "Relu"});
        absl::Status inner = r.Transaction([](Registry& r2) {
          return RegisterTestOps(r2, /*fail_at_end=*/true);
        });
        EXPECT_FALSE(inner.ok());
        EXPECT_EQ(r.schemas().Find(kTwice), nullptr);
        return absl::AbortedError("outer fails too");
      }),
      StatusIs(absl::StatusCode::kAborted, HasSubstr("outer fails too")));
  EXPECT_EQ(Contents::Of(registry_), before);
  EXPECT_NE(registry_.quantizers().Find({"", "Relu"}), nullptr);
}

TEST_F(PluginTest, TransactionTurnsAnExceptionIntoAnError) {
  const Contents before = Contents::Of(registry_);
  EXPECT_THAT(registry_.Transaction([](Registry& r) -> absl::Status {
    RegisterTestOps(r, /*fail_at_end=*/false).IgnoreError();
    throw std::runtime_error("boom");
  }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("boom")));
  EXPECT_EQ(Contents::Of(registry_), before);
}

TEST_F(PluginTest, StaticPluginRegistersWithOneCall) {
  EXPECT_THAT(RegisterPlugin(test_plugin::GoodPlugin(), registry_), IsOk());
  EXPECT_NE(registry_.quantizers().Find(kTwice), nullptr);
  EXPECT_THAT(RunTwice(), ::testing::ElementsAre(2.0f, -5.0f));
  // A second registration collides and changes nothing.
  const Contents after = Contents::Of(registry_);
  EXPECT_THAT(RegisterPlugin(test_plugin::GoodPlugin(), registry_),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       AllOf(HasSubstr("plugin 'test_good' version 1.2.3"),
                             HasSubstr("registry left unchanged"))));
  EXPECT_EQ(Contents::Of(registry_), after);
}

TEST_F(PluginTest, StaticPluginThatFailsHalfwayChangesNothing) {
  const Contents before = Contents::Of(registry_);
  EXPECT_THAT(RegisterPlugin(test_plugin::FailingPlugin(), registry_),
              StatusIs(absl::StatusCode::kInternal,
                       AllOf(HasSubstr("plugin 'test_failing'"),
                             HasSubstr("fails after registering"))));
  EXPECT_EQ(Contents::Of(registry_), before);
}

TEST_F(PluginTest, StaticPluginWithAnotherAbiIsRefused) {
  const Contents before = Contents::Of(registry_);
  PluginDescriptor other = test_plugin::GoodPlugin();
  other.abi_version = "qforge-9.9.9/clang-99/libc++/absl-20990101";
  EXPECT_THAT(RegisterPlugin(other, registry_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("qforge-9.9.9/clang-99"),
                             HasSubstr(PluginAbiVersion()))));
  EXPECT_EQ(Contents::Of(registry_), before);
}

TEST_F(PluginTest, LoadsASharedLibraryPlugin) {
  absl::StatusOr<PluginInfo> info =
      LoadPlugin(QFORGE_TEST_GOOD_PLUGIN, registry_);
  ASSERT_THAT(info.status(), IsOk());
  EXPECT_EQ(info->name, "test_good");
  EXPECT_EQ(info->version, "1.2.3");
  EXPECT_EQ(info->path, QFORGE_TEST_GOOD_PLUGIN);
  EXPECT_NE(registry_.schemas().Find(kTwice), nullptr);
  EXPECT_NE(registry_.quantizers().Find(kTwice), nullptr);
  EXPECT_THAT(RunTwice(), ::testing::ElementsAre(2.0f, -5.0f));
}

TEST_F(PluginTest, SharedLibraryWithAnotherAbiFailsCleanly) {
  const Contents before = Contents::Of(registry_);
  EXPECT_THAT(
      LoadPlugin(QFORGE_TEST_OTHER_ABI_PLUGIN, registry_).status(),
      StatusIs(
          absl::StatusCode::kFailedPrecondition,
          AllOf(HasSubstr(QFORGE_TEST_OTHER_ABI_PLUGIN),
                HasSubstr("'qforge-0.0.0/gcc-1/libstdc++-cxx11/absl-20000101'"),
                HasSubstr(PluginAbiVersion()))));
  EXPECT_EQ(Contents::Of(registry_), before);
}

TEST_F(PluginTest, SharedLibraryWithoutEntryPointFailsCleanly) {
  const Contents before = Contents::Of(registry_);
  EXPECT_THAT(LoadPlugin(QFORGE_TEST_NO_ENTRY_PLUGIN, registry_).status(),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr(QFORGE_TEST_NO_ENTRY_PLUGIN),
                             HasSubstr("qforge_plugin_descriptor"))));
  EXPECT_EQ(Contents::Of(registry_), before);
}

TEST_F(PluginTest, SharedLibraryWhoseRegistrationFailsHalfwayFailsCleanly) {
  const Contents before = Contents::Of(registry_);
  EXPECT_THAT(LoadPlugin(QFORGE_TEST_FAILING_PLUGIN, registry_).status(),
              StatusIs(absl::StatusCode::kInternal,
                       AllOf(HasSubstr(QFORGE_TEST_FAILING_PLUGIN),
                             HasSubstr("plugin 'test_failing' version 0.0.1"),
                             HasSubstr("fails after registering"),
                             HasSubstr("registry left unchanged"))));
  EXPECT_EQ(Contents::Of(registry_), before);
  // The registry still works: the good plugin loads afterwards.
  EXPECT_THAT(LoadPlugin(QFORGE_TEST_GOOD_PLUGIN, registry_).status(), IsOk());
}

TEST_F(PluginTest, MissingFileNamesThePath) {
  const Contents before = Contents::Of(registry_);
  EXPECT_THAT(
      LoadPlugin("/nonexistent/libqforge_nothing.so", registry_).status(),
      StatusIs(absl::StatusCode::kNotFound,
               HasSubstr("/nonexistent/libqforge_nothing.so")));
  EXPECT_EQ(Contents::Of(registry_), before);
}

}  // namespace
}  // namespace qforge
