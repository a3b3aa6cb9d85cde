// Runtime instruction-set dispatch for the fast INT8 kernels.
//
// The CPU is inspected once (cpuid + xgetbv: the instruction set and the
// OS-enabled register state). The ISA the kernels use is, in order:
//   1. the in-process override set by SetIsaForTesting (tests only),
//   2. the QFORGE_ISA environment variable (scalar|avx2|avxvnni|avx512vnni),
//      read once; an unknown value or an ISA this CPU lacks is an error that
//      ActiveIsa() returns (kernel preparation fails with that message),
//   3. the best ISA the CPU has.
// An op without a kernel for the chosen ISA uses the best lower one it has
// (every AVX-VNNI and AVX-512 VNNI CPU also has AVX2). The scalar ISA is the
// normative reference kernels of lib/kernels/int8/reference/.
#ifndef QFORGE_LIB_KERNELS_INT8_FAST_ISA_H_
#define QFORGE_LIB_KERNELS_INT8_FAST_ISA_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qforge::kernels::int8::fast {

// Ordered: a higher ISA implies the lower ones on every CPU we dispatch to.
enum class Isa { kScalar = 0, kAvx2 = 1, kAvxVnni = 2, kAvx512Vnni = 3 };

inline constexpr Isa kAllIsas[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvxVnni,
                                   Isa::kAvx512Vnni};

// "scalar", "avx2", "avxvnni", "avx512vnni".
const char* IsaName(Isa isa);

// Parses an ISA name (exact, lower case); InvalidArgument listing the valid
// names otherwise.
absl::StatusOr<Isa> ParseIsa(absl::string_view name);

// Whether this CPU and OS can run kernels of `isa` (detected once).
bool CpuHasIsa(Isa isa);

// The best ISA the CPU has.
Isa BestCpuIsa();

// The choice for a QFORGE_ISA value (nullptr: unset -> BestCpuIsa()).
// InvalidArgument for an unknown name or an ISA the CPU lacks.
absl::StatusOr<Isa> ResolveIsaSetting(const char* value);

// The ISA the kernels use now (see the header comment).
absl::StatusOr<Isa> ActiveIsa();

// Forces the ISA in this process (nullopt: back to QFORGE_ISA / the CPU's
// best). InvalidArgument when the CPU lacks it. Kernels read the ISA when
// they are prepared, so set it before Executor::Prepare.
absl::Status SetIsaForTesting(std::optional<Isa> isa);

}  // namespace qforge::kernels::int8::fast

#endif  // QFORGE_LIB_KERNELS_INT8_FAST_ISA_H_
