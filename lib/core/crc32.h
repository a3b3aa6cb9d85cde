// CRC-32 (IEEE 802.3 polynomial, reflected, as zlib and PNG compute it), used
// to detect corrupt or truncated files (.npz entries, calibration stats).
#ifndef QFORGE_LIB_CORE_CRC32_H_
#define QFORGE_LIB_CORE_CRC32_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace qforge::internal {

uint32_t Crc32(absl::string_view data);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_CORE_CRC32_H_
