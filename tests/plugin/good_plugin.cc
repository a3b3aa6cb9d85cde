// A well-formed test plugin: registers qforge.test::Twice.
#include "plugin/test_ops.h"
#include "qforge/plugin.h"

namespace qforge::test_plugin {
namespace {
absl::Status RegisterGood(Registry& registry) {
  return RegisterTestOps(registry, /*fail_at_end=*/false);
}
}  // namespace

QFORGE_DEFINE_PLUGIN(GoodPlugin, "test_good", "1.2.3", RegisterGood);

}  // namespace qforge::test_plugin
