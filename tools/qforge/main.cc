// qforge command-line tool.
#include <iostream>

int main(int argc, char** argv) {
  std::cerr << "qforge: no command yet\n";
  return 1;
}
