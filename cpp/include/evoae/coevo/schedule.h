// When pruning happens: the probability of a prune at epoch t of a run whose last epoch is T.
#pragma once

#include <cstddef>

#include "evoae/coevo/settings.h"

namespace evoae {

// With x = t / T (1 when T = 0), p the base probability and n the neighbourhood size:
//   fixed p;  increase p x;  decrease 1 - p x;  population p x / n;
//   final_n p when t >= 0.75 T, else 0;  prune_after p when t >= T, else 0;
//   exponential p (1 - exp(-2 x)).
// (decrease is the public code's 1 - p x, which starts at 1 whatever p is.)
double prune_probability(PruneSchedule schedule, double p, long t, long T, std::size_t n);

}  // namespace evoae
