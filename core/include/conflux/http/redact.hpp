// Keeping secrets out of request logs and error messages.
//
// Three layers: the values of query parameters whose names are known to carry credentials are replaced by "***";
// the user-info part of a URL ("user:password@") and a Bitrix24 webhook code in its path are replaced too; and every value registered with
// conflux::logging::add_secret (config references, OAuth tokens the toolkit obtained, secrets a caller registered)
// is replaced wherever it appears. Headers and bodies are never logged at all.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "conflux/http/message.hpp"

namespace conflux::http {

// True for query parameter names that carry credentials, compared case-insensitively: api_key, apikey, hapikey,
// key, access_token, token, auth, client_secret, refresh_token, clientApiId, password, signature, sig, secret, code.
bool is_secret_param(std::string_view name);

// Where a Bitrix24 inbound-webhook code sits in `url` (offset, length): the segment after /rest/<user_id>/ when it
// looks like a credential (8 or more letters and digits; method names have dots), as in
// https://portal.bitrix24.ru/rest/1/x7k2abc9def0ghij/crm.contact.list.json. nullopt when there is none.
std::optional<std::pair<size_t, size_t>> find_webhook_secret(std::string_view url);

// `url` with secret query values, user-info and a webhook code in the path replaced by "***", then logging::redact
// applied.
std::string redact_url(std::string_view url);

// logging::redact applied to free text (an error body excerpt, a message) after cutting it to `max_chars`.
std::string redact_text(std::string_view text, size_t max_chars = 300);

// Registers a secret (a token, a key) so no log line or message of the toolkit shows it. Ignores values shorter
// than 4 characters, like logging::add_secret, which it calls.
void register_secret(const std::string& secret);

// Registers the credentials a request carries, so that a server echoing them back (in an error body the caller
// logs) cannot leak them: the Authorization / Proxy-Authorization credentials, the values of headers whose names
// say key, token, secret, signature or auth, a webhook code in the path, secret query parameters, and secret fields
// of a form or JSON body.
void register_request_secrets(const Request& request);

}  // namespace conflux::http
