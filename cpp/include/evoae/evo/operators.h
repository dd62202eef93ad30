// The operators of the evolution loop beyond the original: mutation, step-size control,
// crossover, selection and fitness, each chosen by name, each a free function on plain
// buffers with its randomness passed in (an Rng keyed by seed, purpose, generation, agent), so
// that it can be checked by hand and gives the same result on any number of threads.
//
// Where they come from:
//   mutation "original"      Varadi 2021: k indices drawn once per generation, shared by all
//                            agents, U(-1, 1) added (times sigma, 1 by default).
//   mutation "per-agent"     the same with each agent drawing its own k indices.
//   mutation "gaussian"      Such et al. 2017 (Deep Neuroevolution): sigma * N(0, 1) added, here
//                            on k indices of the agent's own.
//   mutation "gaussian-all"  Such et al. 2017 as published: sigma * N(0, 1) on every weight.
//   mutation "reset"         k weights replaced by a new U(-1, 1) value (the initial
//                            distribution), the classic "random resetting" of real-coded GAs.
//   mutation "zero"          k weights set to 0: David & Greental 2014 (Genetic algorithms for
//                            evolving deep neural networks), which favours sparse weights.
//   step "fixed"             sigma and k stay as given.
//   step "schedule"          sigma goes geometrically to sigma_end and k linearly to
//                            mutations_end over schedule_generations, then stays.
//   step "one-fifth"         Rechenberg's 1/5 success rule (1973) with Schwefel's factor 0.85:
//                            after each generation sigma /= 0.85 if more than 1/5 of the
//                            children beat their parent, sigma *= 0.85 if fewer.
//   step "self-adaptive"     Schwefel's sigma self-adaptation (log-normal, as in evolution
//                            strategies): each agent carries its sigma; a child gets its
//                            parent's sigma times exp(tau * N(0, 1)), tau = 1 / sqrt(2 n) for n
//                            parameters unless given, and mutates with it, so good step sizes
//                            are inherited.
//   crossover "uniform"      Syswerda 1989: each weight from either parent, probability 1/2.
//   crossover "layer"        each layer's parameters (weights and biases) from either parent:
//                            Montana & Davis 1989's node crossover, at the grain of layers.
//   selection "copy-best"    Varadi 2021: every child is a copy of the best agent.
//   selection "truncation"   Such et al. 2017: the T best agents are the parents; each child
//                            picks one uniformly.
//   selection "tournament"   Goldberg & Deb 1991: the best of `tournament_size` agents drawn
//                            uniformly with replacement.
//   elites                   the E best agents pass unchanged (and are not evaluated again
//                            unless the fitness data changes, as with mini-batches).
//   fitness "sae"            Varadi 2021: sum over images and pixels of |output - target|.
//   fitness "mse", "rmse"    mean over images and pixels of (output - target)^2, its root.
//   fitness "cross-entropy"  mean over samples of the softmax cross-entropy of the outputs
//                            (logits) against the labels: the classification objective's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "evoae/nn/network.h"
#include "evoae/core/rng.h"

