// What each label of the bundle (swin_unetr_btcv_segmentation) means, in SNOMED CT:
// the codes a DICOM Segmentation's segments carry (DICOM PS3.16 CID 7150/7151/7153).
#pragma once

#include <array>
#include <cstdint>

namespace swu {

struct Code {
    const char* value;
    const char* scheme;   // "SCT" = SNOMED CT
    const char* meaning;
};

struct OrganCode {
    int label;                // 1..13
    const char* segment_label;
    Code type;                // Segmented Property Type
    const Code* laterality;   // Segmented Property Type Modifier, or null
    std::array<uint8_t, 3> rgb;  // recommended display colour (sRGB)
};

// Segmented Property Category of every organ: SCT 123037004 "Anatomical Structure".
extern const Code kAnatomicalStructure;

// The 13 organs in label order (entry l - 1 describes label l).
const std::array<OrganCode, 13>& organ_codes();

}  // namespace swu
