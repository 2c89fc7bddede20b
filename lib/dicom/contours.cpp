#include "dicom/contours.hpp"

#include <algorithm>

namespace swu {
namespace {

// Directions along pixel borders, clockwise as seen with y pointing down.
enum : int { kEast = 0, kSouth = 1, kWest = 2, kNorth = 3 };
constexpr int kDx[4] = {1, 0, -1, 0};
constexpr int kDy[4] = {0, 1, 0, -1};

struct Step {
    int64_t corner;
    int dir;  // the direction the border leaves this corner in
};

class Tracer {
public:
    Tracer(const uint8_t* mask, int64_t columns, int64_t rows) {
        // Only the mask's bounding box (plus its border) is looked at.
        int64_t x0 = columns, y0 = rows, x1 = -1, y1 = -1;
        for (int64_t j = 0; j < rows; ++j)
            for (int64_t i = 0; i < columns; ++i)
                if (mask[i + columns * j]) {
                    x0 = std::min(x0, i), x1 = std::max(x1, i);
                    y0 = std::min(y0, j), y1 = std::max(y1, j);
                }
        if (x1 < 0) return;
        ox_ = x0, oy_ = y0;
        w_ = x1 - x0 + 1, h_ = y1 - y0 + 1;
        const size_t corners = static_cast<size_t>((w_ + 1) * (h_ + 1));
        out_.assign(corners, 0);
        used_.assign(corners, 0);
        position_.assign(corners, -1);
        auto inside = [&](int64_t i, int64_t j) {  // box coordinates
            return i >= 0 && j >= 0 && i < w_ && j < h_ && mask[(i + ox_) + columns * (j + oy_)] != 0;
        };
        // Every border between a mask pixel and the rest, directed with the pixel on its right.
        for (int64_t j = 0; j < h_; ++j)
            for (int64_t i = 0; i < w_; ++i) {
                if (!inside(i, j)) continue;
                if (!inside(i, j - 1)) out_[corner(i, j)] |= 1 << kEast;
                if (!inside(i + 1, j)) out_[corner(i + 1, j)] |= 1 << kSouth;
                if (!inside(i, j + 1)) out_[corner(i + 1, j + 1)] |= 1 << kWest;
                if (!inside(i - 1, j)) out_[corner(i, j + 1)] |= 1 << kNorth;
            }
    }

    std::vector<Contour> trace() {
        for (int64_t c = 0; c < static_cast<int64_t>(out_.size()); ++c)
            for (int d = 0; d < 4; ++d)
                if ((out_[static_cast<size_t>(c)] & ~used_[static_cast<size_t>(c)]) & (1 << d)) follow(c, d);
        return std::move(contours_);
    }

private:
    int64_t corner(int64_t x, int64_t y) const { return x + (w_ + 1) * y; }

    // Walks one closed border from the edge leaving `start` in direction `dir`. At a
    // corner with two ways out (two pixels touching only there), the border turns right,
    // so it keeps to the pixel it runs along: such pixels get separate borders.
    void follow(int64_t start, int dir) {
        int64_t c = start;
        int d = dir;
        do {
            used_[static_cast<size_t>(c)] |= static_cast<uint8_t>(1 << d);
            visit(c, d);
            c += kDx[d] + (w_ + 1) * kDy[d];
            const uint8_t ways = out_[static_cast<size_t>(c)];
            for (int turn : {1, 0, 3})  // right, straight, left
                if (ways & (1 << ((d + turn) % 4))) {
                    d = (d + turn) % 4;
                    break;
                }
        } while (c != start || d != dir);
        emit(0);
    }

    // Appends a corner to the walk; a corner seen before closes a loop, cut off at once.
    void visit(int64_t c, int d) {
        const int64_t seen = position_[static_cast<size_t>(c)];
        if (seen >= 0) emit(static_cast<size_t>(seen));
        position_[static_cast<size_t>(c)] = static_cast<int64_t>(path_.size());
        path_.push_back({c, d});
    }

    // path_[from..] is a closed loop: keeps its corners where the direction changes.
    void emit(size_t from) {
        const size_t n = path_.size() - from;
        Contour contour;
        for (size_t k = 0; k < n; ++k) {
            const Step& s = path_[from + k];
            const Step& before = path_[from + (k + n - 1) % n];
            if (s.dir != before.dir)
                contour.push_back({static_cast<int32_t>(s.corner % (w_ + 1) + ox_), static_cast<int32_t>(s.corner / (w_ + 1) + oy_)});
        }
        for (size_t k = from; k < path_.size(); ++k) position_[static_cast<size_t>(path_[k].corner)] = -1;
        path_.resize(from);
        contours_.push_back(std::move(contour));
    }

    int64_t ox_ = 0, oy_ = 0, w_ = 0, h_ = 0;
    std::vector<uint8_t> out_, used_;   // per corner: border directions leaving it, and those walked
    std::vector<int64_t> position_;     // per corner: its index in path_, or -1
    std::vector<Step> path_;
    std::vector<Contour> contours_;
};

}  // namespace

std::vector<Contour> trace_contours(const uint8_t* mask, int64_t columns, int64_t rows) {
    return Tracer(mask, columns, rows).trace();
}

}  // namespace swu
