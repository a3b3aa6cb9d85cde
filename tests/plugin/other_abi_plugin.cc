// A test plugin whose entry point reports another ABI version (as one built
// by another compiler or against another qforge would). Its register
// function must never run: if the loader ran it, the registry would change
// and the test would see it.
#include "plugin/test_ops.h"
#include "qforge/plugin.h"

namespace {
absl::Status MustNotRun(qforge::Registry& registry) {
  return qforge::test_plugin::RegisterTestOps(registry, /*fail_at_end=*/false);
}
const qforge::PluginDescriptor kDescriptor{
    "qforge-0.0.0/gcc-1/libstdc++-cxx11/absl-20000101", "test_other_abi",
    "9.9.9", MustNotRun};
}  // namespace

extern "C" __attribute__((visibility("default")))
const qforge::PluginDescriptor*
qforge_plugin_descriptor() {
  return &kDescriptor;
}
