// Activation records for the guided pruning operators, read from the Workspace tape
// (nn/network.h) of forward passes of one genome over chosen samples.
#pragma once

#include <cstddef>
#include <vector>

#include "evoae/coevo/pruning.h"
#include "evoae/nn/network.h"

namespace evoae {

// The outputs of every dense layer of `genome` (net.num_params()) on the samples rows[0 ..
// count) of inputs (S, input size), row r of the record being sample rows[r]. The samples run
// kLanes at a time, one per lane (the genome in every lane), through forward_batch with a tape:
// each is what forward() gives it, bit for bit.
ActivationRecord record_activations(const Network& net, const float* genome,
                                    const float* inputs, const std::size_t* rows,
                                    std::size_t count);

}  // namespace evoae
