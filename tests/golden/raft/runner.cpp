// SPDX-License-Identifier: Apache-2.0
// Data-driven transcripts of the Raft core (etcd-raft's interaction tests, in our own format).
// A script is a sequence of commands, each on a line starting with "> "; the lines after a
// command are its expected output. Lines starting with "#" and blank lines are kept as they are.
//
//   golden_raft [--rewrite] script.txt...
//
// Without --rewrite the transcript is regenerated and compared; a difference fails with both
// versions printed. With --rewrite the files are rewritten (review the diff before committing).
//
// Commands: add-nodes N [prevote=0|1] [checkquorum=0|1] [chunk=BYTES] | add-node ID (learner-to-be,
// with node 1's configuration) | campaign ID | tick ID [N] | tick-all [N] | propose ID DATA |
// process-ready ID | deliver | stabilize | isolate ID | cut A B | heal | drop TYPE|none |
// crash ID | restart ID | status ID | log ID | transfer ID TARGET | read-index ID CTX |
// conf-change ID add-voter|add-learner|remove PEER | compact ID
#include "raft/types.hpp"
#include "sim/raft_harness.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace constellation;
using namespace constellation::raft;

namespace {

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string result_text(const Result<LogIndex>& r) {
  if (r) return "ok index=" + std::to_string(r->value()) + "\n";
  return "error: " + r.error().to_string() + "\n";
}
std::string result_text(const Result<void>& r) {
  if (r) return "ok\n";
  return "error: " + r.error().to_string() + "\n";
}

class Runner {
 public:
  std::string run(const std::string& line) {
    auto w = split(line);
    if (w.empty()) return "";
    const std::string& cmd = w[0];
    auto id = [&](std::size_t i) { return static_cast<PeerId>(std::stoull(w.at(i))); };
    auto num = [&](std::size_t i, int def) { return w.size() > i ? std::stoi(w[i]) : def; };
    if (cmd == "add-nodes") {
      bool prevote = true, checkquorum = true;
      std::size_t chunk = 0;
      for (std::size_t i = 2; i < w.size(); ++i) {
        if (w[i].rfind("prevote=", 0) == 0) prevote = w[i].back() == '1';
        if (w[i].rfind("checkquorum=", 0) == 0) checkquorum = w[i].back() == '1';
        if (w[i].rfind("chunk=", 0) == 0) chunk = std::stoul(w[i].substr(6));
      }
      h_ = std::make_unique<sim::RaftHarness>(std::stoul(w.at(1)), 1, [=](Config& c) {
        c.pre_vote = prevote;
        c.check_quorum = checkquorum;
        if (chunk) c.snapshot_chunk_bytes = chunk;
      });
      return "";
    }
    if (!h_) return "error: add-nodes first\n";
    sim::RaftHarness& h = *h_;
    std::string out;
    if (cmd == "add-node") {
      h.add_node(id(1), h.core(1).conf());
    } else if (cmd == "campaign") {
      h.campaign(id(1));
    } else if (cmd == "tick") {
      h.tick(id(1), num(2, 1));
    } else if (cmd == "tick-all") {
      h.tick_all(num(1, 1));
    } else if (cmd == "propose") {
      out += result_text(h.propose(id(1), w.at(2)));
    } else if (cmd == "process-ready") {
      h.process_ready(id(1));
    } else if (cmd == "deliver") {
      h.deliver();
    } else if (cmd == "stabilize") {
      h.stabilize();
    } else if (cmd == "isolate") {
      h.isolate(id(1));
    } else if (cmd == "cut") {
      h.cut(id(1), id(2));
    } else if (cmd == "heal") {
      h.heal();
    } else if (cmd == "drop") {
      const std::string t = w.at(1);
      if (t == "none") {
        h.drop_next(nullptr);
      } else {
        h.drop_next([t](const Message& m) { return t == msg_type_name(m.type); });
      }
    } else if (cmd == "crash") {
      h.crash(id(1));
    } else if (cmd == "restart") {
      h.restart(id(1));
    } else if (cmd == "status") {
      out += h.describe_status(id(1)) + "\n";
    } else if (cmd == "log") {
      out += h.describe_log(id(1));
    } else if (cmd == "transfer") {
      out += result_text(h.core(id(1)).transfer_leadership(id(2)));
    } else if (cmd == "read-index") {
      out += result_text(h.core(id(1)).read_index(std::stoull(w.at(2))));
    } else if (cmd == "conf-change") {
      ConfChange cc;
      const std::string k = w.at(2);
      cc.kind = k == "add-voter" ? ConfChange::Kind::AddVoter
                : k == "add-learner" ? ConfChange::Kind::AddLearner
                                     : ConfChange::Kind::Remove;
      cc.peer = id(3);
      out += result_text(h.core(id(1)).propose_conf_change(cc));
    } else if (cmd == "compact") {
      auto& n = h.node(id(1));
      out += result_text(h.core(id(1)).compact(LogIndex(n.machine.applied_index()),
                                               std::make_shared<const core::Bytes>(n.machine.snapshot())));
    } else {
      return "error: unknown command '" + cmd + "'\n";
    }
    return h.take_trace() + out;
  }

 private:
  std::unique_ptr<sim::RaftHarness> h_;
};

}  // namespace

int main(int argc, char** argv) {
  bool rewrite = false;
  int failures = 0;
  for (int a = 1; a < argc; ++a) {
    std::string path = argv[a];
    if (path == "--rewrite") {
      rewrite = true;
      continue;
    }
    std::ifstream in(path);
    if (!in) {
      std::cerr << path << ": cannot open\n";
      return 2;
    }
    std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream lines(original);
    std::string regenerated;
    Runner runner;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("> ", 0) == 0) {
        regenerated += line + "\n" + runner.run(line.substr(2));
      } else if (line.empty() || line[0] == '#') {
        regenerated += line + "\n";
      }
      // anything else is the previous output: dropped and regenerated
    }
    if (rewrite) {
      std::ofstream(path) << regenerated;
      std::cout << "rewrote " << path << "\n";
    } else if (regenerated != original) {
      std::cerr << path << ": transcript differs (rerun with --rewrite and review the diff)\n--- expected\n"
                << original << "--- actual\n"
                << regenerated;
      failures++;
    }
  }
  return failures == 0 ? 0 : 1;
}
