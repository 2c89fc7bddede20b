// An RGB picture for the CLI's previews: rectangles, text in a built-in 5x7 bitmap font
// (printable ASCII), and PNG output through libpng.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace swu_cli {

using Rgb = std::array<uint8_t, 3>;

struct Picture {
    int width = 0, height = 0;
    std::vector<uint8_t> rgb;  // row by row, 3 bytes per pixel

    Picture(int w, int h, Rgb background);
    Rgb at(int x, int y) const;
    void set(int x, int y, Rgb c);  // ignores pixels outside
    void fill(int x, int y, int w, int h, Rgb c);
};

// Text in the 5x7 font (9 rows with the descenders), each font pixel `scale` x `scale`,
// one blank column between characters; (x, y) is the top-left corner. Characters outside
// printable ASCII show as '?'.
void draw_text(Picture& picture, int x, int y, const std::string& text, Rgb colour, int scale);
int text_width(const std::string& text, int scale);
constexpr int kGlyphRows = 9;
constexpr int text_height(int scale) { return kGlyphRows * scale; }

// Writes the picture as an 8-bit RGB PNG (libpng), atomically; `software` goes into its
// Software text chunk. Throws std::runtime_error naming the file.
void write_png(const std::string& path, const Picture& picture, const std::string& software);

}  // namespace swu_cli
