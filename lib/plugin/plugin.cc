// Plugin registration: ABI check, all-or-nothing registration, dlopen.
#include "qforge/plugin.h"

#include <dlfcn.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace qforge {
namespace {

std::string Quoted(const char* s) {
  return s == nullptr ? "(null)" : absl::StrCat("'", s, "'");
}

// Checks the descriptor and runs its register function in a transaction.
// `where` names the plugin for messages ("plugin 'x' (/path/libx.so)").
absl::Status RegisterDescriptor(const PluginDescriptor& plugin,
                                const std::string& where, Registry& registry) {
  if (plugin.abi_version == nullptr ||
      std::strcmp(plugin.abi_version, PluginAbiVersion()) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, " was built for plugin ABI ", Quoted(plugin.abi_version),
        " but this qforge is ", Quoted(PluginAbiVersion()),
        ": rebuild the plugin with the same compiler, standard library, "
        "Abseil and qforge version"));
  }
  if (plugin.register_fn == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " has no register function"));
  }
  absl::Status status = registry.Transaction(plugin.register_fn);
  if (!status.ok()) {
    return absl::Status(
        status.code(),
        absl::StrCat(where, ": registration failed, registry left unchanged: ",
                     status.message()));
  }
  return absl::OkStatus();
}

std::string Describe(const PluginDescriptor& plugin, absl::string_view path) {
  std::string s = absl::StrCat(
      "plugin '", plugin.name != nullptr ? plugin.name : "(unnamed)", "'");
  if (plugin.version != nullptr)
    absl::StrAppend(&s, " version ", plugin.version);
  if (!path.empty()) absl::StrAppend(&s, " (", path, ")");
  return s;
}

}  // namespace

const char* PluginAbiVersion() { return QFORGE_PLUGIN_ABI_VERSION; }

absl::Status RegisterPlugin(const PluginDescriptor& plugin,
                            Registry& registry) {
  return RegisterDescriptor(plugin, Describe(plugin, ""), registry);
}

absl::StatusOr<PluginInfo> LoadPlugin(absl::string_view path,
                                      Registry& registry) {
  const std::string file(path);
  // dlopen searches the library path for names without a slash; a plugin is
  // named by its file.
  const std::string open_name =
      file.find('/') == std::string::npos ? absl::StrCat("./", file) : file;
  dlerror();
  void* handle = dlopen(open_name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return absl::NotFoundError(
        absl::StrCat("cannot load plugin ", file, ": ",
                     err != nullptr ? err : "dlopen failed"));
  }
  dlerror();
  void* symbol = dlsym(handle, kPluginEntryPoint);
  if (symbol == nullptr) {
    const char* err = dlerror();
    std::string detail = err != nullptr ? err : "symbol is null";
    dlclose(handle);
    return absl::NotFoundError(absl::StrCat(
        "plugin ", file, " has no entry point '", kPluginEntryPoint, "' (",
        detail,
        "); define the plugin with QFORGE_DEFINE_PLUGIN and build it with "
        "QFORGE_PLUGIN_MODULE defined (qforge_add_plugin does)"));
  }
  const PluginEntryPoint entry = reinterpret_cast<PluginEntryPoint>(symbol);
  const PluginDescriptor* plugin = entry();
  if (plugin == nullptr) {
    dlclose(handle);
    return absl::InvalidArgumentError(
        absl::StrCat("plugin ", file, ": entry point '", kPluginEntryPoint,
                     "' returned null"));
  }
  // Only abi_version may be read before it is checked.
  const bool abi_ok = plugin->abi_version != nullptr &&
                      std::strcmp(plugin->abi_version, PluginAbiVersion()) == 0;
  const std::string where =
      abi_ok ? Describe(*plugin, file) : absl::StrCat("plugin ", file);
  absl::Status status = RegisterDescriptor(*plugin, where, registry);
  if (!status.ok()) {
    // The rollback already destroyed everything the plugin registered.
    dlclose(handle);
    return status;
  }
  return PluginInfo{plugin->name != nullptr ? plugin->name : "",
                    plugin->version != nullptr ? plugin->version : "", file};
}

}  // namespace qforge
