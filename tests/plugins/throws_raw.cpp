// A plugin written against the raw C ABI (no SDK fence) whose read_batch lets a C++ exception escape across the
// boundary. Undefined behaviour by the letter of the ABI; the host's own try/catch(...) must still contain it.
#include <conflux/abi/conflux_abi.h>

#include <stdexcept>

namespace {
const conflux_host_api* g_host;
conflux_code create(conflux_host_context*, const char*, size_t, conflux_instance** out, conflux_error*) {
  *out = reinterpret_cast<conflux_instance*>(new int(0));
  return CONFLUX_OK;
}
void destroy(conflux_instance* i) { delete reinterpret_cast<int*>(i); }
conflux_code open_stream(conflux_instance*, const char*, size_t, const char*, size_t, conflux_stream** out,
                         conflux_error*) {
  *out = reinterpret_cast<conflux_stream*>(new int(0));
  return CONFLUX_OK;
}
conflux_code read_batch(conflux_stream*, size_t, conflux_emitter*, conflux_error*) {
  throw std::runtime_error("escaped across the ABI");
}
void close_stream(conflux_stream* s) { delete reinterpret_cast<int*>(s); }
conflux_plugin g_plugin;
}  // namespace

extern "C" CONFLUX_PLUGIN_EXPORT uint32_t conflux_plugin_abi_version(void) { return CONFLUX_ABI_VERSION; }
extern "C" CONFLUX_PLUGIN_EXPORT const conflux_plugin* conflux_plugin_describe(const conflux_host_api* host) {
  g_host = host;
  g_plugin = conflux_plugin{};
  g_plugin.struct_size = sizeof g_plugin;
  g_plugin.name = "throws_raw";
  g_plugin.version = "1.0.0";
  g_plugin.kinds = CONFLUX_KIND_SOURCE;
  g_plugin.description = "test: lets an exception escape through the C ABI";
  g_plugin.streams = "[\"items\"]";
  g_plugin.create = create;
  g_plugin.destroy = destroy;
  g_plugin.open_stream = open_stream;
  g_plugin.read_batch = read_batch;
  g_plugin.close_stream = close_stream;
  return &g_plugin;
}
