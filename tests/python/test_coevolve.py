"""Coevolved encoders and decoders with pruning: the binary-clustering data, the papers'
network, neighbourhoods, the systems (the same run at any thread count, canonical as the
one-cell case, checked settings), and `evoae coevolve` on small runs and bad input."""
import json

import numpy as np
import pytest

from evoae.cli.main import main
from evoae.systems.binary_clustering import binary_clustering
from evoae.systems.canonical import Canonical
from evoae.systems.coevolution import Coevolution, autoencoder_network, neighbourhood
from idx_files import mnist_like, write_idx

REPORT_FIELDS = ["method", "pruning", "schedule", "seed", "test_loss", "train_loss",
                 "kept_fraction", "seconds"]


def test_binary_clustering_is_seeded_noisy_copies_of_centroids():
    train, test = binary_clustering(3)
    assert train.shape == test.shape == (1000, 1, 1000) and train.dtype == np.float32
    again, _ = binary_clustering(3)
    assert np.array_equal(train, again)
    assert not np.array_equal(train, binary_clustering(4)[0])
    assert set(np.unique(train)) == {0.0, 1.0}
    # Two noisy copies of one centroid differ where exactly one flipped: 2 * 0.05 * 0.95.
    differ = (train.reshape(10, 100, 1000) != test.reshape(10, 100, 1000)).mean()
    assert differ == pytest.approx(0.095, abs=0.005)
    # Samples of different clusters differ in about half their bits.
    assert (train[0] != train[100]).mean() == pytest.approx(0.5, abs=0.1)
    small, _ = binary_clustering(0, clusters=3, bits=20, per_cluster=4, flip=0.0)
    assert small.shape == (12, 1, 20) and np.array_equal(small[0], small[3])
    for bad in (dict(clusters=0), dict(bits=2.5), dict(flip=1.5), dict(one_probability=-1)):
        with pytest.raises(ValueError):
            binary_clustering(0, **bad)


def test_the_papers_network_and_its_split():
    net, encoder_layers = autoencoder_network((1, 1000), (1000, 30, 10))
    assert net.num_params == 61670 and encoder_layers == 2  # the count
    assert [layer["arguments"][0] for layer in net.layers[1:]] == [30, 10, 30, 1000]
    assert [layer["activation"] for layer in net.layers[1:]] == ["relu"] * 3 + ["sigmoid"]
    with pytest.raises(ValueError, match="input size 784"):
        autoencoder_network((28, 28), (1000, 30))


def test_neighbourhoods_by_hand():
    assert neighbourhood(0, 10) == [0, 1, 9]
    assert neighbourhood(3, 10, radius=2) == [3, 4, 2, 5, 1]
    assert neighbourhood(5, 6, topology="torus", torus_rows=2) == [5, 2, 4, 3, 2]
    with pytest.raises(ValueError):
        neighbourhood(10, 10)


def _small():
    train, test = binary_clustering(1, clusters=3, bits=24, per_cluster=10)
    net, k = autoencoder_network((1, 24), (24, 8, 3))
    return net, k, train, test


@pytest.mark.parametrize("update", ["sequential", "synchronous"])
def test_same_seed_same_run_at_any_thread_count(update):
    net, k, train, _ = _small()
    runs = []
    for threads in (1, 2):
        c = Coevolution(net, train, encoder_layers=k, cells=4, epochs=4, batch=4,
                        learning_rate=0.01, pruning="conjunctive", schedule="fixed",
                        prune_probability=0.8, conjunctive_cases=8, update=update, seed=5,
                        threads=threads)
        c.run(generations=4)
        runs.append(np.stack([c.genome(i) for i in range(c.cells)]))
    assert np.array_equal(runs[0], runs[1])


