// OAuth 2.0 refresh-token grant (RFC 6749 section 6) with a process-wide token cache.
//
// A token is cached under (token_url, client_id, SHA-256 of the refresh token), so the secret itself is never a map
// key, and reused until `refresh_ahead` before it expires. Concurrent callers of one key wait for a single refresh
// instead of each refreshing. When the server rotates the refresh token, the cache keeps the new one and uses it for
// the next refresh of the same key. Every token and secret it handles is registered for redaction.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "conflux/common/status.hpp"
#include "conflux/http/clock.hpp"

namespace conflux::http {

class HttpClient;

struct OAuth2Credentials {
  std::string token_url;
  std::string client_id;
  std::string client_secret;  // sent in the form body (client_secret_post); may be empty for public clients
  std::string refresh_token;
  std::string scope;  // optional
};

struct AccessToken {
  std::string value;
  std::string type = "Bearer";
  std::chrono::steady_clock::time_point expires_at;
  // "Bearer <value>", for the Authorization header.
  std::string authorization() const { return type + " " + value; }
};

class TokenCache {
 public:
  // `client` and `clock` must outlive the cache. Tokens without `expires_in` are assumed to live `default_lifetime`.
  TokenCache(HttpClient& client, Clock& clock = system_clock(),
             std::chrono::seconds refresh_ahead = std::chrono::seconds(60),
             std::chrono::seconds default_lifetime = std::chrono::seconds(3600));

  // A valid access token: the cached one, or a fresh one from the token endpoint. A 400/401 from the endpoint
  // (invalid_grant, invalid_client) gives kFailedPrecondition; transport faults give the client's retryable codes.
  Result<AccessToken> get(const OAuth2Credentials& credentials);
  // Forgets the cached token of `credentials`, e.g. after the API answered 401 to it; the next get() refreshes.
  void invalidate(const OAuth2Credentials& credentials);
  // Number of calls to the token endpoint so far (for tests and metrics).
  int refresh_count() const;

 private:
  struct Entry {
    std::mutex refresh_mutex;  // held during a refresh so concurrent callers do one
    std::mutex mutex;          // guards the fields below
    std::optional<AccessToken> token;
    std::string refresh_token;  // the newest refresh token (rotated by the server or the original)
  };
  std::shared_ptr<Entry> entry(const OAuth2Credentials& credentials);
  Result<AccessToken> refresh(const OAuth2Credentials& credentials, const std::string& refresh_token,
                              std::string& rotated);

  HttpClient& client_;
  Clock& clock_;
  std::chrono::seconds refresh_ahead_;
  std::chrono::seconds default_lifetime_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  int refreshes_ = 0;
};

// The cache of the process, over HttpClient::shared().
TokenCache& shared_token_cache();

}  // namespace conflux::http
