// Strategies by name, and the one place that makes them.
#include "evoae/evo/strategy.h"

#include <stdexcept>

#include "evoae/evo/cma_es.h"
#include "evoae/evo/genetic_algorithm.h"
#include "evoae/evo/lm_ma_es.h"
#include "evoae/evo/openai_es.h"
#include "evoae/evo/pgpe.h"
#include "evoae/evo/sep_cma_es.h"
#include "evoae/evo/settings.h"
#include "evoae/evo/snes.h"
#include "evoae/evo/xnes.h"

namespace evoae {
namespace {

const char* const kNames[] = {"ga",        "cma-es",   "sep-cma-es", "snes",
                              "openai-es", "lm-ma-es", "xnes",       "pgpe"};

template <class S>
std::unique_ptr<Strategy> make(const EvolutionSettings& s, std::size_t n, int threads,
                               StrategyState* state) {
  if (state) return std::make_unique<S>(s, n, threads, std::move(*state));
  return std::make_unique<S>(s, n, threads);
}

}  // namespace

const char* name(StrategyKind k) { return kNames[static_cast<int>(k)]; }

std::vector<std::string> strategy_names() { return {std::begin(kNames), std::end(kNames)}; }

StrategyKind parse_strategy(const std::string& text) {
  for (int k = 0; k < static_cast<int>(std::size(kNames)); ++k)
    if (text == kNames[k]) return static_cast<StrategyKind>(k);
  std::string valid;
  for (const char* n : kNames) valid += (valid.empty() ? "" : ", ") + std::string(n);
  throw std::invalid_argument("unknown strategy '" + text + "': choose " + valid);
}

void Strategy::replace_genomes(const float*, std::size_t) {
  throw std::logic_error("this strategy samples its genomes: it cannot take changed ones");
}

std::unique_ptr<Strategy> make_strategy(const Network& net, const EvolutionSettings& s,
                                        int threads, StrategyState* state) {
  const std::size_t n = net.num_params();
  switch (s.strategy) {
    case StrategyKind::Ga:
      if (state) return std::make_unique<GeneticAlgorithm>(net, s, threads, std::move(*state));
      return std::make_unique<GeneticAlgorithm>(net, s, threads);
    case StrategyKind::CmaEs: return make<CmaEs>(s, n, threads, state);
    case StrategyKind::SepCmaEs: return make<SepCmaEs>(s, n, threads, state);
    case StrategyKind::Snes: return make<Snes>(s, n, threads, state);
    case StrategyKind::OpenAiEs: return make<OpenAiEs>(s, n, threads, state);
    case StrategyKind::LmMaEs: return make<LmMaEs>(s, n, threads, state);
    case StrategyKind::Xnes: return make<Xnes>(s, n, threads, state);
    case StrategyKind::Pgpe: return make<Pgpe>(s, n, threads, state);
  }
  throw std::invalid_argument("unknown strategy");
}

}  // namespace evoae
