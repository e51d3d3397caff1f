/* Claims a minor newer than the host's: it may call host functions the host does not have, so it must be refused. */
#include <conflux/abi/conflux_abi.h>
CONFLUX_PLUGIN_EXPORT uint32_t conflux_plugin_abi_version(void) {
  return (CONFLUX_ABI_VERSION_MAJOR << 16) | (CONFLUX_ABI_VERSION_MINOR + 1);
}
CONFLUX_PLUGIN_EXPORT const conflux_plugin *conflux_plugin_describe(const conflux_host_api *host) {
  (void)host;
  return 0;
}
