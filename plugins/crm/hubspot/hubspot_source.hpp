// The hubspot source: one stream per object type, read incrementally through CRM search on the last-modified date.
#pragma once

#include <memory>
#include <string>

#include "hubspot_client.hpp"

namespace conflux::plugins::hubspot {

// Opens stream `type` (contacts, companies or deals) resuming after `cursor`. The reader keeps a copy of `config`.
std::unique_ptr<sdk::StreamReader> open_reader(const sdk::Context& context, const Config& config, std::string type,
                                               Cursor cursor);

}  // namespace conflux::plugins::hubspot
