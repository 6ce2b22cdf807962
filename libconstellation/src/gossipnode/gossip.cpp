// SPDX-License-Identifier: Apache-2.0
//
// constellation::Gossip (include/constellation/gossip.hpp): one pure gossip core and its Asio
// transport on a dedicated io_context thread. Public calls from other threads are posted to that
// thread and wait for the answer; calls made on it (from a subscriber) run inline.
#include <constellation/gossip.hpp>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/rng.hpp"
#include "core/time.hpp"
#include "gossip/core.hpp"
#include "gossip/security.hpp"
#include "io/net/endpoint.hpp"
#include "io/net/gossip_transport.hpp"
#include "io/os/os.hpp"

#include <asio.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

namespace constellation {

namespace {

constexpr const char* kIncarnationFile = "gossip-incarnation";

GossipMember to_public(const gossip::Member& m) {
  return GossipMember{m.name, m.address, gossip::to_string(m.state), m.incarnation, m.state_map};
}

std::string event_kind(gossip::Event::Kind k) {
  switch (k) {
    case gossip::Event::Kind::Join: return "join";
    case gossip::Event::Kind::Leave: return "leave";
    case gossip::Event::Kind::Fail: return "fail";
    case gossip::Event::Kind::Recover: return "recover";
    case gossip::Event::Kind::Update: return "update";
  }
  return "update";
}

Result<void> check_addresses(const std::vector<std::string>& seeds) {
  for (const auto& s : seeds) {
    auto ep = io::net::Endpoint::parse(s);
    if (!ep) return Error(Code::InvalidArgument, "seed '" + s + "': " + ep.error().message());
  }
  return ok();
}

}  // namespace

struct Gossip::Impl {
  GossipOptions options;
  std::string advertise;
  core::Rng rng{io::os::random_seed()};
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  std::atomic<std::thread::id> loop_id{};
  std::atomic<bool> stopped{false};
  std::mutex stop_mu;
  core::metrics::Registry metrics;
  std::unique_ptr<gossip::Core> core;
  std::unique_ptr<io::net::GossipTransport> transport;
  std::uint64_t persisted_incarnation = 0;
  core::log::Logger logger;

  std::recursive_mutex subs_mu;  // held while subscribers run, so unsubscribe() waits for them
  std::map<std::uint64_t, std::function<void(const GossipEvent&)>> subs;
  std::uint64_t next_sub = 1;

  core::Instant now() const { return core::SystemClock::instance().now(); }
  bool on_loop() const { return std::this_thread::get_id() == loop_id.load(); }

  // Runs fn on the loop thread and returns its result; Unavailable once stopped.
  template <class F>
  auto call(F fn) -> Result<decltype(fn())> {
    using R = decltype(fn());
    if (stopped.load()) return Error(Code::Unavailable, "gossip node is stopped");
    if (on_loop()) {
      if constexpr (std::is_void_v<R>) {
        fn();
        return ok();
      } else {
        return fn();
      }
    }
    auto promise = std::make_shared<std::promise<R>>();
    auto fut = promise->get_future();
    asio::post(io, [fn = std::move(fn), promise]() mutable {
      if constexpr (std::is_void_v<R>) {
        fn();
        promise->set_value();
      } else {
        promise->set_value(fn());
      }
    });
    // The loop may stop before running it: poll so a stop() never leaves us waiting forever.
    while (fut.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
      if (stopped.load()) return Error(Code::Unavailable, "gossip node is stopped");
    }
    if constexpr (std::is_void_v<R>) {
      fut.get();
      return ok();
    } else {
      return fut.get();
    }
  }

  // After every step of the core: deliver events, persist a changed incarnation.
  void after_step() {
    auto events = core->take_events();
    (void)core->take_user_messages();  // not exposed by this API
    if (!options.data_dir.empty() && core->self().incarnation != persisted_incarnation) persist_incarnation();
    if (events.empty()) return;
    std::lock_guard lock(subs_mu);
    if (subs.empty()) return;
    for (const auto& e : events) {
      const GossipEvent pub{event_kind(e.kind), to_public(e.member)};
      // Copy: a subscriber may unsubscribe (itself or another) while we iterate.
      auto copy = subs;
      for (auto& [id, fn] : copy) {
        if (subs.count(id) == 0) continue;
        try {
          fn(pub);
        } catch (const std::exception& ex) {
          logger.error("gossip subscriber threw", {{"what", core::json::Value(std::string(ex.what()))}});
        } catch (...) {
          logger.error("gossip subscriber threw", {});
        }
      }
    }
  }

