#include "kernels/int8/fast/isa.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define QFORGE_X86_CPUID 1
#endif

namespace qforge::kernels::int8::fast {
namespace {

struct CpuFeatures {
  bool avx2 = false;
  bool avxvnni = false;
  bool avx512vnni = false;
};

#ifdef QFORGE_X86_CPUID
uint64_t ReadXcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

CpuFeatures Detect() {
  CpuFeatures f;
#ifdef QFORGE_X86_CPUID
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = (ecx >> 27) & 1;
  const bool avx = (ecx >> 28) & 1;
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = ReadXcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;    // SSE + AVX state
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;  // + opmask, ZMM_Hi256, Hi16
  if (!ymm_state) return f;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  unsigned b7 = 0, c7 = 0, d7 = 0, a7 = 0;
  __cpuid_count(7, 0, a7, b7, c7, d7);
  f.avx2 = (b7 >> 5) & 1;
  const bool avx512f = (b7 >> 16) & 1;
  const bool avx512bw = (b7 >> 30) & 1;
  const bool avx512vl = (b7 >> 31) & 1;
  const bool avx512_vnni = (c7 >> 11) & 1;
  f.avx512vnni =
      f.avx2 && zmm_state && avx512f && avx512bw && avx512vl && avx512_vnni;
  unsigned a71 = 0, b71 = 0, c71 = 0, d71 = 0;
  if (a7 >= 1) {
    __cpuid_count(7, 1, a71, b71, c71, d71);
    f.avxvnni = f.avx2 && ((a71 >> 4) & 1);
  }
#endif
  return f;
}

const CpuFeatures& Features() {
  static const CpuFeatures features = Detect();
  return features;
}

// -1: no override; else the Isa value.
std::atomic<int> g_override{-1};

std::string SupportedList() {
  std::string out;
  for (Isa isa : kAllIsas) {
    if (CpuHasIsa(isa))
      absl::StrAppend(&out, out.empty() ? "" : ", ", IsaName(isa));
  }
  return out;
}

absl::Status Unsupported(Isa isa, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": this CPU cannot run ", IsaName(isa),
                   " kernels (it supports: ", SupportedList(), ")"));
}

}  // namespace

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvxVnni:
      return "avxvnni";
    case Isa::kAvx512Vnni:
      return "avx512vnni";
  }
  return "unknown";
}

absl::StatusOr<Isa> ParseIsa(absl::string_view name) {
  for (Isa isa : kAllIsas) {
    if (name == IsaName(isa)) return isa;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown ISA '", name,
                   "'; expected one of scalar, avx2, avxvnni, avx512vnni"));
}

bool CpuHasIsa(Isa isa) {
  const CpuFeatures& f = Features();
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kAvx2:
      return f.avx2;
    case Isa::kAvxVnni:
      return f.avxvnni;
    case Isa::kAvx512Vnni:
      return f.avx512vnni;
  }
  return false;
}

Isa BestCpuIsa() {
  if (CpuHasIsa(Isa::kAvx512Vnni)) return Isa::kAvx512Vnni;
  if (CpuHasIsa(Isa::kAvxVnni)) return Isa::kAvxVnni;
  if (CpuHasIsa(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kScalar;
}

absl::StatusOr<Isa> ResolveIsaSetting(const char* value) {
  if (value == nullptr || *value == '\0') return BestCpuIsa();
  absl::StatusOr<Isa> isa = ParseIsa(value);
  if (!isa.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("QFORGE_ISA: ", isa.status().message()));
  }
  if (!CpuHasIsa(*isa)) {
    return Unsupported(*isa, absl::StrCat("QFORGE_ISA=", value));
  }
  return *isa;
}

absl::StatusOr<Isa> ActiveIsa() {
  const int forced = g_override.load(std::memory_order_relaxed);
  if (forced >= 0) return static_cast<Isa>(forced);
  static const absl::StatusOr<Isa> from_env =
      ResolveIsaSetting(std::getenv("QFORGE_ISA"));
  return from_env;
}

absl::Status SetIsaForTesting(std::optional<Isa> isa) {
  if (!isa.has_value()) {
    g_override.store(-1);
    return absl::OkStatus();
  }
  if (!CpuHasIsa(*isa)) return Unsupported(*isa, "SetIsaForTesting");
  g_override.store(static_cast<int>(*isa));
  return absl::OkStatus();
}

}  // namespace qforge::kernels::int8::fast
