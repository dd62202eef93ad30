#include "evoae/coevo/topology.h"

#include <cstdlib>
#include <stdexcept>

namespace evoae {
namespace {

// a mod n in 0 .. n-1 for any integer a.
std::size_t wrap(long long a, std::size_t n) {
  const long long m = static_cast<long long>(n);
  return static_cast<std::size_t>(((a % m) + m) % m);
}

}  // namespace

std::vector<std::size_t> neighbourhood(Topology topology, std::size_t cells, int radius,
                                       int torus_rows, std::size_t cell) {
  if (cells == 0 || cell >= cells || radius < 0)
    throw std::invalid_argument("neighbourhood: cell " + std::to_string(cell) + " of " +
                                std::to_string(cells) + " cells, radius " +
                                std::to_string(radius));
  std::vector<std::size_t> out{cell};
  const auto c = static_cast<long long>(cell);
  if (topology == Topology::Ring) {
    for (int d = 1; d <= radius; ++d) {
      out.push_back(wrap(c + d, cells));
      out.push_back(wrap(c - d, cells));
    }
    return out;
  }
  if (torus_rows < 1 || cells % static_cast<std::size_t>(torus_rows) != 0)
    throw std::invalid_argument("neighbourhood: torus_rows must divide the cells");
  const std::size_t rows = static_cast<std::size_t>(torus_rows), columns = cells / rows;
  const long long row = c / static_cast<long long>(columns);
  const long long column = c % static_cast<long long>(columns);
  for (int d = 1; d <= radius; ++d)
    for (int dr = -d; dr <= d; ++dr) {
      const int dc = d - std::abs(dr);
      for (int sign : {-1, 1}) {
        if (dc == 0 && sign == 1) break;  // one cell on the column of the centre
        out.push_back(wrap(row + dr, rows) * columns + wrap(column + sign * dc, columns));
      }
    }
  return out;
}

}  // namespace evoae
