// MONAI's datalist JSON: {"training": [{"image": "...", "label": "..."}], "validation": [...]}
// (load_decathlon_datalist). Relative paths are relative to the datalist's folder.
#pragma once

#include <string>
#include <vector>

namespace swu {

struct CasePaths {
    std::string image, label;
};

struct Datalist {
    std::vector<CasePaths> training, validation;
};

// Throws SWU_ERR_IO (unreadable), SWU_ERR_FORMAT (not a datalist: the message names the
// offending entry). A section may be missing or empty; an entry needs both keys.
Datalist read_datalist(const std::string& path);

}  // namespace swu
