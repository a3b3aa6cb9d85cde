// Plugins: ops (schemas, kernels, quantizers) added to a Registry from
// outside qforge, either linked into the application or loaded at run time.
//
// A plugin is a library that defines one register function and describes
// itself with a PluginDescriptor:
//
//   absl::Status RegisterMyOps(qforge::Registry& registry) {
//     QFORGE_RETURN_IF_ERROR(registry.schemas().Register(...));
//     ...
//   }
//   QFORGE_DEFINE_PLUGIN(MyOpsPlugin, "my_ops", "1.0.0", RegisterMyOps);
//
// QFORGE_DEFINE_PLUGIN defines `const qforge::PluginDescriptor& MyOpsPlugin()`.
// Linked statically, the application calls
// `qforge::RegisterPlugin(MyOpsPlugin(), registry)`. Built as a shared
// library (a CMake MODULE library compiled with QFORGE_PLUGIN_MODULE defined,
// which qforge_add_plugin() in the installed CMake package does), the same
// macro also defines the one `extern "C"` entry point
// `qforge_plugin_descriptor`, and `qforge::LoadPlugin(path, registry)` (or
// `qforge --plugin PATH`) loads it. The same sources serve both ways.
//
// ABI: the register function receives C++ types (Registry, std::function,
// absl::Status, std::string), so a plugin must be built with the same
// compiler family and major version, the same C++ standard library ABI, the
// same Abseil and the same qforge version as the qforge that loads it.
// QFORGE_PLUGIN_ABI_VERSION encodes all of these; a descriptor whose
// abi_version differs from PluginAbiVersion() is refused before any of its
// code runs.
//
// Registration is all-or-nothing (Registry::Transaction): a wrong ABI
// version, a missing entry point or a register function that fails halfway
// leaves the registry exactly as it was, and the error names the path, the
// symbol and the versions. A loaded plugin's library stays loaded for the
// life of the process (the registry holds its code).
#ifndef QFORGE_PLUGIN_H_
#define QFORGE_PLUGIN_H_

#include <cstdint>
#include <string>

#include "absl/base/config.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "qforge/core/export.h"
#include "qforge/registry.h"
#include "qforge/version.h"

#define QFORGE_PLUGIN_STR_(x) #x
#define QFORGE_PLUGIN_STR(x) QFORGE_PLUGIN_STR_(x)

#if defined(__clang__)
#define QFORGE_PLUGIN_COMPILER_ "clang-" QFORGE_PLUGIN_STR(__clang_major__)
#elif defined(__GNUC__)
#define QFORGE_PLUGIN_COMPILER_ "gcc-" QFORGE_PLUGIN_STR(__GNUC__)
#elif defined(_MSC_VER)
#define QFORGE_PLUGIN_COMPILER_ "msvc-" QFORGE_PLUGIN_STR(_MSC_VER)
#else
#define QFORGE_PLUGIN_COMPILER_ "unknown-compiler"
#endif

#if defined(_LIBCPP_VERSION)
#define QFORGE_PLUGIN_STDLIB_ "libc++"
#elif defined(_GLIBCXX_USE_CXX11_ABI) && _GLIBCXX_USE_CXX11_ABI
#define QFORGE_PLUGIN_STDLIB_ "libstdc++-cxx11"
#elif defined(__GLIBCXX__)
#define QFORGE_PLUGIN_STDLIB_ "libstdc++-old"
#else
#define QFORGE_PLUGIN_STDLIB_ "unknown-stdlib"
#endif

#if defined(ABSL_LTS_RELEASE_VERSION)
#define QFORGE_PLUGIN_ABSL_ "absl-" QFORGE_PLUGIN_STR(ABSL_LTS_RELEASE_VERSION)
#else
#define QFORGE_PLUGIN_ABSL_ "absl-head"
#endif

// The ABI version a plugin is compiled with, e.g.
// "qforge-0.1.0/gcc-12/libstdc++-cxx11/absl-20220623".
#define QFORGE_PLUGIN_ABI_VERSION                             \
  "qforge-" QFORGE_VERSION_STRING "/" QFORGE_PLUGIN_COMPILER_ \
  "/" QFORGE_PLUGIN_STDLIB_ "/" QFORGE_PLUGIN_ABSL_

namespace qforge {

// What a plugin's entry point returns. abi_version stays the first member,
// a C string, in every qforge version: the loader reads it before trusting
// anything else in the descriptor.
struct PluginDescriptor {
  const char* abi_version;  // QFORGE_PLUGIN_ABI_VERSION of the plugin's build.
  const char* name;         // e.g. "anchor_boxes".
  const char* version;      // The plugin's own version, e.g. "1.0.0".
  // Registers the plugin's ops. Runs inside a Registry::Transaction.
  absl::Status (*register_fn)(Registry& registry);
};

// The name of the entry point a shared-library plugin exports:
//   extern "C" const qforge::PluginDescriptor* qforge_plugin_descriptor();
inline constexpr char kPluginEntryPoint[] = "qforge_plugin_descriptor";
using PluginEntryPoint = const PluginDescriptor* (*)();

// What was registered.
struct PluginInfo {
  std::string name;
  std::string version;
  std::string path;  // Empty for a statically linked plugin.
};

// The ABI version of this qforge build (QFORGE_PLUGIN_ABI_VERSION as the
// library was compiled).
QFORGE_EXPORT const char* PluginAbiVersion();

// Registers a statically linked plugin, all-or-nothing. FailedPrecondition
// when its ABI version differs; its register function's error otherwise.
QFORGE_EXPORT absl::Status RegisterPlugin(const PluginDescriptor& plugin,
                                          Registry& registry);

// Loads a shared-library plugin (dlopen) and registers it, all-or-nothing.
// NotFound when the file cannot be loaded or has no entry point,
// FailedPrecondition on an ABI mismatch; the library is unloaded again on
// any error. On success it stays loaded for the life of the process.
QFORGE_EXPORT absl::StatusOr<PluginInfo> LoadPlugin(absl::string_view path,
                                                    Registry& registry);

}  // namespace qforge

// Defines `const ::qforge::PluginDescriptor& accessor()` (in the enclosing
// namespace) describing a plugin; when compiled with QFORGE_PLUGIN_MODULE
// defined (a shared-library build), also the extern "C" entry point.
#define QFORGE_DEFINE_PLUGIN(accessor, name, version, register_fn) \
  const ::qforge::PluginDescriptor& accessor() {                   \
    static const ::qforge::PluginDescriptor descriptor{            \
        QFORGE_PLUGIN_ABI_VERSION, name, version, register_fn};    \
    return descriptor;                                             \
  }                                                                \
  QFORGE_PLUGIN_ENTRY_POINT_(accessor)

#if defined(QFORGE_PLUGIN_MODULE)
#define QFORGE_PLUGIN_ENTRY_POINT_(accessor)        \
  extern "C" __attribute__((visibility("default"))) \
  const ::qforge::PluginDescriptor*                 \
  qforge_plugin_descriptor() {                      \
    return &accessor();                             \
  }
#else
#define QFORGE_PLUGIN_ENTRY_POINT_(accessor) \
  static_assert(true, "no entry point in a static build")
#endif

#endif  // QFORGE_PLUGIN_H_
