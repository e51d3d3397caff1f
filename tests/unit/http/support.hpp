// Helpers shared by the HTTP tests that talk to the fake server.
#pragma once

#include <string>

#include "conflux/http/client.hpp"
#include "fake_server/fake_server.hpp"

namespace conflux::test {

// A fake server with routes that answer with fixed JSON, started on an ephemeral loopback port.
inline void add_json_route(fake::FakeServer& server, const std::string& method, const std::string& path,
                           int status, const std::string& body) {
  server.route(method, path, [status, body](const fake::Request&) {
    return fake::Response{status, {{"Content-Type", "application/json"}}, body};
  });
}

inline http::Request get(const std::string& url) {
  http::Request r;
  r.url = url;
  return r;
}

}  // namespace conflux::test
