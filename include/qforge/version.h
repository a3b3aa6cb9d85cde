// qforge's version, for code that must know which qforge it is built against
// (the plugin ABI version in plugin.h includes it). Kept equal to the
// project() VERSION in the top-level CMakeLists.txt; a test checks that.
#ifndef QFORGE_VERSION_H_
#define QFORGE_VERSION_H_

#define QFORGE_VERSION_MAJOR 0
#define QFORGE_VERSION_MINOR 1
#define QFORGE_VERSION_PATCH 0
#define QFORGE_VERSION_STRING "0.1.0"

#endif  // QFORGE_VERSION_H_
