// Contour tracing for RT Structure Sets: filling the polygons by the even-odd rule at
// pixel centres gives back the mask exactly, and every polygon is simple.
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dicom/contours.hpp"

namespace {

// Even-odd fill at pixel centres (i + 0.5, j + 0.5), in pixel-corner coordinates.
std::vector<uint8_t> fill(const std::vector<swu::Contour>& contours, int columns, int rows) {
    std::vector<uint8_t> mask(static_cast<size_t>(columns * rows), 0);
    for (int j = 0; j < rows; ++j) {
        const double y = j + 0.5;
        for (const swu::Contour& c : contours)
            for (size_t k = 0; k < c.size(); ++k) {
                const swu::ContourPoint a = c[k], b = c[(k + 1) % c.size()];
                if ((a.y > y) == (b.y > y)) continue;
                const double x = a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y);
                for (int i = 0; i < columns; ++i)
                    if (i + 0.5 > x) mask[static_cast<size_t>(i + columns * j)] ^= 1;  // right of the crossing
            }
    }
    return mask;
}

std::vector<uint8_t> from_rows(const std::vector<std::string>& picture) {
    std::vector<uint8_t> mask;
    for (const std::string& row : picture)
        for (char c : row) mask.push_back(c == '#' ? 1 : 0);
    return mask;
}

void check_polygons(const std::vector<swu::Contour>& contours) {
    for (const swu::Contour& c : contours) {
        REQUIRE(c.size() >= 4);
        REQUIRE(c.size() % 2 == 0);  // corners alternate horizontal and vertical edges
        std::set<std::pair<int, int>> seen;
        for (size_t k = 0; k < c.size(); ++k) {
            CHECK(seen.insert({c[k].x, c[k].y}).second);  // simple: no vertex twice
            const swu::ContourPoint a = c[k], b = c[(k + 1) % c.size()], d = c[(k + 2) % c.size()];
            CHECK(((a.x == b.x) != (a.y == b.y)));          // axis-parallel edges
            CHECK(!((a.x == b.x && b.x == d.x) || (a.y == b.y && b.y == d.y)));  // no collinear vertex kept
        }
    }
}

}  // namespace

TEST_CASE("contours: a ring, an island in its hole and corner-touching pixels", "[unit]") {
    const std::vector<std::string> picture = {
        "..........",
        ".#######..",
        ".#.....#..",
        ".#.##..#..",
        ".#.##..#..",
        ".#.....#.#",
        ".#######.#",
        "........#.",
        "#......#..",
    };
    const int columns = 10, rows = static_cast<int>(picture.size());
    const std::vector<uint8_t> mask = from_rows(picture);
    const std::vector<swu::Contour> contours = swu::trace_contours(mask.data(), columns, rows);
    check_polygons(contours);
    // The ring's outer and inner (hole) borders, the island, the right-hand bar, and
    // three single pixels, two of which touch others only at corners.
    CHECK(contours.size() == 7);
    CHECK(fill(contours, columns, rows) == mask);
    // The ring's outer border starts at its top-left corner and runs clockwise.
    REQUIRE(!contours.empty());
    const swu::Contour& ring = contours.front();
    CHECK(ring == swu::Contour{{1, 1}, {8, 1}, {8, 7}, {1, 7}});
}

TEST_CASE("contours: a border that pinches at a corner becomes two simple polygons", "[unit]") {
    // One 4-connected shape whose ends touch at a corner, around a background pixel that
    // reaches the outside through that corner: one border, visiting the corner twice.
    const std::vector<std::string> picture = {
        "###.",
        "#.#.",
        "##..",
    };
    const std::vector<uint8_t> mask = from_rows(picture);
    const std::vector<swu::Contour> contours = swu::trace_contours(mask.data(), 4, 3);
    check_polygons(contours);
    CHECK(contours.size() == 2);
    CHECK(fill(contours, 4, 3) == mask);
}

TEST_CASE("contours: random masks fill back exactly, an empty mask has none", "[unit]") {
    std::vector<uint8_t> empty(12 * 7, 0);
    CHECK(swu::trace_contours(empty.data(), 12, 7).empty());
    std::mt19937 rng(7);
    for (int trial = 0; trial < 300; ++trial) {
        const int columns = 1 + static_cast<int>(rng() % 40), rows = 1 + static_cast<int>(rng() % 40);
        const double density = (rng() % 100) / 100.0;
        std::vector<uint8_t> mask(static_cast<size_t>(columns * rows));
        for (uint8_t& m : mask) m = std::uniform_real_distribution<double>(0, 1)(rng) < density ? 1 : 0;
        const std::vector<swu::Contour> contours = swu::trace_contours(mask.data(), columns, rows);
        INFO("trial " << trial << ": " << columns << " x " << rows << ", density " << density);
        check_polygons(contours);
        REQUIRE(fill(contours, columns, rows) == mask);
    }
}
