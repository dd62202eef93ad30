// The evolution strategies (strategy.h) on the test functions (eval/test_function.h): each
// reaches the published range of evaluations on the sphere, makes progress on the harder
// functions, gives the same run on any thread count, and continues bit for bit from a saved
// state; and on a network, through the same engine.
#include <cstdio>
#include <string>

#include "check.h"
#include "evoae/eval/test_function.h"
#include "evoae/evo/restarts.h"
#include "evoae/evo/search_distribution.h"
#include "evoae/evo/snes.h"

using namespace evoae;

namespace {

const StrategyKind kStrategies[] = {StrategyKind::CmaEs, StrategyKind::SepCmaEs,
                                    StrategyKind::Snes, StrategyKind::OpenAiEs,
                                    StrategyKind::LmMaEs, StrategyKind::Xnes,
                                    StrategyKind::Pgpe};

EvolutionSettings es_settings(StrategyKind kind, int population, double sigma,
                              std::uint64_t seed = 1, int threads = 1) {
  EvolutionSettings s;
  s.strategy = kind;
  s.population = population;
  s.sigma = sigma;
  s.seed = seed;
  s.threads = threads;
  return s;
}

// Evaluations until the best of a generation has f <= target, or max_evaluations.
std::uint64_t evaluations_to(Evolution& evo, double target, std::uint64_t max_evaluations) {
  StopConditions stop;
  stop.target_error = target;
  while (evo.best_error() > target && evo.evaluations() < max_evaluations) {
    stop.max_generations = 100;
    evo.advance(stop);
  }
  return evo.evaluations();
}

std::vector<float> all_genomes(const Evolution& e) {
  const std::size_t n = e.settings().population * e.network().num_params();
  return std::vector<float>(e.genome(0), e.genome(0) + n);
}

}  // namespace

TEST(test_functions_by_hand) {
  const float x[3] = {1.0f, -2.0f, 0.5f};
  CHECK_NEAR(test_function(TestFunction::Sphere, x, 3), 5.25, 1e-12);
  CHECK_NEAR(test_function(TestFunction::Ellipsoid, x, 3), 1.0 + 1e3 * 4.0 + 1e6 * 0.25, 1e-6);
  // 100 (-2 - 1)^2 + 0^2 + 100 (0.5 - 4)^2 + 3^2
  CHECK_NEAR(test_function(TestFunction::Rosenbrock, x, 3), 900.0 + 1225.0 + 9.0, 1e-9);
  // 30 + 5.25 - 10 (cos 2pi + cos 4pi + cos pi) = 35.25 - 10
  CHECK_NEAR(test_function(TestFunction::Rastrigin, x, 3), 25.25, 1e-9);
  const float one[4] = {1, 1, 1, 1};
  CHECK(test_function(TestFunction::Rosenbrock, one, 4) == 0.0);
  CHECK(test_function_network(10).num_params() == 10);
  CHECK_THROWS_AS(test_function_network(1), std::invalid_argument);
  CHECK_THROWS_AS(parse_test_function("ackley"), std::invalid_argument);
}

TEST(weights_and_utilities) {
  const std::vector<double> w = recombination_weights(10);  // mu = 5
  CHECK(w.size() == 5);
  double sum = 0;
  for (std::size_t i = 0; i < w.size(); ++i) sum += w[i];
  CHECK_NEAR(sum, 1.0, 1e-12);
  CHECK(w[0] > w[1] && w[3] > w[4] && w[4] > 0);
  const std::vector<double> u = nes_utilities(10);
  double usum = 0;
  for (double x : u) usum += x;
  CHECK_NEAR(usum, 0.0, 1e-12);
  CHECK_NEAR(u[9], -0.1, 1e-12);  // the worse half: -1/P
  CHECK(u[0] > u[1]);
}

