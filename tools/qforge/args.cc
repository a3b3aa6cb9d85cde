#include "args.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace qforge::cli {

ArgParser::ArgParser(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

void ArgParser::AddPositional(std::string name, std::string help,
                              std::string* out) {
  positionals_.push_back({std::move(name), std::move(help), out});
}

void ArgParser::AddFlag(std::string name, std::string help, bool* out) {
  Option o;
  o.name = std::move(name);
  o.help = std::move(help);
  o.kind = Kind::kFlag;
  o.flag = out;
  options_.push_back(std::move(o));
}

void ArgParser::AddOption(std::string name, std::string value_name,
                          std::string help, std::string* out, bool required) {
  Option o;
  o.name = std::move(name);
  o.value_name = std::move(value_name);
  o.help = std::move(help);
  o.kind = Kind::kOption;
  o.required = required;
  o.value = out;
  options_.push_back(std::move(o));
}

void ArgParser::AddRepeated(std::string name, std::string value_name,
                            std::string help, std::vector<std::string>* out) {
  Option o;
  o.name = std::move(name);
  o.value_name = std::move(value_name);
  o.help = std::move(help);
  o.kind = Kind::kRepeated;
  o.values = out;
  options_.push_back(std::move(o));
}

ArgParser::Option* ArgParser::Find(const std::string& name) {
  for (Option& o : options_) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

absl::Status ArgParser::Parse(const std::vector<std::string>& args) {
  size_t next_positional = 0;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!options_done && (arg == "--help" || arg == "-h")) {
      help_requested_ = true;
      return absl::OkStatus();
    }
    if (!options_done && arg == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      std::string name = arg.substr(2);
      std::string value;
      bool has_value = false;
      const size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      Option* o = Find(name);
      if (o == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown option '--", name, "' for '", command_,
                         "' (see ", command_, " --help)"));
      }
      if (o->kind == Kind::kFlag) {
        if (has_value) {
          return absl::InvalidArgumentError(
              absl::StrCat("option '--", name, "' takes no value"));
        }
        *o->flag = true;
        o->seen = true;
        continue;
      }
      if (!has_value) {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "option '--", name, "' needs a value (", o->value_name, ")"));
        }
        value = args[++i];
      }
      if (o->kind == Kind::kOption) {
        if (o->seen) {
          return absl::InvalidArgumentError(
              absl::StrCat("option '--", name, "' is given twice"));
        }
        *o->value = value;
      } else {
        o->values->push_back(value);
      }
      o->seen = true;
      continue;
    }
    if (!options_done && arg.size() > 1 && arg[0] == '-' && arg != "-") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option '", arg, "' for '", command_, "' (see ",
                       command_, " --help)"));
    }
    if (next_positional >= positionals_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "' for '", command_,
                       "' (see ", command_, " --help)"));
    }
    *positionals_[next_positional++].out = arg;
  }
  if (next_positional < positionals_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing ", positionals_[next_positional].name, " for '",
                     command_, "' (see ", command_, " --help)"));
  }
  for (const Option& o : options_) {
    if (o.required && !o.seen) {
      return absl::InvalidArgumentError(absl::StrCat("missing option '--",
                                                     o.name, " ", o.value_name,
                                                     "' for '", command_, "'"));
    }
  }
  return absl::OkStatus();
}

std::string ArgParser::Help() const {
  std::string usage = absl::StrCat("Usage: ", command_);
  for (const Positional& p : positionals_) absl::StrAppend(&usage, " ", p.name);
  for (const Option& o : options_) {
    switch (o.kind) {
      case Kind::kFlag:
        absl::StrAppend(&usage, " [--", o.name, "]");
        break;
      case Kind::kOption:
        absl::StrAppend(&usage, o.required ? " --" : " [--", o.name, " ",
                        o.value_name, o.required ? "" : "]");
        break;
      case Kind::kRepeated:
        absl::StrAppend(&usage, " [--", o.name, " ", o.value_name, "]...");
        break;
    }
  }
  std::string out = absl::StrCat(usage, "\n\n", summary_, "\n");
  size_t width = 6;  // "--help"
  for (const Positional& p : positionals_)
    width = std::max(width, p.name.size());
  auto label = [](const Option& o) {
    return o.kind == Kind::kFlag
               ? absl::StrCat("--", o.name)
               : absl::StrCat("--", o.name, " ", o.value_name);
  };
  for (const Option& o : options_) width = std::max(width, label(o).size());
  if (!positionals_.empty()) {
    absl::StrAppend(&out, "\nArguments:\n");
    for (const Positional& p : positionals_) {
      absl::StrAppend(&out,
                      absl::StrFormat("  %-*s  %s\n", width, p.name, p.help));
    }
  }
  absl::StrAppend(&out, "\nOptions:\n");
  for (const Option& o : options_) {
    absl::StrAppend(&out,
                    absl::StrFormat("  %-*s  %s\n", width, label(o), o.help));
  }
  absl::StrAppend(&out, absl::StrFormat("  %-*s  %s\n", width, "--help",
                                        "show this help and exit"));
  return out;
}

}  // namespace qforge::cli
