// SPDX-License-Identifier: Apache-2.0
// constellation.Gossip: one node of a SWIM + Lifeguard membership cluster.
#include "bindings.hpp"

#include <constellation/gossip.hpp>

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <optional>

namespace constellation::python {

namespace {

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

py::dict member_dict(const GossipMember& m) {
  py::dict d;
  d["name"] = m.name;
  d["address"] = m.address;
  d["state"] = m.state;
  d["incarnation"] = m.incarnation;
  d["state_map"] = m.state_map;
  return d;
}

// Deleting a node joins its thread, which may be waiting for the GIL in a subscriber: release it.
struct GilFreeDelete {
  void operator()(Gossip* g) const {
    if (PyGILState_Check()) {
      py::gil_scoped_release release;
      delete g;
    } else {
      delete g;
    }
  }
};
using GossipHolder = std::unique_ptr<Gossip, GilFreeDelete>;

}  // namespace

void bind_gossip(py::module_& m) {
  py::class_<GossipMember>(m, "GossipMember", "A member as one node sees it.")
      .def_readonly("name", &GossipMember::name)
      .def_readonly("address", &GossipMember::address)
      .def_readonly("state", &GossipMember::state, "'alive', 'suspect', 'dead' or 'left'.")
      .def_readonly("incarnation", &GossipMember::incarnation)
      .def_readonly("state_map", &GossipMember::state_map)
      .def("to_dict", &member_dict)
      .def("__repr__", [](const GossipMember& g) { return "GossipMember(" + g.name + ", " + g.address + ", " + g.state + ")"; });

  py::class_<Gossip, GossipHolder>(m, "Gossip",
                     "One gossip node (SWIM + Lifeguard) running on its own thread: membership, each\n"
                     "node's published state map, AES-256-GCM with a rotating keyring, a cluster label.\n"
                     "Blocking calls release the GIL; subscribers run on the gossip thread (holding the\n"
                     "GIL while they run). Use as a context manager or call stop().")
      .def(py::init([](std::string name, std::string bind, std::string advertise, std::vector<std::string> join,
                       std::vector<std::string> keys, std::string label, std::string profile, std::string data_dir) {
             GossipOptions o;
             o.name = std::move(name);
             o.bind = std::move(bind);
             o.advertise = std::move(advertise);
             o.join = std::move(join);
             o.keys = std::move(keys);
             o.label = std::move(label);
             o.profile = std::move(profile);
             o.data_dir = std::move(data_dir);
             return GossipHolder(blocking([&] { return Gossip::start(std::move(o)); }).release());
           }),
           py::kw_only(), py::arg("name"), py::arg("bind") = "127.0.0.1:7946", py::arg("advertise") = "",
           py::arg("join") = std::vector<std::string>{}, py::arg("keys") = std::vector<std::string>{},
           py::arg("label") = "", py::arg("profile") = "lan", py::arg("data_dir") = "",
           "Binds the port and starts the node. keys: base64 AES-256 keys, the first the primary.\n"
           "Raises InvalidArgumentError (bad name, address, key, label, profile), IoError (bind).")
      .def_property_readonly("advertise_address", &Gossip::advertise_address)
      .def_property_readonly("name", &Gossip::name)
      .def("set_state", [](Gossip& g, const std::string& k, std::string v) {
             blocking([&] { return g.set_state(k, std::move(v)); });
           }, py::arg("key"), py::arg("value"), "Publishes key = value in this node's state map.")
      .def("erase_state", [](Gossip& g, const std::string& k) { blocking([&] { return g.erase_state(k); }); },
           py::arg("key"))
      .def("members", [](Gossip& g) {
             std::vector<GossipMember> out;
             {
               py::gil_scoped_release release;
               out = g.members();
             }
             return out;
           }, "Every known member, this node included, sorted by name.")
      .def("subscribe", [](Gossip& g, py::function fn) {
             // The function is released with the GIL held, whichever thread drops the last copy.
             auto holder = std::shared_ptr<py::function>(new py::function(std::move(fn)), [](py::function* f) {
               py::gil_scoped_acquire gil;
               delete f;
             });
             return g.subscribe([holder](const GossipEvent& e) {
               py::gil_scoped_acquire gil;
               try {
                 (*holder)(e.kind, e.member);
               } catch (py::error_already_set& err) {
                 err.discard_as_unraisable("constellation.Gossip subscriber");
               }
             });
           }, py::arg("fn"),
           "Calls fn(kind, member) for every event ('join', 'leave', 'fail', 'recover', 'update') on\n"
           "the gossip thread; returns an id for unsubscribe(). fn must not block.")
      .def("unsubscribe", [](Gossip& g, std::uint64_t id) {
             py::gil_scoped_release release;
             g.unsubscribe(id);
           }, py::arg("id"))
      .def("join", [](Gossip& g, std::vector<std::string> seeds) { blocking([&] { return g.join(seeds); }); },
           py::arg("seeds"))
      .def("leave", [](Gossip& g, double timeout) {
             blocking([&] { return g.leave(std::chrono::milliseconds(static_cast<std::int64_t>(timeout * 1000))); });
           }, py::arg("timeout") = 5.0, "Broadcasts a graceful leave; waits up to timeout seconds. Raises TimeoutError.")
      .def("list_keys", [](Gossip& g) {
             py::gil_scoped_release release;
             return g.list_keys();
           })
      .def("install_key", [](Gossip& g, const std::string& k) { blocking([&] { return g.install_key(k); }); }, py::arg("key"))
      .def("use_key", [](Gossip& g, const std::string& k) { blocking([&] { return g.use_key(k); }); }, py::arg("key"))
      .def("remove_key", [](Gossip& g, const std::string& k) { blocking([&] { return g.remove_key(k); }); }, py::arg("key"))
      .def("metrics_text", [](Gossip& g) {
             py::gil_scoped_release release;
             return g.metrics_text();
           })
      .def("stop", [](Gossip& g) {
             py::gil_scoped_release release;
             g.stop();
           })
      .def("__enter__", [](Gossip& g) -> Gossip& { return g; }, py::return_value_policy::reference)
      .def("__exit__", [](Gossip& g, py::args) {
        py::gil_scoped_release release;
        g.stop();
      });
}

}  // namespace constellation::python
