// conflux_host_api.http_request / http_response_free: the ABI face of conflux::http. Private to the plugin host.
#pragma once

#include "conflux/abi/conflux_abi.h"

namespace conflux::plugin_host {

// Both are fenced: no exception leaves them.
conflux_code http_request(conflux_host_context* context, const conflux_http_request* request,
                          conflux_http_response* response);
void http_response_free(conflux_host_context* context, conflux_http_response* response);

}  // namespace conflux::plugin_host
