// When a run stops, for every system that runs generations (evolution, training): the
// conditions, the reason, and the one loop that checks them after each generation.
#pragma once

#include <chrono>
#include <limits>
#include <optional>

namespace evoae {

// advance() runs until the first of these holds (unset ones never do). Every condition is
// checked after each generation, so a run stops at the exact generation it names.
struct StopConditions {
  long max_generations = std::numeric_limits<long>::max();
  double max_seconds = std::numeric_limits<double>::infinity();
  double target_error = -1.0;   // best_error() <= target_error (fitness units)
  double target_metric = -1.0;  // best_metric() <= target_metric (e.g. MAE per pixel)
  long patience = 0;            // > 0: the lowest best fitness is this many generations old
};
// A stop from outside (Ctrl-C, SIGTERM, a window) is the Python loop's (evoae/run.py): it
// checks its stop event between calls of advance(), which return every fraction of a second.
enum class StopReason { Generations, Seconds, Target, Patience };
inline const char* name(StopReason r) {
  switch (r) {
    case StopReason::Generations: return "generations";
    case StopReason::Seconds: return "seconds";
    case StopReason::Target: return "target";
    case StopReason::Patience: return "patience";
  }
  return "";
}
struct Advanced {
  long generations;
  StopReason reason;
};

// Runs system.step() until a condition holds. The system has step(), generation(),
// best_error(), best_metric() and improved_at() (the generation of its lowest best fitness).
template <class System>
Advanced advance_until(System& system, const StopConditions& stop) {
  const auto start = std::chrono::steady_clock::now();
  long done = 0;
  // A condition that holds ends the run; checked before each generation and after the last.
  auto holds = [&]() -> std::optional<StopReason> {
    if (done >= stop.max_generations) return StopReason::Generations;
    if (system.best_error() <= stop.target_error) return StopReason::Target;
    if (stop.target_metric >= 0.0 && system.best_metric() <= stop.target_metric)
      return StopReason::Target;
    if (stop.patience > 0 && system.generation() - system.improved_at() >= stop.patience)
      return StopReason::Patience;
    return std::nullopt;
  };
  while (true) {
    if (const std::optional<StopReason> reason = holds()) return {done, *reason};
    system.step();
    ++done;
    if (holds()) continue;  // the better reason to give
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    if (elapsed.count() >= stop.max_seconds) return {done, StopReason::Seconds};
  }
}

}  // namespace evoae
