// uopctl: the command-line client of uopd (see cli.h).
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "client/uopctl/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* url = std::getenv("UOPCTL_URL");
  return uop::uopctl::RunUopctl(args, url ? url : "", std::cout, std::cerr);
}