// Evaluations to f <= 1e-8 on the 10-D sphere from sigma 1, population 4 + 3 ln 10 = 10, the
// median of 5 seeds. Measured: cma-es 1,290, sep-cma-es 1,120, snes 1,820, xnes 6,030; pycma
// 4.5 with the same start, popsize and seeds 1-5: 1,360 (CMA-ES), 1,130 (CMA_diagonal);
// pypop7 0.0.82, same settings: SNES 1,838, XNES 5,993 (xNES's small eta_s); Hansen's tutorial
// puts CMA-ES on the 10-D sphere at about 1,500 (tests/python/test_strategies.py compares with
// pycma). OpenAI-ES keeps sigma fixed and cannot reach 1e-8: it gets near sigma^2 n.
TEST(sphere_10d_within_published_evaluations) {
  const std::pair<StrategyKind, std::uint64_t> limits[] = {
      {StrategyKind::CmaEs, 2500}, {StrategyKind::SepCmaEs, 2500}, {StrategyKind::Snes, 6000},
      {StrategyKind::Xnes, 9000}};
  for (const auto& [kind, limit] : limits) {
    std::vector<std::uint64_t> runs;
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      Evolution evo(TestFunction::Sphere, 10, es_settings(kind, 10, 1.0, seed));
      runs.push_back(evaluations_to(evo, 1e-8, 100000));
      CHECK(evo.best_error() <= 1e-8);
    }
    std::sort(runs.begin(), runs.end());
    std::printf("  %s: sphere 10-D to 1e-8 in %llu evaluations (median of 5, %llu-%llu)\n",
                name(kind), (unsigned long long)runs[2], (unsigned long long)runs[0],
                (unsigned long long)runs[4]);
    CHECK(runs[2] <= limit);
  }
  Evolution openai(TestFunction::Sphere, 10, es_settings(StrategyKind::OpenAiEs, 10, 0.02));
  const double start = openai.best_error();
  openai.advance(2000, 1e9, -1);
  std::printf("  openai-es: sphere 10-D from %.3g to %.3g in %llu evaluations\n", start,
              openai.best_error(), (unsigned long long)openai.evaluations());
  CHECK(openai.best_error() < 0.05);
  Evolution pgpe(TestFunction::Sphere, 10, es_settings(StrategyKind::Pgpe, 10, 1.0));
  pgpe.advance(2000, 1e9, -1);
  std::printf("  pgpe: sphere 10-D from %.3g to %.3g in %llu evaluations\n", pgpe.history()[0],
              pgpe.best_error(), (unsigned long long)pgpe.evaluations());
  CHECK(pgpe.best_error() < pgpe.history()[0] / 10);  // alpha's scale: 0.28
}

// Ellipsoid (condition 1e6), Rosenbrock and Rastrigin in 10-D: the covariance learners solve
// the first two; every strategy at least makes progress on all.
TEST(progress_on_harder_functions) {
  for (TestFunction f :
       {TestFunction::Ellipsoid, TestFunction::Rosenbrock, TestFunction::Rastrigin}) {
    for (StrategyKind kind : kStrategies) {
      const bool openai = kind == StrategyKind::OpenAiEs;
      Evolution evo(f, 10, es_settings(kind, 10, openai ? 0.02 : 1.0));
      const double start = evo.history()[0];
      const std::uint64_t used = evaluations_to(evo, 1e-8, 20000);
      double best = evo.history()[0];
      for (double h : evo.history()) best = std::min(best, h);
      std::printf("  %s on %s: %.3g -> %.3g in %llu evaluations\n", name(kind), name(f), start,
                  best, (unsigned long long)used);
      CHECK(best < start / 3);
      if (f != TestFunction::Rastrigin && kind == StrategyKind::CmaEs) CHECK(best <= 1e-8);
      // LM-MA-ES's learning rates are made for n > 2 P (its own test is below).
      // PGPE's ClipUp steps keep their size: it settles at their scale (pgpe.h).
      if (f == TestFunction::Ellipsoid && !openai && kind != StrategyKind::LmMaEs &&
          kind != StrategyKind::Pgpe)
        CHECK(best <= 1e-8);
    }
  }
}

