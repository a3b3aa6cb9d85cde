// A shared library that is not a plugin: it exports a function, but not the
// entry point.
extern "C" __attribute__((visibility("default"))) int not_a_plugin_entry() {
  return 42;
}
