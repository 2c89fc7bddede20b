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
        swu::require_struct(info->struct_size, sizeof(swu_backend_info), "swu_backend_info");
        const swu::Backend& b = PluginRegistry::instance().at(index);
        info->name = b.name.c_str();
        info->path = b.path.c_str();
        info->loaded = b.loaded() ? 1 : 0;
        info->error = b.error.c_str();
        info->version = b.version.c_str();
        info->capabilities = b.loaded() ? b.vtable->capabilities : 0;
        info->device_count = static_cast<int32_t>(b.devices.size());
    });
}

SWU_API swu_status swu_backend_get_device(size_t backend_index, int32_t device_index, swu_device_info* info) {
    return swu::api_call(__func__, [&] {
        swu::require(info, "info");
        swu::require_struct(info->struct_size, sizeof(swu_device_info), "swu_device_info");
        const swu::Backend& b = PluginRegistry::instance().at(backend_index);
        if (!b.loaded()) swu::fail(SWU_ERR_STATE, "backend '" + b.name + "' is not loaded: " + b.error);
        if (device_index < 0 || static_cast<size_t>(device_index) >= b.devices.size())
            swu::fail(SWU_ERR_INVALID_ARGUMENT, "device index " + std::to_string(device_index) + " out of range (" +
                                                    std::to_string(b.devices.size()) + " devices)");
        const swu::BackendDevice& d = b.devices[static_cast<size_t>(device_index)];
        info->name = d.name.c_str();
        info->description = d.description.c_str();
        info->memory_bytes = d.memory_bytes;
    });
}

}  // extern "C"