// LM-MA-ES where it is meant to run (n > 2 P): 100-D, population 4 + 3 ln 100 = 17, sigma 1,
// beside sep-CMA-ES and CMA-ES (seed 1). Measured: sphere lm-ma-es 8,823, sep-cma-es 9,775,
// cma-es 10,693; pypop7 0.0.82's LMMAES, same settings: 9,148. Ellipsoid: sep-cma-es 29,376,
// cma-es 392,870; LM-MA-ES's few directions learn its 100 scales slowly: f 0.83 after 400,000
// evaluations (pypop7's: 1.8), so only its progress is checked.
TEST(lm_ma_es_in_100d) {
  const StrategyKind kinds[] = {StrategyKind::LmMaEs, StrategyKind::SepCmaEs,
                                StrategyKind::CmaEs};
  std::uint64_t used[3];
  for (int k = 0; k < 3; ++k) {
    Evolution evo(TestFunction::Sphere, 100, es_settings(kinds[k], 17, 1.0));
    used[k] = evaluations_to(evo, 1e-8, 100000);
    std::printf("  %s: sphere 100-D to 1e-8 in %llu evaluations\n", name(kinds[k]),
                (unsigned long long)used[k]);
    CHECK(evo.best_error() <= 1e-8);
  }
  CHECK(used[0] <= 2 * used[1]);
  Evolution evo(TestFunction::Ellipsoid, 100, es_settings(StrategyKind::LmMaEs, 17, 1.0));
  const double start = evo.best_error();
  evo.advance(3000, 1e9, -1);
  std::printf("  lm-ma-es: ellipsoid 100-D from %.3g to %.3g in %llu evaluations\n", start,
              evo.best_error(), (unsigned long long)evo.evaluations());
  CHECK(evo.best_error() < start / 1000);
}

TEST(same_run_on_any_thread_count) {
  for (StrategyKind kind : kStrategies) {
    // 300 parameters: CMA-ES's matrix update and sampling run in parallel.
    Evolution one(TestFunction::Rastrigin, 300, es_settings(kind, 12, 0.5, 3, 1));
    Evolution two(TestFunction::Rastrigin, 300, es_settings(kind, 12, 0.5, 3, 2));
    one.advance(30, 1e9, -1);
    two.advance(30, 1e9, -1);
    CHECK(one.history() == two.history());
    CHECK(all_genomes(one) == all_genomes(two));
    CHECK(one.state().strategy == two.state().strategy);
    CHECK(*std::min_element(one.history().begin(), one.history().end()) <
          one.history().front());
  }
}

TEST(state_restores_bit_for_bit) {
  for (StrategyKind kind : kStrategies) {
    const EvolutionSettings s = es_settings(kind, 8, 0.5, 5);
    Evolution straight(TestFunction::Ellipsoid, 12, s);
    Evolution first(TestFunction::Ellipsoid, 12, s);
    straight.advance(60, 1e9, -1);
    first.advance(25, 1e9, -1);
    Evolution resumed(TestFunction::Ellipsoid, 12, first.settings(), first.state());
    resumed.advance(35, 1e9, -1);
    CHECK(resumed.generation() == 60);
    CHECK(resumed.history() == straight.history());
    CHECK(all_genomes(resumed) == all_genomes(straight));
    CHECK(resumed.state().strategy == straight.state().strategy);
    CHECK(resumed.sigma() == straight.sigma());
    EvolutionState damaged = first.state();
    damaged.strategy.pop_back();
    CHECK_THROWS_AS(Evolution(TestFunction::Ellipsoid, 12, first.settings(), damaged),
                    std::invalid_argument);
  }
}

TEST(strategies_train_a_network) {
  const std::vector<float> images = random_images(3);
  for (StrategyKind kind : kStrategies) {
    EvolutionSettings s = es_settings(kind, 10, 0.0);  // the strategy's default sigma
    Evolution evo(small_network(), images, 3, s);
    CHECK(evo.settings().sigma > 0);
    const double start = evo.history()[0];
    evo.advance(150, 1e9, -1);
    double best = start;
    for (double h : evo.history()) best = std::min(best, h);
    CHECK(best < start);
    CHECK(evo.evaluations() == 151u * 10u * 3u);  // every agent is new each generation
    CHECK(evo.sigmas().size() == 10u);
  }
}

