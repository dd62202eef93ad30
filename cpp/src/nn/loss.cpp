// The losses of loss.h over lanes: one pass over the n outputs in order, the sums and slopes as
// vector arithmetic (explicit fmadd), so a lane's result is the same at any width.
#include "evoae/nn/loss.h"

#include <cstring>
#include <stdexcept>

#include "evoae/core/simd.h"

namespace evoae {
namespace {

constexpr int L = kLanes;
constexpr Loss kLosses[] = {Loss::MeanAbsolute, Loss::SumAbsolute, Loss::MeanSquared,
                            Loss::BinaryCrossEntropy, Loss::SoftmaxCrossEntropy};

// ln x for a normal x > 0, relative error about 1e-7: x = 2^e m with m in [sqrt(1/2),
// sqrt(2)), ln m = 2 atanh(s) with s = (m - 1)/(m + 1), |s| < 0.172, by its series to s^9.
vfloat vlog(vfloat x) {
  vint bits;
  std::memcpy(&bits, &x, sizeof bits);
  vint e = ((bits >> 23) & 0xff) - 127;
  const vint mantissa = (bits & 0x007fffff) | 0x3f800000;  // m in [1, 2)
  vfloat m;
  std::memcpy(&m, &mantissa, sizeof m);
  const vint high = m > 1.41421356f;  // -1 where true
  m = high ? m * 0.5f : m;
  e -= high;
  const vfloat s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
  vfloat p = fmadd(s2, splat(1.0f / 9), splat(1.0f / 7));
  p = fmadd(p, s2, splat(1.0f / 5));
  p = fmadd(p, s2, splat(1.0f / 3));
  p = fmadd(p, s2, splat(1.0f));
  return fmadd(__builtin_convertvector(e, vfloat), splat(0.693147181f), 2.0f * s * p);
}

// Cross-entropy of softmax(y) against t: sum_i t_i (log sum_j e^y_j - y_i), with the log-sum
// taken after subtracting the largest y (no overflow); grad_i = (sum_j t_j) softmax_i - t_i.
vfloat softmax_cross_entropy(const float* y, const float* t, int n, float* grad) {
  vfloat top = load(y);
  for (int i = 1; i < n; ++i) top = vmax(top, load(y + i * L));
  vfloat exps{}, mass{};
  for (int i = 0; i < n; ++i) {
    exps += vexp(load(y + i * L) - top);
    mass += load(t + i * L);
  }
  const vfloat log_sum = top + vlog(exps);
  vfloat sum{};
  for (int i = 0; i < n; ++i) {
    const vfloat yi = load(y + i * L), ti = load(t + i * L);
    sum = fmadd(ti, log_sum - yi, sum);
    if (grad) store(grad + i * L, fmadd(mass, vexp(yi - log_sum), -ti));
  }
  return sum;
}

}  // namespace

const char* loss_name(Loss loss) {
  switch (loss) {
    case Loss::MeanAbsolute: return "mae";
    case Loss::SumAbsolute: return "sae";
    case Loss::MeanSquared: return "mse";
    case Loss::BinaryCrossEntropy: return "bce";
    case Loss::SoftmaxCrossEntropy: return "softmax-ce";
  }
  return "?";
}

Loss loss_from_name(const std::string& name) {
  for (Loss loss : kLosses)
    if (name == loss_name(loss)) return loss;
  throw std::invalid_argument("unknown loss \"" + name +
                              "\": use mae, sae, mse, bce or softmax-ce");
}

std::vector<std::string> loss_names() {
  std::vector<std::string> names;
  for (Loss loss : kLosses) names.push_back(loss_name(loss));
  return names;
}

void loss_forward_backward(Loss loss, const float* output, const float* target, int n,
                           float* lane_losses, float* grad) {
  if (loss == Loss::SoftmaxCrossEntropy) {
    store(lane_losses, softmax_cross_entropy(output, target, n, grad));
    return;
  }
  // The mean losses divide the sum and each slope by n; sae is the sum.
  const float count = loss == Loss::SumAbsolute ? 1.0f : static_cast<float>(n);
  const vfloat eps = splat(1e-7f), one = splat(1.0f);
  vfloat sum{};
  for (int i = 0; i < n; ++i) {
    const vfloat y = load(output + i * L), t = load(target + i * L), d = y - t;
    vfloat slope;
    if (loss == Loss::MeanSquared) {
      sum = fmadd(d, d, sum);
      slope = 2.0f * d;
    } else if (loss == Loss::BinaryCrossEntropy) {
      // Clamped: no log 0. The slope is the unclamped one at the clamped p, so that an output
      // saturated at 0 or 1 still gets pushed back.
      const vfloat p = vmin(vmax(y, eps), one - eps);
      sum -= fmadd(t, vlog(p), (one - t) * vlog(one - p));
      slope = (p - t) / (p * (one - p));
    } else {  // mae, sae; |d|' at d = 0 is 0
      sum += vmax(d, -d);
      slope = d > 0.0f ? one : d < 0.0f ? -one : vfloat{};
    }
    if (grad) store(grad + i * L, slope / count);
  }
  store(lane_losses, sum / count);
}

}  // namespace evoae
