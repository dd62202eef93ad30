#include "evoae/coevo/schedule.h"

#include <cmath>

namespace evoae {

double prune_probability(PruneSchedule schedule, double p, long t, long T, std::size_t n) {
  const double x = T > 0 ? static_cast<double>(t) / static_cast<double>(T) : 1.0;
  switch (schedule) {
    case PruneSchedule::Fixed: return p;
    case PruneSchedule::Increase: return p * x;
    case PruneSchedule::Decrease: return 1.0 - p * x;
    case PruneSchedule::Population: return p * x / static_cast<double>(n);
    case PruneSchedule::FinalN: return static_cast<double>(t) >= 0.75 * T ? p : 0.0;
    case PruneSchedule::PruneAfter: return t >= T ? p : 0.0;
    case PruneSchedule::Exponential: return p * (1.0 - std::exp(-2.0 * x));
  }
  return 0.0;
}

}  // namespace evoae
