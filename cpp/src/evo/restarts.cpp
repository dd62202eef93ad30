// The termination criteria IPOP restarts on; see restarts.h.
#include "evoae/evo/restarts.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace evoae {
namespace {

constexpr double kTolFun = 1e-12;
constexpr double kTolX = 1e-12;  // times sigma_0
constexpr double kMaxCondition = 1e14;
constexpr std::size_t kStagnationMax = 20000;

// Whether adding `step` to the mean leaves it as it is.
bool no_effect(const std::vector<double>& mean, const std::vector<double>& step) {
  for (std::size_t i = 0; i < mean.size(); ++i)
    if (mean[i] + step[i] != mean[i]) return false;
  return true;
}

// The median of [first, last) as the element of rank count / 2.
double median(const double* first, const double* last) {
  std::vector<double> v(first, last);
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

const char* distribution_stall(const DistributionSpread& s, double sigma0) {
  const std::size_t n = s.mean.size();
  bool small = true;
  for (std::size_t i = 0; i < n && small; ++i)
    small = s.sigma * std::sqrt(s.variances[i]) < kTolX * sigma0 &&
            s.sigma * std::abs(s.path[i]) < kTolX * sigma0;
  if (small) return "TolX";
  if (!s.axis.empty()) {
    std::vector<double> step(n);
    for (std::size_t i = 0; i < n; ++i) step[i] = 0.1 * s.sigma * s.axis[i];
    if (no_effect(s.mean, step)) return "NoEffectAxis";
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (s.mean[i] + 0.2 * s.sigma * std::sqrt(s.variances[i]) == s.mean[i])
      return "NoEffectCoord";
  }
  if (s.condition > kMaxCondition) return "ConditionCov";
  return nullptr;
}

RunHistory::RunHistory(std::size_t n, std::size_t lambda) {
  const double n_per_lambda = static_cast<double>(n) / static_cast<double>(lambda);
  tol_fun_span_ = 10 + static_cast<std::size_t>(std::ceil(30.0 * n_per_lambda));
  stagnation_min_ = static_cast<long>(std::ceil(120.0 + 30.0 * n_per_lambda));
  keep_ = std::max(tol_fun_span_, kStagnationMax);
}

void RunHistory::add(double best, double median) {
  ++generations_;
  best_.push_back(best);
  median_.push_back(median);
  if (best_.size() > keep_) {
    best_.erase(best_.begin());
    median_.erase(median_.begin());
  }
}

bool RunHistory::tol_fun(const std::vector<double>& fitness) const {
  if (best_.size() < tol_fun_span_) return false;
  const auto [lo, hi] = std::minmax_element(fitness.begin(), fitness.end());
  double low = *lo, high = *hi;
  for (std::size_t g = best_.size() - tol_fun_span_; g < best_.size(); ++g)
    low = std::min(low, best_[g]), high = std::max(high, best_[g]);
  return high - low < kTolFun;
}

bool RunHistory::stagnation() const {
  if (generations_ < stagnation_min_) return false;
  const long window = std::min<long>(
      kStagnationMax, std::max(stagnation_min_, static_cast<long>(0.2 * generations_)));
  const long part = std::max(1L, window * 3 / 10);
  const std::size_t kept = best_.size(), start = kept - window, recent = kept - part;
  for (const std::vector<double>* h : {&best_, &median_})
    if (median(&(*h)[recent], h->data() + kept) < median(&(*h)[start], &(*h)[start + part]))
      return false;
  return true;
}

void RunHistory::write(std::vector<double>& out) const {
  out.push_back(static_cast<double>(generations_));
  out.push_back(static_cast<double>(best_.size()));
  out.insert(out.end(), best_.begin(), best_.end());
  out.insert(out.end(), median_.begin(), median_.end());
}

const double* RunHistory::read(const double* v, const double* end) {
  const auto bad = [] {
    return std::invalid_argument("the state's restart history does not fit its run");
  };
  if (end - v < 2 || !(v[0] >= 0 && v[0] < 1e15)) throw bad();
  generations_ = static_cast<long>(v[0]);
  const std::size_t kept = std::min<std::size_t>(generations_, keep_);
  if (v[0] != static_cast<double>(generations_) || v[1] != static_cast<double>(kept) ||
      static_cast<std::size_t>(end - v - 2) < 2 * kept)
    throw bad();
  v += 2;
  best_.assign(v, v + kept);
  median_.assign(v + kept, v + 2 * kept);
  return v + 2 * kept;
}

std::size_t run_population(std::size_t population_0, double growth, int run) {
  if (run == 0) return population_0;
  return static_cast<std::size_t>(
      std::llround(static_cast<double>(population_0) * std::pow(growth, run)));
}

}  // namespace evoae