namespace evoae {

enum class Mutation { Original, PerAgent, Gaussian, GaussianAll, Reset, Zero };
enum class StepControl { Fixed, Schedule, OneFifth, SelfAdaptive };
enum class Crossover { None, Uniform, Layer };
enum class Selection { CopyBest, Truncation, Tournament };
enum class Fitness { AbsoluteSum, MeanSquared, RootMeanSquared, CrossEntropy };

// Names as the Python API and the CLI use them ("original", "per-agent", ...). parse_* throw
// std::invalid_argument naming the valid choices.
const char* name(Mutation m);
const char* name(StepControl s);
const char* name(Crossover c);
const char* name(Selection s);
const char* name(Fitness f);
Mutation parse_mutation(const std::string& text);
StepControl parse_step_control(const std::string& text);
Crossover parse_crossover(const std::string& text);
Selection parse_selection(const std::string& text);
Fitness parse_fitness(const std::string& text);
// All names of one kind, e.g. mutation_names() = {"original", "per-agent", ...}.
std::vector<std::string> mutation_names();
std::vector<std::string> step_control_names();
std::vector<std::string> crossover_names();
std::vector<std::string> selection_names();
std::vector<std::string> fitness_names();

// --- mutation ------------------------------------------------------------------------------
// Mutates one genome of G values in place. k: positions to mutate (ignored by GaussianAll);
// shared: for Original, the k indices drawn once for the generation (others draw their own
// from rng, with replacement); sigma: scale of the added U(-1, 1) (Original, PerAgent) or
// N(0, 1) (Gaussian, GaussianAll), unused by Reset and Zero. For each position, in order:
// per-agent kinds draw the index, then the value. Original adds sigma * u, which is exactly u
// for sigma = 1, as the original does.
void mutate(Mutation kind, float* genome, std::size_t G, std::size_t k,
            const std::size_t* shared, float sigma, Rng& rng);

// Whether the kind has a step size sigma (Reset and Zero do not).
bool has_step_size(Mutation kind);

// --- step-size control ---------------------------------------------------------------------
// schedule: the value at `generation` of a quantity going from `start` to `end` over
// `generations` (then staying at end); geometric for sigma, linear (rounded) for counts.
double scheduled_sigma(double start, double end, long generations, long generation);
std::size_t scheduled_count(std::size_t start, std::size_t end, long generations,
                            long generation);
// 1/5 success rule: the next sigma after a generation where `successes` of `children` beat
// their parent. Clamped to [kMinSigma, kMaxSigma].
double one_fifth_rule(double sigma, std::size_t successes, std::size_t children);
constexpr double kOneFifthFactor = 0.85;
// Self-adaptation: sigma * exp(tau * N(0, 1)), one normal drawn from rng; clamped.
double self_adapt(double sigma, double tau, Rng& rng);
// The default learning rate for n parameters: 1 / sqrt(2 n), Schwefel's tau_0 for one step
// size per individual (Beyer & Schwefel 2002). Larger rates let selection drive sigma down:
// on the paper's network small steps win single generations and the search stalls.
double default_tau(std::size_t n);
constexpr double kMinSigma = 1e-6, kMaxSigma = 1e3;

// --- crossover -----------------------------------------------------------------------------
// child[i] = a[i] or b[i], each with probability 1/2 (one random bit per weight, 64 a draw).
void crossover_uniform(const float* a, const float* b, float* child, std::size_t G, Rng& rng);
// Each layer's parameters from a or b (one draw per layer with parameters, in layer order).
void crossover_layers(const Network& net, const float* a, const float* b, float* child,
                      Rng& rng);

// --- selection -----------------------------------------------------------------------------
// ranking: agent indices sorted by error, lowest first, ties to the lowest index.
std::vector<std::size_t> rank_agents(const std::vector<double>& errors);
// One parent for a child: CopyBest -> ranking[0]; Truncation -> uniform among ranking[0..T-1];
// Tournament -> the lowest error (ties: lowest index) of `tournament_size` agents drawn
// uniformly with replacement.
std::size_t select_parent(Selection kind, const std::vector<std::size_t>& ranking,
                          const std::vector<double>& errors, std::size_t truncation,
                          std::size_t tournament_size, Rng& rng);

// --- mini-batches --------------------------------------------------------------------------
// B distinct image indices out of S, sorted (partial Fisher-Yates with rng).
std::vector<std::size_t> sample_batch(std::size_t S, std::size_t B, Rng& rng);

// --- fitness -------------------------------------------------------------------------------
// A reconstruction fitness from the evaluator's sum over `values` = images x pixels (a sum of
// |d| for AbsoluteSum, of d^2 for the others).
double fitness_from_sum(Fitness f, double sum, std::size_t values);

}  // namespace evoae