def test_coevolution_learns_and_records_each_epoch():
    net, k, train, test = _small()
    c = Coevolution(net, train, encoder_layers=k, cells=3, epochs=12, batch=5,
                    learning_rate=0.01, pruning="random", schedule="fixed",
                    prune_probability=1.0, seed=2, threads=1)
    progress = c.run(generations=12)
    assert progress.generation == 12 and c.generation == 12
    records = c.records
    assert len(records["best_loss"]) == 13 and np.all(records["prunes"][1:] == 3)
    assert records["best_loss"][-1] < 0.8 * records["best_loss"][0]
    # Every centre pruned after its last visit: at least 10% of its parameters are zero (more
    # where earlier prunes stayed zero: weights of dead ReLU units get no gradient).
    assert 0.5 < records["mean_kept"][-1] < 0.91
    assert c.test_loss(test) == pytest.approx(c.test_loss(test, c.best_genome))
    assert abs(c.test_loss(test) - c.best_error) < 0.1
    canonical = Canonical(net, train, encoder_layers=k, epochs=12, learning_rate=0.01, seed=2)
    assert canonical.cells == 1 and canonical.settings["lr_decay_every"] == 3


def test_settings_are_checked_by_name():
    net, k, train, _ = _small()
    for bad, match in ((dict(pruning="magnitude"), "pruning"), (dict(cells=0), "cells"),
                       (dict(topology="torus", cells=7, torus_rows=2), "torus_rows"),
                       (dict(prune_probability=2.0), "prune_probability")):
        with pytest.raises(ValueError, match=match):
            Coevolution(net, train, encoder_layers=k, **bad)
    with pytest.raises(ValueError, match="encoder_layers"):
        Coevolution(net, train, encoder_layers=4)
    with pytest.raises(ValueError, match="canonical"):
        Canonical(net, train, encoder_layers=k, method="coevolution")


def test_coevolve_command_writes_the_report(tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["coevolve", "--sizes", "1000,4,2", "--cells", "2", "--epochs", "2",
                   "--pruning", "none,random", "--schedules", "fixed,exponential",
                   "--seeds", "0,1", "--learning-rate", "0.01", "--threads", "1",
                   "--out", str(out), "--quiet"])
    assert status == 0
    rows = json.loads((out / "report.json").read_text())
    assert len(rows) == 2 * 2 * (1 + 2)  # methods x seeds x (none + 2 schedules)
    assert all(list(r) == REPORT_FIELDS for r in rows)
    assert {r["method"] for r in rows} == {"coevolution", "canonical"}
    assert {(r["pruning"], r["schedule"]) for r in rows} == {
        ("none", "none"), ("random", "fixed"), ("random", "exponential")}
    runs = json.loads((out / "runs.json").read_text())["runs"]
    assert all(len(r["curves"]["best_kept"]) == 3 for r in runs)
    assert (out / "curves.png").stat().st_size > 0
    table = (out / "table.md").read_text()
    assert "| coevolution | random | fixed | 2 |" in table
    assert "| method | pruning |" in capsys.readouterr().out


def test_coevolve_command_on_mnist_images(tmp_path):
    images, _ = mnist_like(30)
    path = write_idx(tmp_path / "images-idx3-ubyte", images)
    out = tmp_path / "out"
    assert main(["coevolve", "--data", "mnist", "--images", str(path), "--train", "20",
                 "--test", "10", "--sizes", "784,6,3", "--cells", "2", "--epochs", "1",
                 "--methods", "coevolution", "--pruning", "variance", "--out", str(out),
                 "--quiet"]) == 0
    (row,) = json.loads((out / "report.json").read_text())
    assert row["pruning"] == "variance" and 0 < row["test_loss"] < 1


@pytest.mark.parametrize("argv, message", [
    (["--data", "mnist"], "needs --images"),
    (["--images", "x.idx"], "applies to --data mnist"),
    (["--sizes", "1000,a"], "comma-separated integers"),
    (["--sizes", "784,30"], "input size 1000"),
    (["--torus-rows", "2"], "torus_rows applies to topology 'torus'"),
    (["--topology", "torus", "--cells", "7", "--torus-rows", "2"], "torus_rows must divide"),
])
def test_coevolve_command_refuses_bad_input(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    assert main(["coevolve", "--out", str(out), "--quiet", *argv]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()  # refused before any work: nothing left behind


@pytest.mark.parametrize("argv", [["--pruning", "magnitude"], ["--seeds", "-1"],
                                  ["--cells", "0"], ["--schedules", "linear"],
                                  ["--methods", "both"]])
def test_coevolve_command_refuses_bad_options(capsys, argv):
    with pytest.raises(SystemExit) as e:
        main(["coevolve", *argv])
    assert e.value.code == 2 and "error" in capsys.readouterr().err
