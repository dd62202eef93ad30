"""Objectives beyond reconstruction: a classifier evolved on labels (softmax cross-entropy,
error rate) and a network mapped to given targets, each checked against NumPy and run as any
other evolution (threads, checkpoints)."""
import numpy as np
import pytest

import evoae
from idx_files import mnist_like


@pytest.fixture(scope="module")
def digits():
    images, labels = mnist_like(200, seed=3)
    return evoae.data.scale(images), labels


def classifier():
    return evoae.Network(28, 28).maxpool().maxpool().dense(10, "identity")  # 500 parameters


def evolve_classifier(images, labels, threads=None, generations=300):
    evo = evoae.Evolution(classifier(), images, labels=labels, population=20, mutations=5,
                          mutation="gaussian", sigma=0.3, selection="truncation", seed=1,
                          threads=threads)
    evo.run(generations=generations)
    return evo


def softmax_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(labels)), labels].mean()


def test_a_classifier_evolves_above_chance_on_held_out_digits(digits):
    images, labels = digits
    evo = evolve_classifier(images[:150], labels[:150])
    assert evo.settings["objective"] == "classification"
    assert evo.settings["fitness"] == "cross-entropy"
    assert evo.metric_name == "error rate"
    held_out = classifier().forward(evo.best_genome, images[150:]).argmax(axis=1)
    error_rate = (held_out != labels[150:]).mean()
    assert evo.best_metric < 0.3  # on the training digits; chance is 0.9
    assert error_rate < 0.5  # on 50 digits it never saw; chance is 0.9


def test_cross_entropy_and_error_rate_match_numpy(digits):
    images, labels = digits[0][:40], digits[1][:40]
    evo = evolve_classifier(images, labels, generations=5)
    outs = classifier().forward_population(evo.population, images)  # (P, S, 10)
    expected = [softmax_cross_entropy(o.astype(np.float64), labels) for o in outs]
    np.testing.assert_allclose(evo.errors, expected, rtol=1e-6)
    best = outs[np.argmin(evo.errors)]
    assert evo.best_metric == pytest.approx((best.argmax(axis=1) != labels).mean())
    full = evo.evaluate_best_on_all_images()
    assert full.error == pytest.approx(min(expected), rel=1e-6) and full.metric == evo.best_metric


def test_classification_is_the_same_on_any_thread_count(digits):
    images, labels = digits[0][:60], digits[1][:60]
    one = evolve_classifier(images, labels, threads=1, generations=40)
    two = evolve_classifier(images, labels, threads=2, generations=40)
    np.testing.assert_array_equal(one.history, two.history)
    np.testing.assert_array_equal(one.best_genome, two.best_genome)


def test_a_classifier_resumes_bit_for_bit_from_its_checkpoint(digits, tmp_path):
    images, labels = digits[0][:60], digits[1][:60]
    straight = evolve_classifier(images, labels, generations=30)
    first = evolve_classifier(images, labels, generations=12)
    first.save(tmp_path / "c.npz")
    resumed = evoae.Evolution.load(tmp_path / "c.npz")
    resumed.run(generations=18)
    np.testing.assert_array_equal(resumed.labels, labels)
    np.testing.assert_array_equal(resumed.history, straight.history)


@pytest.mark.parametrize("labels, message", [
    (np.zeros(7, np.int32), "one per sample"),
    (np.full(40, 10), "not one of the network's 10 classes"),
    (np.full(40, -1), "not one of the network's 10 classes"),
])
def test_bad_labels_are_refused(digits, labels, message):
    with pytest.raises(ValueError, match=message):
        evoae.Evolution(classifier(), digits[0][:40], labels=labels)


def test_objective_and_fitness_must_agree(digits):
    images, labels = digits[0][:10], digits[1][:10]
    with pytest.raises(ValueError, match="minimises cross-entropy"):
        evoae.Evolution(classifier(), images, labels=labels, fitness="mse")
    with pytest.raises(ValueError, match="needs the classification objective"):
        evoae.Evolution(evoae.varadi_network(), images, fitness="cross-entropy")
    with pytest.raises(ValueError, match="at least 2"):
        evoae.Evolution(evoae.Network(28, 28).dense(1), images, labels=np.zeros(10, int))


def test_targets_let_the_output_differ_from_the_input(digits):
    images = digits[0][:20]
    net = evoae.Network(28, 28).maxpool().maxpool().dense(4)  # images -> 4 values
    targets = images.reshape(20, 4, 196).mean(axis=2)  # the mean of each quarter of rows
    with pytest.raises(ValueError, match="must map its input to the same shape"):
        evoae.Evolution(net, images)
    evo = evoae.Evolution(net, images, targets=targets, seed=2)
    evo.run(generations=50)
    outs = net.forward_population(evo.population, images)
    np.testing.assert_allclose(evo.errors, np.abs(outs - targets).sum(axis=(1, 2)), rtol=1e-5)
    assert evo.best_mae == pytest.approx(np.abs(outs[np.argmin(evo.errors)] - targets).mean())
    assert evo.history[-1] < evo.history[0]
    with pytest.raises(ValueError, match="targets hold"):
        evoae.Evolution(net, images, targets=targets[:, :3])
