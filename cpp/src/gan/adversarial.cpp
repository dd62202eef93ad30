// The passes of adversarial.h: chains of (network, block of items) in units of kLanes lanes,
// units in parallel, each with its own scratch and partial gradient; partials added per
// network in block order afterwards, so the thread count changes nothing.
#include "evoae/gan/adversarial.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "evoae/core/simd.h"
#include "evoae/nn/loss.h"

namespace evoae {
namespace {

constexpr int L = kLanes;
// Items of a chain per pass: each weight, once loaded, serves this many.
constexpr int kBatch = 8;

// Blocks per network: enough chains for kMinUnits units, but chains of at least kMinChain
// items where n allows: a pass reads every weight of kLanes networks (a single network's
// copied into every lane: kLanes times its size) however few items it runs, so short chains
// pay that sweep for little work.
constexpr std::size_t kMinChain = 4;
std::size_t blocks_for(std::size_t P, std::size_t n) {
  const std::size_t wanted = Adversarial::kMinUnits * L / P;
  return std::max<std::size_t>(1, std::min({n / kMinChain, wanted}));
}

}  // namespace

Adversarial::Adversarial(const Network& generator, const Network& discriminator, int threads)
    : g_(generator), d_(discriminator),
      threads_(threads > 0 ? threads : omp_get_max_threads()),
      batch_(kBatch),
      d_lanes_(discriminator.num_params() * L, 0.0f) {
  if (d_.output_shape().size() != 1)
    throw std::invalid_argument("the discriminator must end with one output (a logit), not " +
                                d_.output_shape().str());
  if (g_.output_shape().size() != d_.input_shape().size())
    throw std::invalid_argument("the generator's output " + g_.output_shape().str() +
                                " must have as many values as the discriminator's input " +
                                d_.input_shape().str());
  const std::size_t slots = static_cast<std::size_t>(batch_) * L, out = sample_size();
  scratch_.reserve(threads_);
  for (int t = 0; t < threads_; ++t)
    scratch_.push_back({Workspace(g_, batch_, true), Workspace(d_, batch_, true),
                        std::vector<float>(g_.num_params() * L), std::vector<float>(slots * out),
                        std::vector<float>(slots * out), std::vector<float>(d_.num_params() * L),
                        std::vector<float>(slots * out), std::vector<const float*>(slots)});
}

void Adversarial::set_discriminator(const float* params) {
  for (std::size_t i = 0; i < d_.num_params(); ++i) store(d_lanes_.data() + i * L, splat(params[i]));
}

template <class Body>
void Adversarial::run_chains(std::size_t P, std::size_t n, const std::vector<const float*>* gens,
                             std::size_t grad_size, const std::vector<float*>& grads, Body body) {
  const std::size_t nb = blocks_for(P, n), chains = P * nb, units = (chains + L - 1) / L;
  auto start = [&](std::size_t k) { return k * n / nb; };
  if (grad_size) partials_.assign(units * grad_size * L, 0.0f);
  const std::size_t G = g_.num_params();
#pragma omp parallel num_threads(threads_) if (units > 1)
  {
    Scratch& s = scratch_[omp_get_thread_num()];
    Pass pass;
    pass.net.assign(L, -1);
    pass.item.assign(static_cast<std::size_t>(batch_) * L, -1);
#pragma omp for schedule(dynamic)
    for (std::size_t u = 0; u < units; ++u) {
      std::size_t begin[L], end[L], longest = 0;
      for (int l = 0; l < L; ++l) {
        const std::size_t c = u * L + l;
        pass.net[l] = c < chains ? static_cast<long>(c / nb) : -1;
        begin[l] = c < chains ? start(c % nb) : 0;
        end[l] = c < chains ? start(c % nb + 1) : 0;
        longest = std::max(longest, end[l] - begin[l]);
      }
      if (gens)  // an empty lane runs lane 0's network, its slots empty
        for (int l = 0; l < L; ++l) {
          const float* src = (*gens)[pass.net[l] >= 0 ? pass.net[l] : pass.net[0]];
          for (std::size_t i = 0; i < G; ++i) s.gparams[i * L + l] = src[i];
        }
      float* partial = grad_size ? partials_.data() + u * grad_size * L : nullptr;
      for (std::size_t r = 0; r < longest; r += batch_) {
        pass.rows = static_cast<int>(std::min<std::size_t>(batch_, longest - r));
        for (int b = 0; b < pass.rows; ++b)
          for (int l = 0; l < L; ++l) {
            const std::size_t i = begin[l] + r + b;
            pass.item[b * L + l] = i < end[l] ? static_cast<long>(i) : -1;
          }
        body(pass, s, partial);
      }
    }
  }
  if (!grad_size) return;
  for (std::size_t p = 0; p < P; ++p) {  // block order: chain p * nb + k
    float* g = grads[p];
    std::fill(g, g + grad_size, 0.0f);
    for (std::size_t k = 0; k < nb; ++k) {
      const std::size_t c = p * nb + k;
      const float* part = partials_.data() + (c / L) * grad_size * L + c % L;
      for (std::size_t i = 0; i < grad_size; ++i) g[i] += part[i * L];
    }
  }
}

void Adversarial::item_means(std::size_t P, std::size_t n, double* means) const {
  for (std::size_t p = 0; p < P; ++p) {
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum += item_values_[p * n + i];
    means[p] = sum / static_cast<double>(n);
  }
}

const float* Adversarial::generate_and_judge(const Pass& pass, const float* noise,
                                             Scratch& s) const {
  const std::size_t nz = noise_size(), out = sample_size();
  const int slots = pass.rows * L;
  for (int q = 0; q < slots; ++q)  // an empty slot runs item 0; its gradient is masked
    s.inputs[q] = noise + (pass.item[q] >= 0 ? pass.item[q] : 0) * nz;
  const float* y = g_.forward_batch(s.gparams.data(), s.inputs.data(), pass.rows, s.g);
  for (int b = 0; b < pass.rows; ++b)
    for (std::size_t j = 0; j < out; ++j)
      for (int l = 0; l < L; ++l) s.fake[(b * L + l) * out + j] = y[(b * out + j) * L + l];
  for (int q = 0; q < slots; ++q) s.inputs[q] = s.fake.data() + q * out;
  return d_.forward_batch(d_lanes_.data(), s.inputs.data(), pass.rows, s.d);
}

void Adversarial::generator_gradients(const std::vector<const float*>& gens,
                                      const std::vector<GeneratorLoss>& losses,
                                      const float* noise, std::size_t n, double* mean_losses,
                                      const std::vector<float*>& grads) {
  const std::size_t P = gens.size();
  item_values_.assign(P * n, 0.0f);
  const float inv_n = 1.0f / static_cast<float>(n);
  run_chains(P, n, &gens, g_.num_params(), grads, [&](const Pass& pass, Scratch& s, float* partial) {
    const float* logits = generate_and_judge(pass, noise, s);
    float* dy = s.d.grad_a.data();  // where Network::backward may read it
    for (int q = 0; q < pass.rows * L; ++q) {
      const long net = pass.net[q % L], item = pass.item[q];
      float slope = 0.0f;
      if (item >= 0) item_values_[net * n + item] = generator_loss(losses[net], logits[q], &slope);
      dy[q] = item >= 0 ? slope * inv_n : 0.0f;
    }
    d_.backward(d_lanes_.data(), dy, pass.rows, s.d, s.sink.data(), s.dfake.data());
    g_.backward(s.gparams.data(), s.dfake.data(), pass.rows, s.g, partial);
  });
  item_means(P, n, mean_losses);
}

void Adversarial::evaluate(const std::vector<const float*>& gens, const float* noise,
                           std::size_t n, float* logits, float* samples,
                           const std::vector<float*>& dgrads) {
  const std::size_t out = sample_size();
  const bool with_grads = !dgrads.empty();
  const float inv_n = 1.0f / static_cast<float>(n);
  run_chains(gens.size(), n, &gens, with_grads ? d_.num_params() : 0, dgrads,
             [&](const Pass& pass, Scratch& s, float* partial) {
    const float* d = generate_and_judge(pass, noise, s);
    float* dy = s.d.grad_a.data();
    for (int q = 0; q < pass.rows * L; ++q) {
      const long net = pass.net[q % L], item = pass.item[q];
      dy[q] = item >= 0 ? sigmoid(d[q]) * inv_n : 0.0f;  // softplus(d)' / n
      if (item < 0) continue;
      logits[net * n + item] = d[q];
      if (samples)
        std::memcpy(samples + (net * n + item) * out, s.fake.data() + q * out, out * sizeof(float));
    }
    if (with_grads) d_.backward(d_lanes_.data(), dy, pass.rows, s.d, partial);
  });
}

void Adversarial::distillation_gradients(const std::vector<const float*>& gens,
                                         const float* noise, std::size_t n,
                                         const float* teachers, double* mean_losses,
                                         const std::vector<float*>& grads) {
  const std::size_t P = gens.size(), nz = noise_size(), out = sample_size();
  item_values_.assign(P * n, 0.0f);
  const float inv_n = 1.0f / static_cast<float>(n);
  run_chains(P, n, &gens, g_.num_params(), grads, [&](const Pass& pass, Scratch& s, float* partial) {
    const int slots = pass.rows * L;
    for (int q = 0; q < slots; ++q) s.inputs[q] = noise + (pass.item[q] >= 0 ? pass.item[q] : 0) * nz;
    const float* y = g_.forward_batch(s.gparams.data(), s.inputs.data(), pass.rows, s.g);
    for (int q = 0; q < slots; ++q) {  // an empty slot's target is its own output: no gradient
      const int b = q / L, l = q % L;
      const long net = pass.net[l], item = pass.item[q];
      for (std::size_t j = 0; j < out; ++j) {
        const std::size_t at = (b * out + j) * L + l;
        s.target[at] = item >= 0 ? teachers[(net * n + item) * out + j] : y[at];
      }
    }
    float* dy = s.g.grad_a.data();
    float lane_losses[L];
    for (int b = 0; b < pass.rows; ++b) {
      const std::size_t at = b * out * L;
      loss_forward_backward(Loss::MeanSquared, y + at, s.target.data() + at,
                            static_cast<int>(out), lane_losses, dy + at);
      for (int l = 0; l < L; ++l)
        if (pass.item[b * L + l] >= 0)
          item_values_[pass.net[l] * n + pass.item[b * L + l]] = lane_losses[l];
    }
    for (std::size_t i = 0; i < pass.rows * out * L; ++i) dy[i] *= inv_n;
    g_.backward(s.gparams.data(), dy, pass.rows, s.g, partial);
  });
  item_means(P, n, mean_losses);
}

double Adversarial::discriminator_gradient(const float* real, std::size_t m, const float* fake,
                                           std::size_t k, float* grad, double* fake_score) {
  const std::size_t n = m + k, in = d_.input_shape().size();
  if (n == 0) throw std::invalid_argument("the discriminator's loss needs images");
  item_values_.assign(2 * n, 0.0f);  // each image's loss, then its sigmoid(d)
  const float inv_m = m ? 1.0f / static_cast<float>(m) : 0.0f;
  const float inv_k = k ? 1.0f / static_cast<float>(k) : 0.0f;
  run_chains(1, n, nullptr, d_.num_params(), {grad}, [&](const Pass& pass, Scratch& s, float* partial) {
    const int slots = pass.rows * L;
    for (int q = 0; q < slots; ++q) {
      const long i = pass.item[q] >= 0 ? pass.item[q] : 0;
      s.inputs[q] = static_cast<std::size_t>(i) < m ? real + i * in : fake + (i - m) * in;
    }
    const float* d = d_.forward_batch(d_lanes_.data(), s.inputs.data(), pass.rows, s.d);
    float* dy = s.d.grad_a.data();
    for (int q = 0; q < slots; ++q) {
      const long i = pass.item[q];
      if (i < 0) {
        dy[q] = 0.0f;
        continue;
      }
      const bool is_real = static_cast<std::size_t>(i) < m;
      float slope;
      item_values_[i] = discriminator_loss(is_real, d[q], &slope);
      item_values_[n + i] = sigmoid(d[q]);
      dy[q] = slope * (is_real ? inv_m : inv_k);
    }
    d_.backward(d_lanes_.data(), dy, pass.rows, s.d, partial);
  });
  double real_sum = 0.0, fake_sum = 0.0, score = 0.0;
  for (std::size_t i = 0; i < n; ++i) (i < m ? real_sum : fake_sum) += item_values_[i];
  for (std::size_t i = m; i < n; ++i) score += item_values_[n + i];
  if (fake_score) *fake_score = k ? score / static_cast<double>(k) : 0.0;
  return (m ? real_sum / static_cast<double>(m) : 0.0) +
         (k ? fake_sum / static_cast<double>(k) : 0.0);
}

}  // namespace evoae
