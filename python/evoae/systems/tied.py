"""The genetic tied autoencoder of David & Greental ("Genetic Algorithms for Evolving Deep
Neural Networks", GECCO 2014), trained layer by layer with evoae's evolution, and the
classification test of its features: an SVM on the codes against PCA and raw pixels.

A deep autoencoder 784-500-250-100-50 whose decoder uses the encoder's weights transposed
(each weight stored once), trained one layer pair at a time: first 784 -> 500 with its mirror
500 -> 784 on the images; then that layer is frozen, the codes of the images are computed and
500 -> 250 is trained on them with its mirror; and so on. The recipe of each pair is a GA:
fitness 1/RMSE (minimise the RMSE), uniform crossover (each weight from either parent),
mutation setting a few weights to zero. The assisted recipe (recipe="assisted",
tied_assisted.py) adds gradient learning to every agent of that GA and fine-tunes the best
genome of each pair by backpropagation before the pair is frozen.

    sizes = (784, 100, 50)
    model = evoae.systems.tied.train_layerwise(images, evoae.systems.tied.TiedSettings(sizes=sizes,
                                                                       generations=200))
    codes = model.encode(images)             # (S, 50)
    out = model.reconstruct(images)          # (S, 28, 28)
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

from ..evo.evolution import Evolution, Progress
from ..io.archive import network_and_genome, read_archive, write_archive
from ..nn.network import UINT8_IMAGES, Network, network_spec
from .tied_assisted import FINETUNE, LEARNING, FineTuned, check_learning, finetune_pair

__all__ = ["TiedSettings", "StageResult", "TiedAutoencoder", "stage_network",
           "encoder_network", "autoencoder_network", "train_layerwise", "forward_in_chunks",
           "split_indices", "classification_test", "RECIPE", "RECIPES", "LEARNING", "FINETUNE",
           "save_model", "load_model"]

#: David & Greental's operators, as evoae.Evolution keyword arguments: the best half survive
#: (elites), the other half are children of two of them by uniform crossover, each with a few
#: weights set to zero; the fitness is the RMSE.
RECIPE = {"mutation": "zero", "crossover": "uniform", "selection": "truncation",
          "fitness": "rmse"}

ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity")

#: How each layer pair is trained: "ga" = the GA alone (RECIPE); "assisted" = the GA whose
#: agents also learn by gradient steps, then backpropagation fine-tunes the best
#: (tied_assisted.py).
RECIPES = ("ga", "assisted")
ASSISTED_ONLY = ("learning", "finetune", "finetune_steps", "finetune_seconds")  # TiedSettings

MODEL_KIND = "tied-model"  # save_model's archive kind


@dataclass
class TiedSettings:
    """What train_layerwise does. sizes[0] is the image's pixel count (784 for 28x28)."""

    sizes: Sequence[int] = (784, 500, 250, 100, 50)
    activation: str = "relu"  # every encoder layer and the mirrors of layers 2, 3, ...
    output_activation: str = "identity"  # the mirror of layer 1, which gives the pixels
    # Weight scale of each dense layer (Network.dense's scale): "glorot" = sqrt(6 / (in +
    # out)), so the U(-1, 1) genome starts as Glorot's uniform initialisation; or a number.
    scale: str | float = "glorot"
    population: int = 16
    elites: int = 8  # survive unchanged (the best half); the rest are children
    mutation_rate: float = 0.0025  # weights set to zero per child, as a fraction of the pair's
    generations: Optional[int] = 300  # per layer pair (None: only `seconds` stops it)
    seconds: Optional[float] = None  # per layer pair
    seed: int = 0
    threads: Optional[int] = None
    # The operators of evoae.Evolution; RECIPE by default. Any of its keyword arguments
    # (mutation, sigma, crossover, selection, truncation, fitness, ...) may be set here.
    operators: dict = field(default_factory=lambda: dict(RECIPE))
    recipe: str = "ga"  # one of RECIPES
    # The assisted recipe only: evoae.Evolution's memetic keywords (and its mini-batch) added
    # to the operators, and the fine-tuning of each pair's best genome: evoae.Trainer
    # keywords, for finetune_steps steps or finetune_seconds seconds (whichever first).
    learning: dict = field(default_factory=lambda: dict(LEARNING))
    finetune: dict = field(default_factory=lambda: dict(FINETUNE))
    finetune_steps: Optional[int] = 1000
    finetune_seconds: Optional[float] = None

    def check(self) -> None:
        sizes = list(self.sizes)
        if len(sizes) < 2 or any(type(s) is not int or s < 1 for s in sizes):
            raise ValueError(f"sizes must be two or more positive integers, got {sizes}")
        for name in ("activation", "output_activation"):
            if getattr(self, name) not in ACTIVATIONS:
                raise ValueError(f"{name} must be one of {', '.join(ACTIVATIONS)}, got "
                                 f"{getattr(self, name)!r}")
        if not (self.scale == "glorot" or (isinstance(self.scale, (int, float))
                                          and 0 < self.scale < math.inf)):
            raise ValueError(f"scale must be 'glorot' or a number > 0, got {self.scale!r}")
        if self.population < 1:
            raise ValueError(f"population must be >= 1, got {self.population}")
        if not 0 <= self.elites < self.population:
            raise ValueError(f"elites must be in [0, population), got {self.elites}")
        if not 0 <= self.mutation_rate <= 1:
            raise ValueError(f"mutation_rate must be in [0, 1], got {self.mutation_rate}")
        if self.generations is None and self.seconds is None:
            raise ValueError("give generations or seconds (per layer pair), or it never stops")
        if self.generations is not None and self.generations < 0:
            raise ValueError(f"generations must be >= 0, got {self.generations}")
        if self.seconds is not None and not self.seconds > 0:
            raise ValueError(f"seconds must be > 0, got {self.seconds}")
        if self.recipe not in RECIPES:
            raise ValueError(f"recipe must be one of {', '.join(RECIPES)}, got {self.recipe!r}")
        if self.recipe == "assisted":
            self._check_assisted()
        else:  # given settings that would do nothing are refused, as the core refuses them
            plain = TiedSettings()
            for name in ASSISTED_ONLY:
                if getattr(self, name) != getattr(plain, name):
                    raise ValueError(f"{name} is a setting of the assisted recipe: it needs "
                                     f"recipe 'assisted', got {self.recipe!r}")

    def _check_assisted(self) -> None:
        check_learning(self.learning)
        if self.finetune_steps is None and self.finetune_seconds is None:
            raise ValueError("give finetune_steps or finetune_seconds (per layer pair), or the "
                             "fine-tuning never stops")
        if self.finetune_steps is not None and not (isinstance(self.finetune_steps, int)
                                                    and self.finetune_steps >= 0):
            raise ValueError(f"finetune_steps must be an integer >= 0, got "
                             f"{self.finetune_steps!r}")
        if self.finetune_seconds is not None and not self.finetune_seconds > 0:
            raise ValueError(f"finetune_seconds must be > 0, got {self.finetune_seconds}")

    def evolution_keywords(self) -> dict:
        """The operators of each pair's evoae.Evolution, with the learning under the assisted
        recipe."""
        operators = dict(self.operators)
        if operators.get("selection") == "truncation":
            operators.setdefault("truncation", self.elites)
        if self.recipe == "assisted":
            operators.update(self.learning)
        return operators

    def layer_scale(self, n_in: int, n_out: int) -> float:
        return math.sqrt(6.0 / (n_in + n_out)) if self.scale == "glorot" else float(self.scale)


