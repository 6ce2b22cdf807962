// SPDX-License-Identifier: Apache-2.0
// Checks a history (JSON lines, see sim/linearizability.hpp) recorded by a real-process test for
// linearizability. Exit 0: linearizable; 1: not (the explanation is printed); 2: bad input.
#include "sim/linearizability.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: lincheck history.jsonl\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string err;
  auto h = constellation::sim::history_from_jsonl(ss.str(), &err);
  if (!err.empty()) {
    std::cerr << argv[1] << ": " << err << "\n";
    return 2;
  }
  auto r = constellation::sim::check_linearizable(h);
  std::cout << h.size() << " operations, " << r.states_explored << " states explored"
            << (r.inconclusive ? " (search budget exhausted on some key)" : "") << "\n";
  if (!r.linearizable) {
    std::cout << "NOT linearizable on " << r.key << ": " << r.explanation << "\n";
    return 1;
  }
  std::cout << "linearizable\n";
  return 0;
}
