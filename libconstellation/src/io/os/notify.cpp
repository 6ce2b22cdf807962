// SPDX-License-Identifier: Apache-2.0
#include "io/os/notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace constellation::io::os {

Notifier Notifier::from_environment() {
  const char* sock = std::getenv("NOTIFY_SOCKET");
  std::optional<core::Duration> watchdog;
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  if (usec && (!pid || std::strtoll(pid, nullptr, 10) == ::getpid())) {
    long long v = std::strtoll(usec, nullptr, 10);
    if (v > 0) watchdog = std::chrono::microseconds(v);
  }
  return Notifier(sock ? sock : "", watchdog);
}

Result<void> Notifier::ready(std::string_view status) const {
  std::string msg = "READY=1";
  if (!status.empty()) msg.append("\nSTATUS=").append(status);
  return send(msg);
}

Result<void> Notifier::send(std::string_view state) const {
  if (socket_.empty()) return ok();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_.size() >= sizeof(addr.sun_path)) return Error(Code::InvalidArgument, "NOTIFY_SOCKET path too long");
  std::memcpy(addr.sun_path, socket_.data(), socket_.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size());
  if (socket_[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract namespace
  } else {
    len += 1;  // include the terminating NUL of a filesystem path
  }
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(Code::Io, std::string("sd_notify: socket: ") + std::strerror(errno));
  ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  int err = errno;
  ::close(fd);
  if (n < 0) return Error(Code::Io, "sd_notify to " + socket_ + ": " + std::strerror(err));
  return ok();
}

}  // namespace constellation::io::os