def _image_shape(pixels: int, image_shape: Optional[tuple]) -> tuple:
    if image_shape is None:
        return (1, pixels)
    if image_shape[0] * image_shape[1] != pixels:
        raise ValueError(f"images of {image_shape[0]}x{image_shape[1]} have "
                         f"{image_shape[0] * image_shape[1]} pixels, sizes[0] is {pixels}")
    return tuple(image_shape)


def stage_network(n_in: int, n_out: int, activation: str, decoder_activation: str,
                  scale: float, image_shape: Optional[tuple] = None) -> Network:
    """One layer pair as an autoencoder evoae.Evolution can train: n_in -> n_out (dense)
    -> n_in (its tied mirror) -> back to the input's shape. Inputs are images of
    `image_shape` (height, width), or codes as (1, n_in) images."""
    h, w = _image_shape(n_in, image_shape)
    net = Network(h, w).dense(n_out, activation, scale).dense_tied(1, decoder_activation)
    return net.reshape(h, w, 1)


def encoder_network(sizes: Sequence[int], activation: str, scales: Sequence[float],
                    image_shape: Optional[tuple] = None) -> Network:
    """Images -> codes: dense(sizes[1]) ... dense(sizes[-1])."""
    net = Network(*_image_shape(sizes[0], image_shape))
    for n_out, scale in zip(sizes[1:], scales):
        net.dense(n_out, activation, scale)
    return net


