// Registry: everything qforge knows about ops, in one object.
//
// A Registry holds the op schemas (shape and dtype rules), the kernels that
// run ops, and (with the quantization layer) the op quantizers. A user
// creates one, fills it with RegisterBuiltins() and any plugins, and passes
// it to loading, execution and quantization. It is filled by explicit calls,
// never by static initializers. Each table rejects duplicates and offers an
// explicit Replace(); lookups are thread-safe.
//
// Transaction() makes a group of registrations all-or-nothing: this is how
// plugins are registered (plugin.h), so that a plugin that fails halfway
// leaves the registry exactly as it was.
#ifndef QFORGE_REGISTRY_H_
#define QFORGE_REGISTRY_H_

#include <functional>

#include "absl/status/status.h"
#include "qforge/core/export.h"
#include "qforge/ir/op_schema.h"
#include "qforge/quantize/quantizer.h"
#include "qforge/runtime/kernel.h"

namespace qforge {

class QFORGE_EXPORT Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  OpSchemaTable& schemas() { return schemas_; }
  const OpSchemaTable& schemas() const { return schemas_; }
  KernelTable& kernels() { return kernels_; }
  const KernelTable& kernels() const { return kernels_; }
  QuantizerTable& quantizers() { return quantizers_; }
  const QuantizerTable& quantizers() const { return quantizers_; }

  // Runs `change` all-or-nothing. When it returns an error (or throws), every
  // table is restored: entries it added are removed, entries it replaced or
  // removed come back as the very same objects (pointers obtained before stay
  // valid), and its error is returned. Transactions nest. Lookups from other
  // threads meanwhile are safe but may see the pending entries; do not
  // register into the same registry from another thread while one runs.
  absl::Status Transaction(const std::function<absl::Status(Registry&)>& change);

 private:
  OpSchemaTable schemas_;
  KernelTable kernels_;
  QuantizerTable quantizers_;
};

// Registers the schemas, float reference kernels, int8 kernels and
// quantizers of qforge's op set.
// Returns AlreadyExists if any of them is already registered.
QFORGE_EXPORT absl::Status RegisterBuiltins(Registry& registry);

}  // namespace qforge

#endif  // QFORGE_REGISTRY_H_
