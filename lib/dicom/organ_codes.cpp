#include "dicom/organ_codes.hpp"

namespace swu {

const Code kAnatomicalStructure{"123037004", "SCT", "Anatomical Structure"};

namespace {

const Code kRight{"24028007", "SCT", "Right"};
const Code kLeft{"7771000", "SCT", "Left"};

// Colours follow 3D Slicer's generic anatomy colour table, so a viewer shows the
// organs as radiologists are used to. Label 10 (portal and splenic veins) is coded as
// the portal vein, SCT 32764006 (CID 12114 "Abdominopelvic Vein (Unpaired)"): SNOMED
// has no concept for the pair, the portal vein is the larger part of the class and the
// segment label names both.
const std::array<OrganCode, 13> kOrgans = {{
    {1, "spleen", {"78961009", "SCT", "Spleen"}, nullptr, {157, 108, 162}},
    {2, "right kidney", {"64033007", "SCT", "Kidney"}, &kRight, {185, 102, 83}},
    {3, "left kidney", {"64033007", "SCT", "Kidney"}, &kLeft, {185, 102, 83}},
    {4, "gallbladder", {"28231008", "SCT", "Gallbladder"}, nullptr, {139, 150, 98}},
    {5, "esophagus", {"32849002", "SCT", "Esophagus"}, nullptr, {211, 171, 143}},
    {6, "liver", {"10200004", "SCT", "Liver"}, nullptr, {221, 130, 101}},
    {7, "stomach", {"69695003", "SCT", "Stomach"}, nullptr, {216, 132, 105}},
    {8, "aorta", {"15825003", "SCT", "Aorta"}, nullptr, {224, 97, 76}},
    {9, "inferior vena cava", {"64131007", "SCT", "Inferior vena cava"}, nullptr, {0, 151, 206}},
    {10, "portal and splenic veins", {"32764006", "SCT", "Portal vein"}, nullptr, {0, 112, 165}},
    {11, "pancreas", {"15776009", "SCT", "Pancreas"}, nullptr, {249, 180, 111}},
    {12, "right adrenal gland", {"23451007", "SCT", "Adrenal gland"}, &kRight, {244, 214, 49}},
    {13, "left adrenal gland", {"23451007", "SCT", "Adrenal gland"}, &kLeft, {244, 214, 49}},
}};

}  // namespace

const std::array<OrganCode, 13>& organ_codes() { return kOrgans; }

}  // namespace swu
