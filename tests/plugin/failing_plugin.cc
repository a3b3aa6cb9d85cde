// A test plugin whose register function registers, replaces and removes
// entries and then fails.
#include "plugin/test_ops.h"
#include "qforge/plugin.h"

namespace qforge::test_plugin {
namespace {
absl::Status RegisterThenFail(Registry& registry) {
  return RegisterTestOps(registry, /*fail_at_end=*/true);
}
}  // namespace

QFORGE_DEFINE_PLUGIN(FailingPlugin, "test_failing", "0.0.1", RegisterThenFail);

}  // namespace qforge::test_plugin
