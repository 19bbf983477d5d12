// uoprun: ahead-of-time compile and fixed-rate runs of models (see cli.h).
#include <iostream>
#include <string>
#include <vector>

#include "client/uoprun/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return uop::uoprun::RunUoprun(args, std::cout, std::cerr);
}
