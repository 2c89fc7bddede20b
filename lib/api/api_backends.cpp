// Backend discovery and listing.
#include "api/boundary.hpp"
#include "plugin/plugin_registry.hpp"

using swu::PluginRegistry;

extern "C" {

SWU_API swu_status swu_backends_load(const char* folder, size_t* loaded_count) {
    return swu::api_call(__func__, [&] {
        PluginRegistry& r = PluginRegistry::instance();
        const size_t n = folder ? r.load_folder(folder) : r.load_default();
        if (loaded_count) *loaded_count = n;
    });
}

SWU_API swu_status swu_backend_count(size_t* count) {
    return swu::api_call(__func__, [&] {
        swu::require(count, "count");
        *count = PluginRegistry::instance().count();
    });
}

SWU_API swu_status swu_backend_get_info(size_t index, swu_backend_info* info) {
    return swu::api_call(__func__, [&] {
        swu::require(info, "info");
        swu_backend_info r = swu::output_struct(info, "swu_backend_info");
        const swu::Backend& b = PluginRegistry::instance().at(index);
        r.name = b.name.c_str();
        r.path = b.path.c_str();
        r.loaded = b.loaded() ? 1 : 0;
        r.error = b.error.c_str();
        r.version = b.version.c_str();
        r.capabilities = b.loaded() ? b.vtable->capabilities : 0;
        r.device_count = static_cast<int32_t>(b.devices.size());
        swu::write_struct(info, r);
    });
}

SWU_API swu_status swu_backend_get_device(size_t backend_index, int32_t device_index, swu_device_info* info) {
    return swu::api_call(__func__, [&] {
        swu::require(info, "info");
        swu_device_info r = swu::output_struct(info, "swu_device_info");
        const swu::Backend& b = PluginRegistry::instance().at(backend_index);
        if (!b.loaded()) swu::fail(SWU_ERR_STATE, "backend '" + b.name + "' is not loaded: " + b.error);
        if (device_index < 0 || static_cast<size_t>(device_index) >= b.devices.size())
            swu::fail(SWU_ERR_INVALID_ARGUMENT, "device index " + std::to_string(device_index) + " out of range (" +
                                                    std::to_string(b.devices.size()) + " devices)");
        const swu::BackendDevice& d = b.devices[static_cast<size_t>(device_index)];
        r.name = d.name.c_str();
        r.description = d.description.c_str();
        r.memory_bytes = d.memory_bytes;
        swu::write_struct(info, r);
    });
}

}  // extern "C"
