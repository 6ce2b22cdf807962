// SPDX-License-Identifier: Apache-2.0
//
// An in-process stand-in for Cloudflare's API v4 behind the HttpTransport seam: zones, records,
// pagination, the batch endpoint (all or nothing), the error envelope and injected answers
// (429 with retry-after, 5xx). For unit tests and benchmarks that count requests without
// sockets; tests/integration/fake_cloudflare.py is the schema-validated HTTP twin.
#pragma once

#include "io/dns/http.hpp"

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace constellation::io::dns {

class FakeCloudflareApi {
 public:
  struct Stored {
    std::string id, type, name, content, comment;
    std::vector<std::string> tags;
    std::int64_t ttl = 1;
    bool proxied = false;
  };
  struct Injected {
    std::string method;  // empty: any
    std::string path_contains;
    int status = 429;
    std::string body;
    std::map<std::string, std::string> headers;
  };

  explicit FakeCloudflareApi(std::string zone = "example.com", std::string token = "token");

  /// A transport that talks to this fake (the fake must outlive it).
  std::unique_ptr<HttpTransport> transport();

  const std::string& zone_id() const { return zone_id_; }
  void add(const Stored& r);
  std::vector<Stored> records() const;
  void inject(Injected i);

  /// Requests seen: "METHOD path?query".
  std::vector<std::string> requests() const;
  std::size_t request_count() const;
  void clear_requests();

  HttpResponse handle(const HttpRequest& req);

 private:
  std::string new_id();
  mutable std::mutex mu_;
  std::string zone_, zone_id_, token_;
  std::map<std::string, Stored> records_;
  std::deque<Injected> inject_;
  std::vector<std::string> log_;
  std::uint64_t next_ = 1;
};

}  // namespace constellation::io::dns
