// The one reference twin that is not a template of reference_ops.h: the original's sigm layer
// (dense, sigmoid, scale 1) computed another way, with Eigen's matrix-vector product.
#include "evoae/nn/reference_ops.h"

#include <Eigen/Core>

namespace evoae::reference {

void dense_sigmoid_forward(float* out, const float* in, const float* weights,
                           const float* bias, int k, int n) {
  using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::VectorXf y = Eigen::Map<const Matrix>(weights, n, k) *
                                Eigen::Map<const Eigen::VectorXf>(in, k) +
                            Eigen::Map<const Eigen::VectorXf>(bias, n);
  for (int i = 0; i < n; ++i) out[i] = activate<float>(y[i], Activation::Sigmoid);
}

}  // namespace evoae::reference