def autoencoder_network(sizes: Sequence[int], activation: str, output_activation: str,
                        scales: Sequence[float], image_shape: Optional[tuple] = None) -> Network:
    """The whole tied autoencoder: the encoder, then the mirror of each of its layers from the
    last to the first (dense_tied), then a reshape to the image. Genome: every encoder layer's
    weights and biases, then the mirrors' biases, last layer's mirror first."""
    net = encoder_network(sizes, activation, scales, image_shape)
    layers = len(sizes) - 1
    for i in range(layers, 0, -1):
        net.dense_tied(i, output_activation if i == 1 else activation)
    return net.reshape(*_image_shape(sizes[0], image_shape), 1)


def forward_in_chunks(net: Network, genome: np.ndarray, inputs: np.ndarray,
                      threads: Optional[int] = None, chunk: int = 256) -> np.ndarray:
    """net.forward over `inputs` in chunks: the evaluator packs one genome copy per 8 images
    of a single-genome call, so a chunk bounds the memory (256 images of a 784x500 layer:
    0.4 GB) without costing speed."""
    outs = [net.forward(genome, inputs[i:i + chunk], threads=threads or 0)
            for i in range(0, len(inputs), chunk)]
    return np.concatenate(outs) if outs else np.zeros((0,), np.float32)


@dataclass
class StageResult:
    """One trained layer pair."""

    n_in: int
    n_out: int
    genome: np.ndarray  # the pair's genome: weights (n_out, n_in), biases, mirror biases
    history: np.ndarray  # best fitness (RMSE) after each generation
    generations: int
    rmse: float  # RMSE of the pair's reconstruction of its inputs (images or codes)
    seconds: float
    mutations: int  # weights changed per child
    settings: dict  # the Evolution's resolved settings
    # The assisted recipe: the RMSE of the evolution's best before fine-tuning, and the
    # fine-tuning that made `genome` from it.
    evolved_rmse: Optional[float] = None
    finetune: Optional[FineTuned] = None

    def summary(self) -> dict:
        summary = {"layer": f"{self.n_in}->{self.n_out}", "generations": self.generations,
                   "rmse": self.rmse, "initial_rmse": float(self.history[0]),
                   "seconds": self.seconds, "mutations_per_child": self.mutations,
                   "parameters": int(self.genome.size)}
        if self.finetune is not None:
            summary.update(evolved_rmse=self.evolved_rmse, finetune_steps=self.finetune.steps,
                           finetune_seconds=self.finetune.seconds)
        return summary


@dataclass
class TiedAutoencoder:
    """The trained stack: one StageResult per layer pair, and the networks built from it."""

    sizes: tuple
    activation: str
    output_activation: str
    scales: tuple
    stages: list
    image_shape: Optional[tuple] = None

    def encoder(self) -> Network:
        return encoder_network(self.sizes, self.activation, self.scales, self.image_shape)

    def network(self) -> Network:
        return autoencoder_network(self.sizes, self.activation, self.output_activation,
                                   self.scales, self.image_shape)

    def encoder_genome(self) -> np.ndarray:
        """Every layer's weights and biases, layer 1 first."""
        return np.concatenate([_split_stage(s)[0] for s in self.stages]).astype(np.float32)

    def genome(self) -> np.ndarray:
        """The genome of network(): the encoder's, then the mirrors' biases, last first."""
        mirrors = [_split_stage(s)[1] for s in reversed(self.stages)]
        return np.concatenate([self.encoder_genome(), *mirrors]).astype(np.float32)

    def encode(self, images: np.ndarray, threads: Optional[int] = None) -> np.ndarray:
        """Codes of images (S, H, W): float32 (S, sizes[-1])."""
        images = _as_images(images, self.sizes[0], self.image_shape)
        codes = forward_in_chunks(self.encoder(), self.encoder_genome(), images, threads)
        return codes.reshape(len(images), self.sizes[-1])

    def reconstruct(self, images: np.ndarray, threads: Optional[int] = None) -> np.ndarray:
        """The whole autoencoder's outputs for images (S, H, W)."""
        images = _as_images(images, self.sizes[0], self.image_shape)
        return forward_in_chunks(self.network(), self.genome(), images, threads)


def _split_stage(stage: StageResult) -> tuple:
    """(weights and biases of the dense layer, biases of its mirror)."""
    dense = stage.n_in * stage.n_out + stage.n_out
    return stage.genome[:dense], stage.genome[dense:]


def _as_images(x: np.ndarray, pixels: int, image_shape: Optional[tuple]) -> np.ndarray:
    h, w = _image_shape(pixels, image_shape)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2 or x[0].size != pixels:
        raise ValueError(f"expected images of {pixels} values each, got shape {x.shape}")
    return np.ascontiguousarray(x.reshape(len(x), h, w))


