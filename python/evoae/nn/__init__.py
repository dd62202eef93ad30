"""Networks: the C++ Network builder, the paper's network, saved descriptions, the latent plane."""
from .network import Network, network_from_spec, network_spec, varadi_network

__all__ = ["Network", "varadi_network", "network_spec", "network_from_spec"]
