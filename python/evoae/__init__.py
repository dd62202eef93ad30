"""evoae: train autoencoders by evolution instead of backpropagation (and by backpropagation,
to compare).

    import evoae
    net = evoae.varadi_network()                      # the paper's 1397-parameter network
    images = evoae.data.scale(evoae.data.ten_digits())
    evo = evoae.Evolution(net, images, population=20, mutations=10, seed=0)
    evo.run(generations=1000)
    print(evo.best_mae)
    trainer = evoae.Trainer(net, images, learning_rate=0.01)   # Adam on the same network
    trainer.run(generations=1000)                     # steps
    print(trainer.best_mae)
"""
import os
from importlib.metadata import PackageNotFoundError, version

# OpenMP threads that wait by spinning hold their core: when anything else runs (a viewer,
# another program), a generation stalls behind a descheduled thread, 4-5x slower on a
# loaded 2-core machine. Waiting threads sleep instead unless the user chose otherwise.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

try:
    __version__ = version("evoae")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

from . import data  # noqa: E402
from .evo.evolution import Evolution, Progress  # noqa: E402
from .train.trainer import Trainer  # noqa: E402
from .run import Every, Stop, run  # noqa: E402
from .nn.network import Network, network_from_spec, network_spec, varadi_network  # noqa: E402
from .io.results import Result, load_result, save_result  # noqa: E402

__all__ = [
    "Network", "varadi_network", "network_spec", "network_from_spec",
    "Evolution", "Trainer", "Progress", "Stop", "Every", "run", "Result", "save_result", "load_result", "data", "__version__",
]
