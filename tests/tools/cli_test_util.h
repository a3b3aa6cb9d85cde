// Running the qforge binary from a test: a fixture with a scratch folder,
// Cli(args) capturing exit status, stdout and stderr, and the check that an
// error is exactly one "qforge: error: ..." line. Needs QFORGE_CLI_PATH.
#ifndef QFORGE_TESTS_TOOLS_CLI_TEST_UTIL_H_
#define QFORGE_TESTS_TOOLS_CLI_TEST_UTIL_H_

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace qforge::testing {

struct CliResult {
  bool exited = false;  // False when killed by a signal (a crash).
  int code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// `s` single-quoted for the shell.
inline std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

class CliFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    dir_ = absl::StrCat(::testing::TempDir(), "/qforge_cli_", ::getpid(), "_", name);
    ::mkdir(dir_.c_str(), 0755);
  }
  void TearDown() override { std::system(absl::StrCat("rm -rf ", Quote(dir_)).c_str()); }

  std::string Path(const std::string& file) const { return dir_ + "/" + file; }

  CliResult Cli(const std::vector<std::string>& args) {
    std::string cmd = Quote(QFORGE_CLI_PATH);
    for (const std::string& a : args) absl::StrAppend(&cmd, " ", Quote(a));
    const std::string out = Path("stdout.txt");
    const std::string err = Path("stderr.txt");
    absl::StrAppend(&cmd, " >", Quote(out), " 2>", Quote(err));
    const int status = std::system(cmd.c_str());
    CliResult r;
    r.exited = WIFEXITED(status);
    r.code = r.exited ? WEXITSTATUS(status) : -1;
    r.out = ReadAll(out);
    r.err = ReadAll(err);
    return r;
  }

  // Exit status 1 and exactly one stderr line "qforge: error: ...".
  static void ExpectOneLineError(const CliResult& r, const std::string& must_contain) {
    EXPECT_TRUE(r.exited) << "the CLI crashed: " << r.err;
    EXPECT_EQ(r.code, 1);
    EXPECT_THAT(r.err, ::testing::StartsWith("qforge: error: "));
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    EXPECT_THAT(r.err, ::testing::HasSubstr(must_contain));
  }

  std::string dir_;
};

}  // namespace qforge::testing

#endif  // QFORGE_TESTS_TOOLS_CLI_TEST_UTIL_H_
