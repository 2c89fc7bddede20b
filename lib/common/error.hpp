// The one exception type used inside the core. It carries the swu_status the C
// boundary (lib/api/boundary.hpp) turns it into; nothing throws across that boundary.
#pragma once

#include <stdexcept>
#include <string>

#include "swinunetr/swinunetr.h"

namespace swu {

class Error : public std::runtime_error {
public:
    Error(swu_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    swu_status status() const noexcept { return status_; }

private:
    swu_status status_;
};

[[noreturn]] inline void fail(swu_status status, const std::string& message) { throw Error(status, message); }

}  // namespace swu
