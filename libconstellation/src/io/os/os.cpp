// SPDX-License-Identifier: Apache-2.0
#include "io/os/os.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include <chrono>

namespace constellation::io::os {

namespace {
Error io_error(const std::string& what, int err) {
  return Error(err == ENOENT ? Code::NotFound : Code::Io, what + ": " + std::strerror(err));
}

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
}  // namespace

Result<std::string> hostname() {
  utsname u{};
  if (::uname(&u) != 0) return io_error("uname", errno);
  return std::string(u.nodename);
}

std::uint64_t random_seed() {
  std::uint64_t v = 0;
  if (::getrandom(&v, sizeof v, 0) == static_cast<ssize_t>(sizeof v)) return v;
  // getrandom cannot fail for 8 bytes once the pool is initialised; be safe anyway.
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
         (static_cast<std::uint64_t>(::getpid()) << 32);
}

Result<void> make_dirs(const std::string& path) {
  if (path.empty()) return Error(Code::InvalidArgument, "empty directory path");
  std::string cur;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    cur = path.substr(0, j);
    if (!cur.empty() && ::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) {
      return io_error("cannot create directory " + cur, errno);
    }
    i = j + 1;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return io_error("cannot stat " + path, errno);
  if (!S_ISDIR(st.st_mode)) return Error(Code::Io, path + " exists and is not a directory");
  return ok();
}

Result<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open " + path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return io_error("cannot read " + path, e);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<void> write_file_atomic(const std::string& path, const std::string& contents, unsigned mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return io_error("cannot create " + tmp, errno);
  const char* p = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return io_error("cannot write " + tmp, e);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return io_error("cannot fsync " + tmp, e);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot rename " + tmp + " to " + path, e);
  }
  int dfd = ::open(parent_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return ok();
}

Result<DirLock> DirLock::acquire(const std::string& dir) {
  std::string path = dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot open " + path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) {
      return Error(Code::Unavailable,
                   "data directory " + dir + " is in use by another process (" + path + " is locked)");
    }
    return io_error("cannot lock " + path, e);
  }
  return DirLock(fd);
}

DirLock& DirLock::operator=(DirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

Result<core::NodeId> load_or_create_node_id(const std::string& dir) {
  const std::string path = dir + "/node-id";
  auto text = read_file(path);
  if (text) {
    std::string s = *text;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    auto id = core::NodeId::parse(s);
    if (!id) return Error(Code::Corrupt, path + ": " + id.error().message());
    return *id;
  }
  if (text.error().code() != Code::NotFound) return text.error();
  core::Rng rng(random_seed());
  core::NodeId id = core::NodeId::random(rng);
  CST_TRY(write_file_atomic(path, id.to_hex() + "\n"));
  return id;
}

}  // namespace constellation::io::os
