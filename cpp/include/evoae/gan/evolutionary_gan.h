// Evolutionary GANs: a population of generators against one discriminator, a generation at a
// time, as in the public code of E-GAN (Wang, Xu, Yao & Tao 2019) and CE-GAN (Li, Zhang, Gong
// & Lu 2021), with a plain GAN on the same networks as the baseline.
//
//   gan    one generator: one Adam step on `mutations[0]` (nonsaturating by default).
//   egan   each of the mu parents makes one child per mutation: a copy of the parent (weights
//          and Adam state) taking one Adam step on that generator loss (gan_loss.h), every
//          child on the same noise batch. Each child is scored on an evaluation batch of
//          noise and of real images: quality Fq = mean sigmoid(D(G(z))), diversity Fd =
//          -log || gradient of D's loss (on the real and the child's fake batch) with
//          respect to D's parameters ||, F = Fq + diversity_weight * Fd (0: Fq alone, the
//          cheap fitness). The best mu children survive; the parents do not.
//   cegan  egan's mutants, then crossover by distillation: the pairs of mutants ranked by
//          their summed F, the best `crossovers` pairs each make a child that starts from the
//          fitter parent's weights and Adam state and takes one Adam step on the mean squared
//          error between its samples and a teacher batch on the evaluation noise, the teacher
//          of each noise vector the parent's sample D scores higher. Children are scored on
//          fresh noise; `comprehensive` selection keeps the best mu of mutants and children,
//          otherwise the best mu children.
//
// Then D takes d_steps Adam steps, each on a batch of real images and as many fresh samples
// of the survivors (sample i from survivor i % mu). Noise is N(0, 1); every draw is keyed by
// (seed, purpose, generation, agent) (core/rng.h), and every pass runs on Adversarial's fixed
// chains: the same seed gives the same run at any thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "evoae/gan/adversarial.h"
#include "evoae/train/optimizer.h"

namespace evoae {

enum class GanMethod { Gan, EGan, CeGan };
const char* gan_method_name(GanMethod method);  // "gan", "egan", "cegan"
GanMethod gan_method_from_name(const std::string& name);  // std::invalid_argument

struct GanSettings {
  GanMethod method = GanMethod::EGan;
  int parents = 1;  // mu (1 for gan)
  std::vector<GeneratorLoss> mutations = {GeneratorLoss::NonSaturating,
                                          GeneratorLoss::LeastSquares, GeneratorLoss::Minimax};
  int batch = 64;        // noise vectors of a mutation, real and fake images of a D step
  int eval_batch = 64;   // noise vectors and real images of the fitness
  int d_steps = 3;       // D's steps per generation
  float g_learning_rate = 2e-4f, d_learning_rate = 2e-4f, beta1 = 0.5f, beta2 = 0.999f;
  float diversity_weight = 0.1f;  // lambda; 0: the fitness is Fq alone
  int crossovers = 3;             // cegan's children per generation
  bool comprehensive = true;      // cegan: select from mutants and children, else children
  std::uint64_t seed = 0;
  int threads = 0;  // <= 0: OpenMP's default
};
// std::invalid_argument naming the first setting out of its range.
void check_gan_settings(const GanSettings& s);

// Where a survivor came from: the index of its mutation, or kCrossover.
constexpr int kCrossover = -1;

// What a generation measured.
struct GanRecord {
  std::vector<double> quality, diversity, fitness;  // of the survivors (F, Fq, Fd), in order
  std::vector<int> origin;                          // of the survivors
  double generator_loss = 0.0;  // the survivors' mean mutation (or distillation) loss
  double discriminator_loss = 0.0;  // D's loss on its last step's batch, before the step
  double fake_score = 0.0;          // mean sigmoid(D) of that step's fakes
};

class EvolutionaryGan {
 public:
  // real: (S, D's input size) images; generator: G's initial genome, every parent's start;
  // discriminator: D's. std::invalid_argument for bad settings or no images.
  EvolutionaryGan(const Network& generator, const Network& discriminator,
                  const GanSettings& settings, const float* real, std::size_t S,
                  const float* generator_genome, const float* discriminator_genome);

  void step();  // one generation

  const GanSettings& settings() const { return s_; }
  long generation() const { return generation_; }
  std::size_t parents() const { return parents_.size(); }
  // Parent i's genome (G's num_params floats), the first the fittest of the last generation.
  const float* generator_genome(std::size_t i) const { return parents_.at(i).params.data(); }
  const float* discriminator_genome() const { return d_.params.data(); }
  const GanRecord& record() const { return record_; }
  // Survivors per origin so far: one count per mutation, then crossover.
  const std::vector<long>& selected() const { return selected_; }
  std::uint64_t evaluations() const { return evaluations_; }  // samples generated so far
  // Parent i's samples of noise (n, noise size) -> out (n, sample size).
  void generate(std::size_t i, const float* noise, std::size_t n, float* out) const;
  const Adversarial& adversarial() const { return pair_; }

 private:
  struct Member {  // a network and its optimiser (params padded to whole rows of kLanes)
    std::vector<float> params;
    Optimizer optimizer;
  };
  struct Scores {  // per network
    std::vector<double> quality, diversity, fitness;
  };
  struct Pool {  // the candidates of a selection
    std::vector<Member> members;
    std::vector<double> losses;
    std::vector<int> origin;
    Scores scores;
    void add(const Member& m, double loss, int from, const Scores& s, std::size_t i) {
      members.push_back(m);
      losses.push_back(loss);
      origin.push_back(from);
      scores.quality.push_back(s.quality[i]);
      scores.diversity.push_back(s.diversity[i]);
      scores.fitness.push_back(s.fitness[i]);
    }
  };
  Member new_member(const float* genome, std::size_t G, float learning_rate) const;
  void adam_steps(std::vector<Member>& members, const std::vector<float>& grads) const;
  // N(0, 1) noise, n vectors, from stream (Sample, generation, agent).
  std::vector<float> noise(std::size_t n, std::uint64_t agent) const;
  std::vector<float> real_batch(std::size_t n, std::uint64_t agent) const;
  // Fq, Fd and F of members scored on `z` against the real batch whose D-loss gradient is
  // real_grad (empty: Fq alone); their logits and samples when asked.
  void score(const std::vector<Member>& members, const std::vector<float>& z,
             const std::vector<float>& real_grad, Scores& scores, std::vector<float>* logits,
             std::vector<float>* samples);
  // E-GAN's and CE-GAN's scoring, crossover and selection of the new parents.
  void select(std::vector<Member>& mutants, const std::vector<double>& losses,
              const std::vector<int>& origin);
  void train_discriminator();

  const Network& g_net_;
  const Network& d_net_;
  GanSettings s_;
  std::vector<float> real_;
  std::size_t S_;
  Adversarial pair_;
  std::vector<Member> parents_;
  Member d_;
  long generation_ = 0;
  std::uint64_t evaluations_ = 0;
  GanRecord record_;
  std::vector<long> selected_;
};

}  // namespace evoae
