// SPDX-License-Identifier: Apache-2.0
//
// systemd's readiness protocol without libsystemd: datagrams such as "READY=1" to the unix socket
// named by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). Outside systemd
// (no NOTIFY_SOCKET) every call is a no-op.
#pragma once

#include <constellation/result.hpp>

#include "core/time.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace constellation::io::os {

class Notifier {
 public:
  /// Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID from the environment.
  static Notifier from_environment();
  /// A notifier for an explicit socket address (tests).
  explicit Notifier(std::string socket, std::optional<core::Duration> watchdog = std::nullopt)
      : socket_(std::move(socket)), watchdog_(watchdog) {}

  bool enabled() const { return !socket_.empty(); }
  /// The watchdog interval systemd expects pings within, if it asked for them.
  std::optional<core::Duration> watchdog_interval() const { return watchdog_; }

  /// Sends `state` (newline-separated assignments). Errors: Io; a disabled notifier succeeds.
  Result<void> send(std::string_view state) const;
  Result<void> ready(std::string_view status = {}) const;
  Result<void> stopping() const { return send("STOPPING=1"); }
  Result<void> watchdog() const { return send("WATCHDOG=1"); }
  Result<void> status(std::string_view text) const { return send("STATUS=" + std::string(text)); }

 private:
  std::string socket_;
  std::optional<core::Duration> watchdog_;
};

}  // namespace constellation::io::os
