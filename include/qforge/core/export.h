// Symbol visibility for the qforge shared library.
//
// qforge is built with hidden visibility; every public class or function that
// an application may call is marked QFORGE_EXPORT.
#ifndef QFORGE_CORE_EXPORT_H_
#define QFORGE_CORE_EXPORT_H_

#define QFORGE_EXPORT __attribute__((visibility("default")))

#endif  // QFORGE_CORE_EXPORT_H_
