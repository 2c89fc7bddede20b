// What every backend plugin needs at its C boundary: a status-carrying exception, the
// catch-everything wrapper around each entry point, and the CPU's name for listings.
#pragma once

#include <cstring>
#include <fstream>
#include <new>
#include <stdexcept>
#include <string>

#include "swinunetr/backend.h"

namespace swu_plugin {

class Failure : public std::runtime_error {
public:
    Failure(swu_status s, const std::string& m) : std::runtime_error(m), status(s) {}
    swu_status status;
};

inline void write_error(char* err, size_t size, const std::string& message) {
    if (!err || size == 0) return;
    std::strncpy(err, message.c_str(), size - 1);
    err[size - 1] = 0;
}

// Runs f; every exception becomes a status plus a message in err. `engine` may rewrite
// the status and message of an exception from the plugin's engine (it is given every
// std::exception that is neither a Failure nor bad_alloc; default: SWU_ERR_BACKEND, what()).
template <class Engine, class F>
swu_status guarded(char* err, size_t err_size, const char* backend, Engine&& engine, F&& f) noexcept {
    try {
        f();
        return SWU_OK;
    } catch (const Failure& e) {
        write_error(err, err_size, e.what());
        return e.status;
    } catch (const std::bad_alloc&) {
        write_error(err, err_size, "out of memory");
        return SWU_ERR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        swu_status status = SWU_ERR_BACKEND;
        try {
            std::string message = e.what();
            engine(e, status, message);
            write_error(err, err_size, message);
        } catch (...) {
            write_error(err, err_size, "error while reporting an error");
        }
        return status;
    } catch (...) {
        write_error(err, err_size, std::string("unknown exception in the ") + backend + " backend");
        return SWU_ERR_INTERNAL;
    }
}

// The core's interrupt function (backend.h set_interrupt), kept per instance and called
// only on the thread that called the plugin.
struct Interrupt {
    swu_backend_interrupt_fn fn = nullptr;
    void* user = nullptr;
    bool requested() const { return fn && fn(user) != 0; }
};

// What a call stopped by its interrupt function throws (guarded turns it into the status).
inline Failure cancelled() { return Failure(SWU_ERR_CANCELLED, "cancelled"); }

inline std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.compare(0, 10, "model name") == 0) {
            const size_t p = line.find(':');
            if (p != std::string::npos) return line.substr(p + 2);
        }
    return "CPU";
}

}  // namespace swu_plugin