def train_layerwise(images: np.ndarray, settings: TiedSettings,
                    callback: Optional[Callable[[int, Progress], None]] = None,
                    stage_callback: Optional[Callable[[int, StageResult], None]] = None,
                    finetune_callback: Optional[Callable[[int, Progress], None]] = None,
                    ) -> TiedAutoencoder:
    """Train the tied autoencoder on scaled images (S, H, W) one layer pair at a time.

    Pair k is trained on the codes of layer k-1 (the images for k = 1) computed with the
    layers already trained, which are frozen: they are not in pair k's genome at all. Each
    pair is an evoae.Evolution of stage_network() with settings.evolution_keywords(); under
    the assisted recipe its best genome is then fine-tuned (tied_assisted.finetune_pair).
    callback(k, progress) is called every few seconds of the evolution, finetune_callback(k,
    progress) of the fine-tuning; stage_callback(k, result) after each pair."""
    settings.check()
    if np.asarray(images).dtype == np.uint8:  # before the conversion, which would hide it
        raise ValueError(UINT8_IMAGES)
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or images[0].size != settings.sizes[0]:
        raise ValueError(f"images must be (S, H, W) with H*W = sizes[0] = {settings.sizes[0]}, "
                         f"got shape {images.shape}")
    sizes = tuple(settings.sizes)
    image_shape = images.shape[1:]
    scales = tuple(settings.layer_scale(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
    stages: list = []
    inputs = images
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        net = stage_network(n_in, n_out, settings.activation,
                            settings.output_activation if k == 1 else settings.activation,
                            scales[k - 1], image_shape if k == 1 else None)
        result = _train_pair(net, n_in, n_out, inputs, settings, k, callback,
                             finetune_callback)
        stages.append(result)
        if stage_callback:
            stage_callback(k, result)
        if k < len(sizes) - 1:  # the codes of this layer, frozen from now on
            encoder = Network(*inputs.shape[1:]).dense(n_out, settings.activation, scales[k - 1])
            codes = forward_in_chunks(encoder, _split_stage(result)[0], inputs, settings.threads)
            inputs = np.ascontiguousarray(codes.reshape(len(inputs), 1, n_out))
    return TiedAutoencoder(sizes, settings.activation, settings.output_activation, scales,
                           stages, tuple(image_shape))


def _rmse(net: Network, genome: np.ndarray, inputs: np.ndarray, threads: Optional[int]) -> float:
    outputs = forward_in_chunks(net, genome, inputs, threads)
    return float(np.sqrt(np.mean((outputs - inputs) ** 2, dtype=np.float64)))


def _train_pair(net: Network, n_in: int, n_out: int, inputs: np.ndarray,
                settings: TiedSettings, k: int, callback, finetune_callback) -> StageResult:
    """Layer pair k (net) trained on its inputs by the settings' recipe."""
    start = time.perf_counter()
    mutations = max(1, round(settings.mutation_rate * net.num_params))
    evolution = Evolution(net, inputs, population=settings.population, mutations=mutations,
                          seed=settings.seed + 1000 * k, threads=settings.threads,
                          elites=settings.elites, **settings.evolution_keywords())
    # Progress every 5 s, not every 0.25 s: each report measures the best genome's mean
    # |error| once more, which under the RMSE fitness is a whole extra evaluation.
    evolution.run(generations=settings.generations, seconds=settings.seconds,
                  callback=(lambda p: callback(k, p)) if callback else None, interval=5.0)
    genome, evolved_rmse, tuned = evolution.best_genome.copy(), None, None
    if settings.recipe == "assisted":
        evolved_rmse = _rmse(net, genome, inputs, settings.threads)
        tuned = finetune_pair(net, inputs, genome, settings.finetune, settings.finetune_steps,
                              settings.finetune_seconds, settings.seed + 1000 * k,
                              settings.threads,
                              (lambda p: finetune_callback(k, p)) if finetune_callback else None)
        genome = tuned.genome
    rmse = _rmse(net, genome, inputs, settings.threads)
    return StageResult(n_in, n_out, genome, np.asarray(evolution.history, float),
                       evolution.generation, rmse, time.perf_counter() - start, mutations,
                       dict(evolution.settings), evolved_rmse, tuned)


# -- evaluation ------------------------------------------------------------------------------

def split_indices(n: int, train: int, held_out: int, seed: int) -> tuple:
    """Disjoint random index sets (train, held_out) of 0..n-1, fixed by the seed."""
    if train < 1 or held_out < 1 or train + held_out > n:
        raise ValueError(f"train ({train}) + held-out ({held_out}) images must be at most the "
                         f"{n} there are, each at least 1")
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[:train]), np.sort(order[train:train + held_out])


def _svm_accuracy(train_x, train_y, test_x, test_y, svm: dict) -> tuple:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    start = time.perf_counter()
    model = SVC(kernel=svm.get("kernel", "rbf"), C=svm.get("C", 1.0),
                gamma=svm.get("gamma", "scale"))
    if svm.get("standardize", False):
        model = make_pipeline(StandardScaler(), model)
    model.fit(train_x, train_y)
    accuracy = float(np.mean(model.predict(test_x) == test_y))
    return accuracy, time.perf_counter() - start


def classification_test(model: TiedAutoencoder, images: np.ndarray, labels: np.ndarray,
                        train: np.ndarray, held_out: np.ndarray, svm: Optional[dict] = None,
                        threads: Optional[int] = None, seed: int = 0) -> dict:
    """The same SVM (scikit-learn SVC, RBF kernel by default) fitted on the training images'
    features and scored on the held-out images, for three kinds of feature: the evolved
    codes, PCA with as many components (fitted on the training images), and the raw scaled
    pixels. Also the reconstruction RMSE of the held-out images, the autoencoder's and PCA's.
    Returns a dict of the numbers and the seconds each took."""
    from sklearn.decomposition import PCA

    svm = dict(svm or {})
    flat = images.reshape(len(images), -1).astype(np.float32)
    k = model.sizes[-1]
    timings = {}
    start = time.perf_counter()
    codes = model.encode(images, threads)
    recon = model.reconstruct(images[held_out], threads)
    timings["encode"] = time.perf_counter() - start
    rmse = float(np.sqrt(np.mean((recon.reshape(len(held_out), -1) - flat[held_out]) ** 2,
                                 dtype=np.float64)))
    start = time.perf_counter()
    pca = PCA(n_components=min(k, len(train), flat.shape[1]), random_state=seed).fit(flat[train])
    pca_features = pca.transform(flat)
    pca_recon = pca.inverse_transform(pca_features[held_out])
    timings["pca"] = time.perf_counter() - start
    pca_rmse = float(np.sqrt(np.mean((pca_recon - flat[held_out]) ** 2, dtype=np.float64)))
    mean_rmse = float(np.sqrt(np.mean((flat[train].mean(0) - flat[held_out]) ** 2,
                                      dtype=np.float64)))
    results = {}
    for name, features in (("svm", codes), ("pca_svm", pca_features), ("pixels_svm", flat)):
        accuracy, seconds = _svm_accuracy(features[train], labels[train], features[held_out],
                                          labels[held_out], svm)
        results[f"{name}_accuracy"] = accuracy
        timings[name] = seconds
    dead = int(np.sum(np.all(codes[train] == 0, axis=0)))
    return {**results, "rmse": rmse, "pca_rmse": pca_rmse, "mean_image_rmse": mean_rmse,
            "code_size": k, "constant_zero_code_units": dead,
            "reconstructions": recon, "pca_reconstructions": pca_recon.reshape(recon.shape),
            "seconds": timings}


# -- saving ----------------------------------------------------------------------------------

def save_model(path: str | os.PathLike, model: TiedAutoencoder, settings: dict) -> None:
    """The whole autoencoder and each pair's history, as an evoae archive of kind
    "tied-model" (atomic). meta: network (network_spec), sizes, settings; arrays: genome,
    history_1, history_2, ... (one per layer pair: the evolution's best fitness), and under
    the assisted recipe finetune_history_1, ... (the fine-tuning's loss)."""
    arrays = {"genome": model.genome()}
    for k, stage in enumerate(model.stages, start=1):
        arrays[f"history_{k}"] = stage.history
        if stage.finetune is not None:
            arrays[f"finetune_history_{k}"] = stage.finetune.history
    write_archive(path, MODEL_KIND,
                  {"network": network_spec(model.network()), "sizes": list(model.sizes),
                   "settings": settings}, arrays)


def load_model(path: str | os.PathLike) -> tuple:
    """(network, genome, settings) from save_model's file. Raises ValueError naming the file
    and the problem."""
    meta, arrays = read_archive(path, MODEL_KIND)
    network, genome = network_and_genome(path, meta, arrays)
    if "settings" not in meta:
        raise ValueError(f"{path}: damaged tied model (no settings)")
    return network, genome, meta["settings"]


def settings_dict(settings: TiedSettings) -> dict:
    d = asdict(settings)
    d["sizes"] = list(settings.sizes)
    return d