TEST(strategy_settings_checked) {
  const std::vector<float> images = random_images(1);
  EvolutionSettings s = es_settings(StrategyKind::CmaEs, 10, 0.0);
  s.mutation = Mutation::Gaussian;
  CHECK_THROWS_AS(Evolution(small_network(), images, 1, s), std::invalid_argument);
  s = es_settings(StrategyKind::Snes, 10, 0.0);
  s.elites = 2;
  CHECK_THROWS_AS(Evolution(small_network(), images, 1, s), std::invalid_argument);
  s = es_settings(StrategyKind::OpenAiEs, 9, 0.0);  // antithetic pairs
  CHECK_THROWS_AS(Evolution(small_network(), images, 1, s), std::invalid_argument);
  s = es_settings(StrategyKind::SepCmaEs, 1, 0.0);
  CHECK_THROWS_AS(Evolution(small_network(), images, 1, s), std::invalid_argument);
  s = settings(10, 1);
  s.learning_rate = 0.1;  // openai-es and pgpe only
  CHECK_THROWS_AS(Evolution(small_network(), images, 1, s), std::invalid_argument);
  s = es_settings(StrategyKind::CmaEs, 10, 1.0);
  s.batch = 1;
  CHECK_THROWS_AS(Evolution(TestFunction::Sphere, 10, s), std::invalid_argument);
  CHECK_THROWS_AS(parse_strategy("cma"), std::invalid_argument);
  CHECK(parse_strategy("sep-cma-es") == StrategyKind::SepCmaEs);
  Evolution openai(small_network(), images, 1, es_settings(StrategyKind::OpenAiEs, 10, 0.0));
  CHECK(openai.settings().sigma == 0.02);
  CHECK(openai.settings().learning_rate == 0.01);
  CHECK(openai.settings().weight_decay == 0.005);
}

// The populations the engine went through, generation by generation, up to `generations`.
std::vector<std::size_t> populations_over(Evolution& evo, long generations) {
  std::vector<std::size_t> sizes{evo.population()};
  while (evo.generation() < generations) {
    evo.step();
    sizes.push_back(evo.population());
  }
  return sizes;
}

TEST(default_population_per_strategy) {
  CHECK(default_population(StrategyKind::Ga, 1397) == 20);
  CHECK(default_population(StrategyKind::CmaEs, 10) == 10);       // 4 + floor(6.91)
  CHECK(default_population(StrategyKind::SepCmaEs, 1397) == 25);  // 4 + floor(21.7)
  CHECK(default_population(StrategyKind::Xnes, 100) == 17);       // 4 + floor(13.8)
  CHECK(default_population(StrategyKind::OpenAiEs, 1397) == 10000);
  CHECK(default_population(StrategyKind::Pgpe, 1397) == 200);
  CHECK(default_population(StrategyKind::Snes, 0) == 4);
  EvolutionSettings s = es_settings(StrategyKind::LmMaEs, -1, 1.0);  // population not given
  CHECK(Evolution(TestFunction::Sphere, 100, s).settings().population == 17);
  CHECK(Evolution(TestFunction::Sphere, 100, s).population() == 17u);
  s.population = 6;
  CHECK(Evolution(TestFunction::Sphere, 100, s).settings().population == 6);
  EvolutionSettings ga;
  ga.threads = 1;
  CHECK(Evolution(TestFunction::Sphere, 100, ga).settings().population == 20);
}

