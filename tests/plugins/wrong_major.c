/* Claims plugin ABI 2.0: the host (ABI 1.x) must refuse it before calling anything else. */
#include <conflux/abi/conflux_abi.h>
CONFLUX_PLUGIN_EXPORT uint32_t conflux_plugin_abi_version(void) { return (2u << 16) | 0u; }
CONFLUX_PLUGIN_EXPORT const conflux_plugin *conflux_plugin_describe(const conflux_host_api *host) {
  (void)host;
  return 0;
}
