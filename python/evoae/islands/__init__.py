"""Islands of evolution: K populations that evolve apart and exchange their best genomes at
fixed generations, in this process or on Ray (pip install "evoae[ray]").

    import evoae
    from evoae.islands import Islands
    net = evoae.varadi_network()
    images = evoae.data.scale(evoae.data.ten_digits())
    with Islands(net, images, islands=4, migration_interval=100, population=64) as run:
        run.run(generations=1000)
        print(run.best_mae, run.migrations[-1])
"""
from .migration import TOPOLOGIES
from .model import MANIFEST, Islands

__all__ = ["Islands", "TOPOLOGIES", "MANIFEST"]
