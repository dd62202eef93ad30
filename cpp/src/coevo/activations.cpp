#include "evoae/coevo/activations.h"

#include "evoae/core/simd.h"

namespace evoae {

ActivationRecord record_activations(const Network& net, const float* genome,
                                    const float* inputs, const std::size_t* rows,
                                    std::size_t count) {
  const std::size_t G = net.num_params(), in = net.input_shape().size();
  const std::vector<std::size_t> layers = dense_layers(net);
  ActivationRecord record;
  record.rows = count;
  for (std::size_t i : layers)
    record.values.emplace_back(count * net.layers()[i].output.size());
  std::vector<float> lanes(G * kLanes);  // the genome in every lane
  for (std::size_t p = 0; p < G; ++p)
    for (int l = 0; l < kLanes; ++l) lanes[p * kLanes + l] = genome[p];
  Workspace ws(net, 1, true);
  std::vector<const float*> images(kLanes);
  for (std::size_t first = 0; first < count; first += kLanes) {
    for (int l = 0; l < kLanes; ++l)  // a lane past the end repeats the first sample
      images[l] = inputs + rows[first + l < count ? first + l : first] * in;
    net.forward_batch(lanes.data(), images.data(), 1, ws);
    for (std::size_t k = 0; k < layers.size(); ++k) {
      const std::size_t units = net.layers()[layers[k]].output.size();
      const float* a = ws.activation(layers[k]);  // (1, units, kLanes)
      for (int l = 0; l < kLanes && first + l < count; ++l)
        for (std::size_t u = 0; u < units; ++u)
          record.values[k][(first + l) * units + u] = a[u * kLanes + l];
    }
  }
  return record;
}

}  // namespace evoae