  void persist_incarnation() {
    persisted_incarnation = core->self().incarnation;
    auto r = io::os::write_file_atomic(options.data_dir + "/" + kIncarnationFile,
                                       std::to_string(persisted_incarnation) + "\n");
    if (!r) logger.warn("cannot persist the gossip incarnation", {{"error", core::json::Value(r.error().message())}});
  }

  void shutdown() {
    std::lock_guard lock(stop_mu);
    if (thread.joinable()) {
      if (std::this_thread::get_id() == thread.get_id()) {
        // Called from a subscriber: cannot join ourselves. Stop the loop; the destructor joins.
        stopped.store(true);
        if (transport) transport->stop();
        io.stop();
        return;
      }
      asio::post(io, [this] {
        if (transport) transport->stop();
        work.reset();
        io.stop();
      });
      thread.join();
    }
    stopped.store(true);
    transport.reset();
    core.reset();
  }
};

Gossip::Gossip(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Gossip::~Gossip() {
  if (impl_) impl_->shutdown();
}

Result<std::unique_ptr<Gossip>> Gossip::start(GossipOptions options) {
  if (options.name.empty()) return Error(Code::InvalidArgument, "gossip: name must not be empty");
  gossip::Config config;
  core::Duration stream_timeout = std::chrono::seconds(10);
  if (options.profile == "lan" || options.profile.empty()) {
    config = gossip::Config::lan();
  } else if (options.profile == "fast") {
    config = gossip::Config::fast();
    stream_timeout = std::chrono::seconds(2);
  } else {
    return Error(Code::InvalidArgument, "gossip: unknown profile '" + options.profile + "' (use \"lan\" or \"fast\")");
  }
  CST_TRY_ASSIGN(auto keyring, gossip::Keyring::from_base64(options.keys));
  CST_TRY_ASSIGN(auto envelope, gossip::Envelope::make(options.label, std::move(keyring)));
  auto bind = io::net::Endpoint::parse_listen(options.bind);
  if (!bind) return Error(Code::InvalidArgument, "gossip bind address '" + options.bind + "': " + bind.error().message());
  CST_TRY(check_addresses(options.join));
  std::optional<io::net::Endpoint> adv;
  if (!options.advertise.empty()) {
    auto a = io::net::Endpoint::parse_listen(options.advertise);
    if (!a) return Error(Code::InvalidArgument, "gossip advertise address '" + options.advertise + "': " + a.error().message());
    adv = *a;
  } else {
    auto ip = bind->ip();
    if (ip && ip->is_unspecified()) {
      return Error(Code::InvalidArgument, "gossip: binding the wildcard address '" + options.bind +
                                              "' needs an advertise address others can reach");
    }
  }

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->logger = core::log::Logger(core::log::NullSink::instance(), core::SystemClock::instance(), "gossip");

  std::uint64_t incarnation = 0;
  if (!options.data_dir.empty()) {
    CST_TRY(io::os::make_dirs(options.data_dir));
    auto text = io::os::read_file(options.data_dir + "/" + kIncarnationFile);
    if (text) {
      try {
        incarnation = std::stoull(*text) + 1;  // a new life outranks whatever the cluster last saw
      } catch (...) {
        return Error(Code::Corrupt, "gossip: " + options.data_dir + "/" + kIncarnationFile + " does not hold a number");
      }
    }
  }

  io::net::GossipTransportOptions topts;
  topts.bind = options.bind;
  topts.stream_timeout = stream_timeout;
  topts.logger = impl->logger;
  topts.metrics = &impl->metrics;
  topts.metric_label_names = {"node"};
  topts.metric_label_values = {options.name};
  CST_TRY_ASSIGN(impl->transport, io::net::GossipTransport::open(impl->io, topts));
  const auto port = impl->transport->port();
  io::net::Endpoint a = adv ? *adv : *bind;
  if (a.port == 0) a.port = port;
  impl->advertise = a.to_string();

  config.name = options.name;
  config.advertise = impl->advertise;
  config.incarnation = incarnation;
  impl->core = std::make_unique<gossip::Core>(config, impl->rng, impl->now());
  if (!options.data_dir.empty()) impl->persist_incarnation();

  auto* raw = impl.get();
  impl->work.emplace(asio::make_work_guard(impl->io));
  impl->transport->run(*impl->core, std::move(envelope), [raw] { raw->after_step(); });
  if (!options.join.empty()) {
    impl->core->join(options.join, impl->now());
    impl->transport->kick();
  }
  impl->thread = std::thread([raw] {
    raw->loop_id.store(std::this_thread::get_id());
    for (;;) {
      try {
        raw->io.run();
        break;
      } catch (const std::exception& e) {
        raw->logger.error("gossip loop: unexpected exception", {{"what", core::json::Value(std::string(e.what()))}});
      }
    }
  });
  return std::unique_ptr<Gossip>(new Gossip(std::move(impl)));
}

std::string Gossip::advertise_address() const { return impl_->advertise; }
const std::string& Gossip::name() const { return impl_->options.name; }

Result<void> Gossip::set_state(const std::string& key, std::string value) {
  if (key.empty()) return Error(Code::InvalidArgument, "gossip set_state: key must not be empty");
  auto* d = impl_.get();
  return d->call([d, key, value = std::move(value)]() mutable {
    d->core->set_state(key, std::move(value), d->now());
    d->transport->kick();
  });
}

Result<void> Gossip::erase_state(const std::string& key) {
  auto* d = impl_.get();
  return d->call([d, key] {
    d->core->erase_state(key, d->now());
    d->transport->kick();
  });
}

std::vector<GossipMember> Gossip::members() const {
  auto* d = impl_.get();
  auto r = d->call([d] {
    std::vector<GossipMember> out;
    for (const auto& m : d->core->members()) out.push_back(to_public(m));
    return out;
  });
  return r ? std::move(*r) : std::vector<GossipMember>{};
}

std::uint64_t Gossip::subscribe(std::function<void(const GossipEvent&)> fn) {
  std::lock_guard lock(impl_->subs_mu);
  const auto id = impl_->next_sub++;
  impl_->subs.emplace(id, std::move(fn));
  return id;
}

void Gossip::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(impl_->subs_mu);
  impl_->subs.erase(id);
}

Result<void> Gossip::join(const std::vector<std::string>& seeds) {
  CST_TRY(check_addresses(seeds));
  if (seeds.empty()) return Error(Code::InvalidArgument, "gossip join: no seeds given");
  auto* d = impl_.get();
  return d->call([d, seeds] {
    d->core->join(seeds, d->now());
    d->transport->kick();
  });
}

Result<void> Gossip::leave(std::chrono::milliseconds timeout) {
  auto* d = impl_.get();
  CST_TRY(d->call([d] {
    d->core->leave(d->now());
    d->transport->kick();
  }));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    CST_TRY_ASSIGN(bool done, d->call([d] { return d->core->done_leaving(d->now()); }));
    if (done) return ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(Code::Timeout, "gossip leave: not sent within " + std::to_string(timeout.count()) + " ms");
    }
    if (d->on_loop()) return ok();  // cannot wait on our own thread; the leave is queued
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::vector<std::string> Gossip::list_keys() const {
  auto* d = impl_.get();
  auto r = d->call([d] { return d->transport->envelope().keyring().list(); });
  return r ? std::move(*r) : std::vector<std::string>{};
}

Result<void> Gossip::install_key(const std::string& b64) {
  CST_TRY_ASSIGN(auto key, gossip::Keyring::parse(b64));
  auto* d = impl_.get();
  return d->call([d, key] { d->transport->envelope().keyring().install(key); });
}

Result<void> Gossip::use_key(const std::string& b64) {
  CST_TRY_ASSIGN(auto key, gossip::Keyring::parse(b64));
  auto* d = impl_.get();
  CST_TRY_ASSIGN(auto r, d->call([d, key] { return d->transport->envelope().keyring().use(key); }));
  return r;
}

Result<void> Gossip::remove_key(const std::string& b64) {
  CST_TRY_ASSIGN(auto key, gossip::Keyring::parse(b64));
  auto* d = impl_.get();
  CST_TRY_ASSIGN(auto r, d->call([d, key] { return d->transport->envelope().keyring().remove(key); }));
  return r;
}

std::string Gossip::metrics_text() const {
  auto* d = impl_.get();
  (void)d->call([d] { d->transport->publish_metrics(); });
  return d->metrics.render();
}

void Gossip::stop() { impl_->shutdown(); }

void Gossip::set_test_datagram_loss(double fraction) {
  auto* d = impl_.get();
  (void)d->call([d, fraction] { d->transport->set_test_drop(fraction); });
}

}  // namespace constellation
