// A small command-line parser for the qforge tool.
//
// Each command declares its positional arguments, flags (--json), options
// taking a value (--output-dir DIR or --output-dir=DIR) and repeatable
// options (--input NAME=FILE ...). Parse() fills the bound variables and
// reports usage errors as InvalidArgument; --help / -h sets help_requested()
// and stops parsing. Help() renders the usage text.
#ifndef QFORGE_TOOLS_QFORGE_ARGS_H_
#define QFORGE_TOOLS_QFORGE_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace qforge::cli {

class ArgParser {
 public:
  // `command` such as "qforge run"; `summary` is one line.
  ArgParser(std::string command, std::string summary);

  // A required positional argument.
  void AddPositional(std::string name, std::string help, std::string* out);
  // A boolean flag such as --json.
  void AddFlag(std::string name, std::string help, bool* out);
  // An option with one value; `required` makes its absence an error.
  void AddOption(std::string name, std::string value_name, std::string help,
                 std::string* out, bool required = false);
  // An option that may be given several times.
  void AddRepeated(std::string name, std::string value_name, std::string help,
                   std::vector<std::string>* out);

  // Parses args (without the program and command names).
  absl::Status Parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_requested_; }
  std::string Help() const;

 private:
  enum class Kind { kFlag, kOption, kRepeated };
  struct Option {
    std::string name;  // Without the leading "--".
    std::string value_name;
    std::string help;
    Kind kind;
    bool required = false;
    bool seen = false;
    bool* flag = nullptr;
    std::string* value = nullptr;
    std::vector<std::string>* values = nullptr;
  };
  struct Positional {
    std::string name;
    std::string help;
    std::string* out;
  };
  Option* Find(const std::string& name);

  std::string command_;
  std::string summary_;
  std::vector<Positional> positionals_;
  std::vector<Option> options_;
  bool help_requested_ = false;
};

}  // namespace qforge::cli

#endif  // QFORGE_TOOLS_QFORGE_ARGS_H_