// Hand-made histories and distributions on each side of each criterion (restarts.h).
TEST(restart_criteria_by_hand) {
  RunHistory flat(10, 10);  // TolFun over 10 + 30 generations, Stagnation from 150
  const std::vector<double> close(10, 1.0 + 1e-13), apart = {1.0, 1.0 + 1e-11};
  for (int g = 0; g < 39; ++g) flat.add(1.0, 1.0);
  CHECK(!flat.tol_fun(close));  // 39 generations: too few
  flat.add(1.0, 1.0);
  CHECK(flat.tol_fun(close));
  CHECK(!flat.tol_fun(apart));
  for (int g = 40; g < 149; ++g) flat.add(1.0, 2.0);
  CHECK(!flat.stagnation());  // 149 generations
  flat.add(1.0, 2.0);
  CHECK(flat.stagnation());   // the recent medians are no better than the first
  RunHistory improving(10, 10);
  for (int g = 0; g < 300; ++g) improving.add(1.0 / (g + 1), 2.0 / (g + 1));
  CHECK(!improving.stagnation() && !improving.tol_fun({1e-3, 1e-3}));
  RunHistory half(10, 10);  // the best improves, the median does not: no stagnation
  for (int g = 0; g < 300; ++g) half.add(1.0 / (g + 1), 5.0);
  CHECK(!half.stagnation());
  std::vector<double> saved;
  flat.write(saved);
  RunHistory back(10, 10);
  CHECK(back.read(saved.data(), saved.data() + saved.size()) == saved.data() + saved.size());
  CHECK(back.stagnation() && back.tol_fun(close));
  saved.pop_back();
  CHECK_THROWS_AS(back.read(saved.data(), saved.data() + saved.size()), std::invalid_argument);

  const std::vector<double> mean = {1.0, -2.0, 0.0}, path = {0.0, 0.0, 0.0};
  const auto stall = [&](double sigma, std::vector<double> var, double condition,
                         std::vector<double> axis) {
    const char* why = distribution_stall(
        {mean, sigma, std::move(var), path, condition, std::move(axis)}, 1.0);
    return std::string(why ? why : "none");
  };
  CHECK(stall(0.1, {1, 1, 1}, 10, {1, 0, 0}) == "none");
  CHECK(stall(1e-13, {1, 1, 1}, 1, {}) == "TolX");
  // 0.2 * 1e-17 on 1.0 is below double's half-ulp there (1.1e-16); 0 takes any step.
  CHECK(stall(1e-17, {1, 1, 1e12}, 1, {}) == "NoEffectCoord");
  CHECK(stall(1e-17, {1e6, 1e6, 1e12}, 1, {}) == "none");
  CHECK(stall(0.1, {1, 1, 1}, 1, {1e-16, 1e-16, 0}) == "NoEffectAxis");
  CHECK(stall(0.1, {1, 1, 1}, 1e15, {}) == "ConditionCov");
  CHECK(run_population(10, 2.0, 0) == 10u && run_population(10, 2.0, 3) == 80u);
  CHECK(run_population(10, 1.5, 2) == 23u);  // 22.5, rounded
}

// On the sphere a run ends by TolFun once f is below 1e-12; each restart doubles the
// population, and after the last the run goes on.
TEST(ipop_restarts_double_the_population) {
  for (StrategyKind kind : {StrategyKind::CmaEs, StrategyKind::SepCmaEs}) {
    EvolutionSettings s = es_settings(kind, -1, 1.0);
    s.restarts = 2;
    Evolution evo(TestFunction::Sphere, 10, s);
    CHECK(evo.settings().population == 10 && evo.settings().restart_growth == 2.0);
    const std::vector<std::size_t> sizes = populations_over(evo, 900);
    std::vector<std::size_t> runs{sizes[0]};
    std::uint64_t evaluations = 0;
    for (std::size_t g = 0; g < sizes.size(); ++g) {
      evaluations += sizes[g];
      if (sizes[g] == runs.back()) continue;
      runs.push_back(sizes[g]);
      CHECK(evo.history()[g - 1] < 1e-12);  // the run that ended had converged
    }
    std::printf("  %s: restarts at populations", name(kind));
    for (std::size_t p : runs) std::printf(" %zu", p);
    std::printf(" in %zu generations\n", sizes.size());
    CHECK((runs == std::vector<std::size_t>{10, 20, 40}));
    CHECK(evo.evaluations() == evaluations);
    CHECK(evo.errors().size() == 40u && evo.sigmas().size() == 40u);
  }
}

// Rastrigin in 10-D, sigma 1, at equal evaluations (50,000): IPOP's restarts leave the local
// minima one run stops in. Measured, seeds 1-5: cma-es alone 7.96-20.9, with restarts
// 3e-15-1.99 (median 6e-11); sep-cma-es alone 10.9-27.9, with restarts 0-0.995 (median 0).
TEST(ipop_beats_one_run_on_rastrigin) {
  constexpr std::uint64_t kBudget = 50000;
  for (StrategyKind kind : {StrategyKind::CmaEs, StrategyKind::SepCmaEs}) {
    std::vector<double> best[2];
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      for (int ipop = 0; ipop < 2; ++ipop) {
        EvolutionSettings s = es_settings(kind, -1, 1.0, seed);
        s.restarts = ipop ? 9 : 0;
        Evolution evo(TestFunction::Rastrigin, 10, s);
        while (evo.evaluations() + evo.population() <= kBudget) evo.step();
        best[ipop].push_back(*std::min_element(evo.history().begin(), evo.history().end()));
      }
      CHECK(best[1].back() < best[0].back());
    }
    for (std::vector<double>& b : best) std::sort(b.begin(), b.end());
    std::printf("  %s: rastrigin 10-D in %llu evaluations: alone %.3g-%.3g (median %.3g), "
                "ipop %.3g-%.3g (median %.3g)\n",
                name(kind), (unsigned long long)kBudget, best[0][0], best[0][4], best[0][2],
                best[1][0], best[1][4], best[1][2]);
    CHECK(best[1][2] < best[0][2] / 5);
  }
}

