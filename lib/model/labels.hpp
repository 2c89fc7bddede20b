// The bundle's 14 classes (BTCV): 0 background, then the 13 organs in label order.
#pragma once

namespace swu {

constexpr int kLabelCount = 14;

// "spleen", "right kidney", ...; nullptr outside 0..13.
inline const char* label_name(int label) {
    static const char* const names[kLabelCount] = {
        "background", "spleen",  "right kidney", "left kidney",        "gallbladder",
        "esophagus",  "liver",   "stomach",      "aorta",              "inferior vena cava",
        "portal and splenic veins", "pancreas", "right adrenal gland", "left adrenal gland"};
    return label >= 0 && label < kLabelCount ? names[label] : nullptr;
}

}  // namespace swu
