// Where the cells of a coevolution sit and who their neighbours are.
#pragma once

#include <cstddef>
#include <vector>

#include "evoae/coevo/settings.h"

namespace evoae {

// The cells of cell c's neighbourhood, the centre first (the pair of a cell's own encoder and
// decoder is pair (0, 0) of its loss matrix). A ring (the public code's order): for d = 1 ..
// radius, the cell d to the right (c + d mod N), then d to the left (c - d mod N). A torus of
// rows x N/rows cells (c = row * columns + column), wrapping at the edges: the cells at
// Manhattan distance d = 1 .. radius, for each d by row offset from -d up, the negative column
// offset before the positive. A cell may appear more than once when the ring or torus is small
// (a ring of 2 with radius 1: the other cell right and left): each appearance is a member, as
// in the public code, so the neighbourhood always has 1 + 2 radius cells on a ring and
// 1 + 2 radius (radius + 1) on a torus.
std::vector<std::size_t> neighbourhood(Topology topology, std::size_t cells, int radius,
                                       int torus_rows, std::size_t cell);

}  // namespace evoae
