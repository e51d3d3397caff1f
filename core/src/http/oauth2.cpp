#include "conflux/http/oauth2.hpp"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "conflux/http/client.hpp"
#include "conflux/http/redact.hpp"
#include "conflux/http/url.hpp"

namespace conflux::http {
namespace {

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace

TokenCache::TokenCache(HttpClient& client, Clock& clock, std::chrono::seconds refresh_ahead,
                       std::chrono::seconds default_lifetime)
    : client_(client), clock_(clock), refresh_ahead_(refresh_ahead), default_lifetime_(default_lifetime) {}

std::shared_ptr<TokenCache::Entry> TokenCache::entry(const OAuth2Credentials& credentials) {
  // The key holds a hash of the refresh token, never the token itself.
  std::string key = credentials.token_url + '\n' + credentials.client_id + '\n' + sha256_hex(credentials.refresh_token);
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = entries_[key];
  if (!slot) {
    slot = std::make_shared<Entry>();
    slot->refresh_token = credentials.refresh_token;
  }
  return slot;
}

Result<AccessToken> TokenCache::get(const OAuth2Credentials& credentials) {
  register_secret(credentials.client_secret);
  register_secret(credentials.refresh_token);
  std::shared_ptr<Entry> e = entry(credentials);
  auto fresh = [&]() -> std::optional<AccessToken> {
    std::lock_guard<std::mutex> lock(e->mutex);
    if (e->token && clock_.now() + refresh_ahead_ < e->token->expires_at) return e->token;
    return std::nullopt;
  };
  if (auto token = fresh()) return *token;
  // One refresh at a time per key; whoever waited here finds the new token on the second look.
  std::lock_guard<std::mutex> refreshing(e->refresh_mutex);
  if (auto token = fresh()) return *token;
  std::string refresh_token;
  {
    std::lock_guard<std::mutex> lock(e->mutex);
    refresh_token = e->refresh_token;
  }
  std::string rotated;
  Result<AccessToken> token = refresh(credentials, refresh_token, rotated);
  if (!token.is_ok()) return token;
  std::lock_guard<std::mutex> lock(e->mutex);
  e->token = *token;
  if (!rotated.empty()) e->refresh_token = rotated;
  return token;
}

void TokenCache::invalidate(const OAuth2Credentials& credentials) {
  std::shared_ptr<Entry> e = entry(credentials);
  std::lock_guard<std::mutex> lock(e->mutex);
  e->token.reset();
}

int TokenCache::refresh_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return refreshes_;
}

Result<AccessToken> TokenCache::refresh(const OAuth2Credentials& credentials, const std::string& refresh_token,
                                        std::string& rotated) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++refreshes_;
  }
  std::vector<std::pair<std::string, std::string>> form = {{"grant_type", "refresh_token"},
                                                           {"refresh_token", refresh_token},
                                                           {"client_id", credentials.client_id}};
  if (!credentials.client_secret.empty()) form.emplace_back("client_secret", credentials.client_secret);
  if (!credentials.scope.empty()) form.emplace_back("scope", credentials.scope);
  Request request;
  request.method = "POST";
  request.url = credentials.token_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  request.body = form_encode(form);
  const std::string where = "OAuth2 token refresh at " + redact_url(credentials.token_url);

  Outcome outcome = client_.send(request);
  if (!outcome.ok()) {
    // RFC 6749 5.2: 400 invalid_grant / invalid_client and 401 mean the refresh token or client is wrong.
    if (outcome.response.status == 400 || outcome.response.status == 401) {
      return failed_precondition(where + " was refused (HTTP " + std::to_string(outcome.response.status) +
                                 "); the refresh token or client credentials are wrong or revoked: " +
                                 redact_text(outcome.response.body));
    }
    return outcome.to_status().with_context(where);
  }
  nlohmann::json body = nlohmann::json::parse(outcome.response.body, nullptr, false);
  if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string()) {
    return unavailable(where + ": the response has no access_token");
  }
  AccessToken token;
  token.value = body["access_token"].get<std::string>();
  register_secret(token.value);
  if (body.contains("token_type") && body["token_type"].is_string()) {
    token.type = body["token_type"].get<std::string>();
    // RFC 6750 spells the Authorization scheme "Bearer" whatever case the token type came in.
    if (token.type.size() == 6 && (token.type[0] == 'b' || token.type[0] == 'B')) token.type = "Bearer";
  }
  std::chrono::seconds lifetime = default_lifetime_;
  if (body.contains("expires_in") && body["expires_in"].is_number()) {
    lifetime = std::chrono::seconds(body["expires_in"].get<long long>());
  }
  token.expires_at = clock_.now() + lifetime;
  if (body.contains("refresh_token") && body["refresh_token"].is_string()) {
    rotated = body["refresh_token"].get<std::string>();
    register_secret(rotated);
  }
  return token;
}

TokenCache& shared_token_cache() {
  static TokenCache cache(HttpClient::shared());
  return cache;
}

}  // namespace conflux::http