// A state saved a few generations before a restart, at the generation whose tell restarted
// (the arrays still the old run's) and just after, continues bit for bit, on another thread
// count too; states whose restarts do not fit are refused.
TEST(restarts_restore_bit_for_bit_on_any_thread_count) {
  for (StrategyKind kind : {StrategyKind::CmaEs, StrategyKind::SepCmaEs}) {
    EvolutionSettings s = es_settings(kind, -1, 1.0, 4);
    s.restarts = 2;
    Evolution straight(TestFunction::Sphere, 10, s);
    const std::vector<std::size_t> sizes = populations_over(straight, 500);
    const long restart =  // the generation whose tell ended the first run
        std::find(sizes.begin(), sizes.end(), 20u) - sizes.begin() - 1;
    CHECK(restart > 10 && restart < 400);
    for (long at : {restart - 5, restart, restart + 1}) {
      Evolution first(TestFunction::Sphere, 10, s);
      first.advance(at, 1e9, -1);
      EvolutionSettings other_threads = first.settings();
      other_threads.threads = 2;
      Evolution resumed(TestFunction::Sphere, 10, other_threads, first.state());
      resumed.advance(500 - at, 1e9, -1);
      CHECK(resumed.history() == straight.history());
      CHECK(all_genomes(resumed) == all_genomes(straight));
      CHECK(resumed.state().strategy == straight.state().strategy);
      CHECK(resumed.sigma() == straight.sigma());
    }
    Evolution first(TestFunction::Sphere, 10, s);
    first.advance(restart, 1e9, -1);
    // The new run has no history yet: [restarts, run start, 0 generations, 0 kept] ends it.
    const std::size_t own = first.state().strategy.size() - 4;
    CHECK(first.state().strategy[own] == 1 && first.state().strategy[own + 1] == restart + 1);
    EvolutionState damaged = first.state();
    damaged.strategy[own] = 3;  // more restarts than settings.restarts
    CHECK_THROWS_AS(Evolution(TestFunction::Sphere, 10, first.settings(), damaged),
                    std::invalid_argument);
    damaged = first.state();
    damaged.strategy[own + 1] = 1;  // the new run began long ago: its arrays would be larger
    CHECK_THROWS_AS(Evolution(TestFunction::Sphere, 10, first.settings(), damaged),
                    std::invalid_argument);
    EvolutionSettings without = first.settings();
    without.restarts = 0;
    without.restart_growth = 0.0;
    CHECK_THROWS_AS(Evolution(TestFunction::Sphere, 10, without, first.state()),
                    std::invalid_argument);
  }
}

TEST(restart_settings_checked) {
  EvolutionSettings s = es_settings(StrategyKind::Snes, 10, 1.0);
  s.restarts = 1;  // cma-es and sep-cma-es only
  CHECK_THROWS_AS(Evolution(TestFunction::Sphere, 10, s), std::invalid_argument);
  s = es_settings(StrategyKind::CmaEs, 10, 1.0);
  s.restart_growth = 3.0;  // needs restarts
  CHECK_THROWS_AS(Evolution(TestFunction::Sphere, 10, s), std::invalid_argument);
  s.restarts = 30;  // 10 x 3^30 agents
  CHECK_THROWS_AS(Evolution(TestFunction::Sphere, 10, s), std::invalid_argument);
  s.restart_growth = 0.5;  // a population may not shrink
  CHECK_THROWS_AS(Evolution(TestFunction::Sphere, 10, s), std::invalid_argument);
  s.restarts = 3;
  s.restart_growth = 1.5;
  Evolution evo(TestFunction::Sphere, 10, s);
  CHECK(evo.settings().restart_growth == 1.5 && evo.population() == 10u);
}
