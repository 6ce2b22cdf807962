// SPDX-License-Identifier: Apache-2.0
// constellation.RaftNode: one member of a Raft group with linearizable KV and fenced leases.
#include "bindings.hpp"

#include <constellation/raft.hpp>

#include <pybind11/chrono.h>
#include <pybind11/stl.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

namespace constellation::python {

namespace {

using ms = std::chrono::milliseconds;

// Runs a blocking call with the GIL released, then raises or returns.
template <class F>
auto blocking(F&& f) {
  std::optional<decltype(f())> r;
  {
    py::gil_scoped_release release;
    r.emplace(f());
  }
  return unwrap(std::move(*r));
}

RaftNode::Timeout timeout_of(std::optional<double> seconds) {
  if (!seconds) return std::nullopt;
  return ms(static_cast<std::int64_t>(*seconds * 1000));
}

double seconds_left(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(t - std::chrono::steady_clock::now()).count();
}

// The answer to an asynchronous request, filled in on the node's loop and read from Python.
// The loop never takes the GIL (it may be held by a thread that is stopping the node); Python
// waits with the GIL released.
template <class T>
class Pending {
 public:
  void set(Result<T> r) {
    {
      std::lock_guard<std::mutex> g(mu_);
      value_.emplace(std::move(r));
    }
    cv_.notify_all();
  }
  bool done() {
    std::lock_guard<std::mutex> g(mu_);
    return value_.has_value();
  }
  // The value, or raises its error; TimeoutError (Python's) when it is not there in time.
  T result(std::optional<double> timeout) {
    std::optional<Result<T>> r;
    {
      py::gil_scoped_release release;
      std::unique_lock<std::mutex> g(mu_);
      auto ready = [this] { return value_.has_value(); };
      if (timeout) {
        cv_.wait_for(g, std::chrono::duration<double>(*timeout), ready);
      } else {
        cv_.wait(g, ready);
      }
      if (value_) r = *value_;
    }
    if (!r) {
      PyErr_SetString(PyExc_TimeoutError, "the request has not been answered yet (the timeout passed)");
      throw py::error_already_set();
    }
    return unwrap(std::move(*r));
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Result<T>> value_;
};

template <class T>
void bind_pending(py::module_& m, const char* name, const char* doc) {
  py::class_<Pending<T>, std::shared_ptr<Pending<T>>>(m, name, doc)
      .def("done", &Pending<T>::done, "Whether the answer arrived.")
      .def("result", &Pending<T>::result, py::arg("timeout") = py::none(),
           "Waits for the answer (at most timeout seconds) and returns it or raises its error;\n"
           "TimeoutError when the timeout passed first (the request may still complete).");
}

}  // namespace

void bind_raft(py::module_& m) {
  py::class_<KvEntry>(m, "KvEntry", "A key's value and revisions (Raft indexes of its writes).")
      .def_readonly("key", &KvEntry::key)
      .def_property_readonly("value", [](const KvEntry& e) { return py::bytes(e.value); })
      .def_readonly("create_revision", &KvEntry::create_revision)
      .def_readonly("mod_revision", &KvEntry::mod_revision)
      .def_readonly("version", &KvEntry::version)
      .def("__repr__", [](const KvEntry& e) {
        return "KvEntry(key=" + e.key + ", mod_revision=" + std::to_string(e.mod_revision) + ")";
      });
  py::class_<LeaseGrant>(m, "LeaseGrant", "A granted lease with its fencing token.")
      .def_readonly("name", &LeaseGrant::name)
      .def_readonly("holder", &LeaseGrant::holder)
      .def_readonly("token", &LeaseGrant::token, "Strictly increasing per name; attach it to protected actions.")
      .def_readonly("expiry_cluster_ns", &LeaseGrant::expiry_cluster_ns)
      .def_property_readonly("valid_for", [](const LeaseGrant& g) { return seconds_left(g.valid_until); },
                             "Seconds from now during which the holder may act (negative: stop).");
  py::class_<LeaseInfo>(m, "LeaseInfo")
      .def_readonly("name", &LeaseInfo::name)
      .def_readonly("holder", &LeaseInfo::holder)
      .def_readonly("token", &LeaseInfo::token)
      .def_readonly("expiry_cluster_ns", &LeaseInfo::expiry_cluster_ns)
      .def_readonly("held", &LeaseInfo::held);
  py::class_<RaftStatus>(m, "RaftStatus")
      .def_readonly("id", &RaftStatus::id)
      .def_readonly("role", &RaftStatus::role)
      .def_readonly("leader", &RaftStatus::leader)
      .def_readonly("term", &RaftStatus::term)
      .def_readonly("commit_index", &RaftStatus::commit_index)
      .def_readonly("applied_index", &RaftStatus::applied_index)
      .def_readonly("cluster_time", &RaftStatus::cluster_time)
      .def_readonly("voters", &RaftStatus::voters)
      .def_readonly("learners", &RaftStatus::learners)
      .def_readonly("damage", &RaftStatus::damage);

  bind_pending<std::uint64_t>(m, "PendingWrite", "The answer to put_async(): result() is the revision.");
  bind_pending<LeaseGrant>(m, "PendingLease", "The answer to acquire_async()/renew_async(): result() is the LeaseGrant.");
  py::class_<RaftNode>(m, "RaftNode",
                       "One member of a Raft group (1, 3 or 5 voters) with a linearizable KV store and\n"
                       "leases with fencing tokens. Blocking calls release the GIL. Use as a context\n"
                       "manager or call stop().")
      .def(py::init([](std::uint64_t id, std::string data_dir, std::map<std::uint64_t, std::string> voters,
                       std::string listen_address, std::string cluster_key, bool join, int tick_ms, int election_ticks,
                       int heartbeat_ticks, int request_timeout_ms, std::string log_level) {
             RaftOptions o;
             o.id = id;
             o.data_dir = std::move(data_dir);
             o.voters = std::move(voters);
             o.listen_address = std::move(listen_address);
             o.cluster_key = std::move(cluster_key);
             o.join = join;
             o.tick = ms(tick_ms);
             o.election_ticks = election_ticks;
             o.heartbeat_ticks = heartbeat_ticks;
             o.request_timeout = ms(request_timeout_ms);
             o.log_level = std::move(log_level);
             return blocking([&] { return RaftNode::open(std::move(o)); });
           }),
           py::kw_only(), py::arg("id") = 1, py::arg("data_dir") = "constellation-raft",
           py::arg("voters") = std::map<std::uint64_t, std::string>{},
           py::arg("listen_address") = "", py::arg("cluster_key") = "", py::arg("join") = false, py::arg("tick_ms") = 50,
           py::arg("election_ticks") = 10, py::arg("heartbeat_ticks") = 2, py::arg("request_timeout_ms") = 5000,
           py::arg("log_level") = "warn",
           "Opens the data directory and starts the node. voters maps every voter's id to its\n"
           "'host:port'. Raises InvalidArgumentError, IoError, UnavailableError, CorruptError.")
      .def("put", [](RaftNode& n, const std::string& k, const py::bytes& v, std::optional<double> t) {
             std::string value = v;
             return blocking([&] { return n.put(k, value, timeout_of(t)); });
           }, py::arg("key"), py::arg("value"), py::arg("timeout") = py::none(), "Writes key = value; returns the revision.")
      .def("compare_and_set", [](RaftNode& n, const std::string& k, const py::bytes& v, std::uint64_t expected,
                                 std::optional<double> t) {
             std::string value = v;
             return blocking([&] { return n.compare_and_set(k, value, expected, timeout_of(t)); });
           }, py::arg("key"), py::arg("value"), py::arg("expected_revision"), py::arg("timeout") = py::none(),
           "Writes only at expected_revision (0: the key must not exist). Raises ConflictError.")
      .def("delete", [](RaftNode& n, const std::string& k, std::optional<std::uint64_t> expected, std::optional<double> t) {
             return blocking([&] { return n.erase(k, expected, timeout_of(t)); });
           }, py::arg("key"), py::arg("expected_revision") = py::none(), py::arg("timeout") = py::none())
      .def("get", [](RaftNode& n, const std::string& k, std::optional<double> t) {
             return blocking([&] { return n.get(k, timeout_of(t)); });
           }, py::arg("key"), py::arg("timeout") = py::none(), "Linearizable read. Raises NotFoundError.")
      .def("list", [](RaftNode& n, const std::string& prefix, std::size_t limit, std::optional<double> t) {
             return blocking([&] { return n.list(prefix, limit, timeout_of(t)); });
           }, py::arg("prefix") = "", py::arg("limit") = 0, py::arg("timeout") = py::none())
      .def("watch", [](RaftNode& n, const std::string& prefix, std::uint64_t after, double wait) {
             auto events = blocking([&] { return n.watch(prefix, after, ms(static_cast<std::int64_t>(wait * 1000))); });
             py::list out;
             for (const auto& e : events) {
               out.append(py::make_tuple(e.kind == WatchEvent::Kind::Put ? "put" : "delete", e.revision, e.kv.key,
                                         py::bytes(e.kv.value)));
             }
             return out;
           }, py::arg("prefix"), py::arg("after_revision"), py::arg("wait"),
           "Blocks up to `wait` seconds for changes under prefix after a revision; returns a list of\n"
           "(kind, revision, key, value) tuples (empty on timeout).")
      .def("acquire", [](RaftNode& n, const std::string& name, const std::string& holder, double ttl, double lock_delay,
                         std::optional<double> t) {
             return blocking([&] {
               return n.acquire(name, holder, ms(static_cast<std::int64_t>(ttl * 1000)),
                                ms(static_cast<std::int64_t>(lock_delay * 1000)), timeout_of(t));
             });
           }, py::arg("name"), py::arg("holder"), py::arg("ttl"), py::arg("lock_delay") = 0.0, py::arg("timeout") = py::none(),
           "Acquires a lease for ttl seconds of cluster time. Raises ConflictError when held.")
      .def("put_async", [](RaftNode& n, const std::string& k, const py::bytes& v, std::optional<double> t) {
             auto p = std::make_shared<Pending<std::uint64_t>>();
             n.put_async(k, std::string(v), [p](Result<std::uint64_t> r) { p->set(std::move(r)); }, timeout_of(t));
             return p;
           }, py::arg("key"), py::arg("value"), py::arg("timeout") = py::none(),
           "put() without waiting: returns a PendingWrite whose result() is the revision.")
      .def("acquire_async", [](RaftNode& n, const std::string& name, const std::string& holder, double ttl,
                               double lock_delay, std::optional<double> t) {
             auto p = std::make_shared<Pending<LeaseGrant>>();
             n.acquire_async(name, holder, ms(static_cast<std::int64_t>(ttl * 1000)),
                             ms(static_cast<std::int64_t>(lock_delay * 1000)),
                             [p](Result<LeaseGrant> r) { p->set(std::move(r)); }, timeout_of(t));
             return p;
           }, py::arg("name"), py::arg("holder"), py::arg("ttl"), py::arg("lock_delay") = 0.0, py::arg("timeout") = py::none(),
           "acquire() without waiting: returns a PendingLease whose result() is the LeaseGrant.")
      .def("renew_async", [](RaftNode& n, const std::string& name, const std::string& holder, std::uint64_t token,
                             std::optional<double> t) {
             auto p = std::make_shared<Pending<LeaseGrant>>();
             n.renew_async(name, holder, token, [p](Result<LeaseGrant> r) { p->set(std::move(r)); }, timeout_of(t));
             return p;
           }, py::arg("name"), py::arg("holder"), py::arg("token"), py::arg("timeout") = py::none(),
           "renew() without waiting: returns a PendingLease.")
      .def("renew", [](RaftNode& n, const std::string& name, const std::string& holder, std::uint64_t token,
                       std::optional<double> t) { return blocking([&] { return n.renew(name, holder, token, timeout_of(t)); }); },
           py::arg("name"), py::arg("holder"), py::arg("token"), py::arg("timeout") = py::none())
      .def("release", [](RaftNode& n, const std::string& name, const std::string& holder, std::uint64_t token,
                         std::optional<double> t) { blocking([&] { return n.release(name, holder, token, timeout_of(t)); }); },
           py::arg("name"), py::arg("holder"), py::arg("token"), py::arg("timeout") = py::none())
      .def("lease", [](RaftNode& n, const std::string& name, std::optional<double> t) {
             return blocking([&] { return n.lease(name, timeout_of(t)); });
           }, py::arg("name"), py::arg("timeout") = py::none())
      .def_property_readonly("status", &RaftNode::status)
      .def_property_readonly("revision", &RaftNode::revision)
      .def_property_readonly("raft_port", &RaftNode::raft_port)
      .def("set_peer_address", &RaftNode::set_peer_address, py::arg("id"), py::arg("address"))
      .def("add_voter", [](RaftNode& n, std::uint64_t id, const std::string& address, std::optional<double> t) {
             blocking([&] { return n.add_voter(id, address, timeout_of(t)); });
           }, py::arg("id"), py::arg("address"), py::arg("timeout") = py::none())
      .def("add_learner", [](RaftNode& n, std::uint64_t id, const std::string& address, std::optional<double> t) {
             blocking([&] { return n.add_learner(id, address, timeout_of(t)); });
           }, py::arg("id"), py::arg("address"), py::arg("timeout") = py::none())
      .def("remove_member", [](RaftNode& n, std::uint64_t id, std::optional<double> t) {
             blocking([&] { return n.remove_member(id, timeout_of(t)); });
           }, py::arg("id"), py::arg("timeout") = py::none())
      .def("wait_for_leader", [](RaftNode& n, std::optional<double> t) {
             return blocking([&] { return n.wait_for_leader(timeout_of(t)); });
           }, py::arg("timeout") = py::none())
      .def("transfer_leadership", [](RaftNode& n, std::uint64_t target, std::optional<double> t) {
             blocking([&] { return n.transfer_leadership(target, timeout_of(t)); });
           }, py::arg("target") = 0, py::arg("timeout") = py::none())
      .def_static("recover", [](const std::string& dir, const std::vector<std::uint64_t>& voters) {
             blocking([&] { return RaftNode::recover(dir, voters); });
           }, py::arg("data_dir"), py::arg("voters"),
           "Recovery after losing a majority: rewrites a stopped node's log with `voters` as the\n"
           "committed configuration (docs/raft.md).")
      .def("stop", [](RaftNode& n) {
             py::gil_scoped_release release;
             n.stop();
           }, "Stops the node (a leader hands leadership over first). Idempotent.")
      .def("__enter__", [](RaftNode& n) -> RaftNode& { return n; }, py::return_value_policy::reference)
      .def("__exit__", [](RaftNode& n, py::args) {
        py::gil_scoped_release release;
        n.stop();
        return false;
      });
}

}  // namespace constellation::python
