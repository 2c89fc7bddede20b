// Process-wide logging behind swu_set_log_callback(). Default: stderr, warnings up.
#pragma once

#include <string>

#include "swinunetr/swinunetr.h"

namespace swu {

bool log_enabled(swu_log_level level);
void log(swu_log_level level, const std::string& message);
void set_log_callback(swu_log_fn fn, void* user_data, swu_log_level min_level);

inline void log_debug(const std::string& m) { log(SWU_LOG_DEBUG, m); }
inline void log_info(const std::string& m) { log(SWU_LOG_INFO, m); }
inline void log_warning(const std::string& m) { log(SWU_LOG_WARNING, m); }

}  // namespace swu
