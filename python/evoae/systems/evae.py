"""The evolutionary VAE (eVAE; Wu, Cao & Qi, "eVAE: Evolutionary Variational Autoencoder",
IEEE TNNLS 36(2), 2025, arXiv 2301.00011) and five baselines, trained side by side in one
population of VAEs (evoae._core.VaePopulation: one VAE per SIMD lane, each with its own KL
weight beta, trained by Adam on the same mini-batches with the same noise):

    vae        beta = 1 (Kingma & Welling 2014)
    beta-vae   beta = beta_vae_beta, 4 by default (Higgins et al. 2017)
    annealing  beta from 0 to 1 linearly (Bowman et al. 2016)
    cyclical   cyclical annealing (Fu et al. 2019)
    control    a ControlVAE-style PI controller steering the KL to kl_target (Shao et al. 2020)
    evae       `population` VAEs whose betas evolve every `evolve_every` steps towards the
               fitness of evae_methods.py (ELBO improvement and closeness of the KL to the
               same kl_target); the selected ones' weights and Adam moments are copied

Every network starts from the same weights (Glorot & Bengio 2010's uniform range, biases 0,
from the seed): the methods differ only in their betas. Same data, batches, noise and steps
for all; eVAE spends `population` networks' work where a baseline spends one (the price of
any population-based method). The networks: an MLP encoder HxW -> hidden (ReLU) -> 2k
(identity: k means, k log-variances) and decoder k -> hidden (ReLU) -> HxW (sigmoid).
Images are intensities in [0, 1] (pixel / 255). The evaluation (results()) measures every
method on the held-out images with one fixed noise sample per image; the eVAE entry is its
leader, the member of highest fitness over the last window of steps.

    run = EvaeRun(images, steps=3000, seed=0)
    run.run(generations=3000)
    run.results()["evae"]   # {"elbo": ..., "reconstruction": ..., "kl": ..., ...}
"""
from __future__ import annotations

import math
import numbers
import time
from typing import Optional

import numpy as np

from .. import _core
from ..evo.settings import Setting
from ..nn.init import glorot_genome
from ..nn.network import Network
from ..system import System
from .evae_methods import (PiController, cyclical_annealing, evae_fitness, evolve_betas,
                           linear_annealing)

__all__ = ["EvaeRun", "EVAE_SETTINGS", "METHODS", "BASELINES", "vae_networks",
           "active_units", "EVALUATION_NOISE"]

#: The methods, eVAE first; the baselines in the order of their lanes (0 .. 4).
METHODS = ("evae", "vae", "beta-vae", "annealing", "cyclical", "control")
BASELINES = METHODS[1:]

#: The noise key of the held-out evaluation: a step no run reaches, so its noise is drawn
#: from streams no training step uses.
EVALUATION_NOISE = 2**62

#: Active units (Burda et al. 2016): latent dimensions whose mean over q(z|x) varies across
#: the held-out images by more than this (their threshold).
ACTIVE_VARIANCE = 0.01


def _setting(name, type_, group, default, help_, low=0.0, high=math.inf, exclusive=False,
             choices=(), metavar="") -> Setting:
    return Setting(name, type_, group, low, exclusive, high, tuple(choices), default, metavar,
                   True, help_)


_INT = 2**31 - 1
#: Every setting of an eVAE run, declared once: EvaeRun checks values against it and `evoae
#: evae`'s options are made from it.
EVAE_SETTINGS: dict[str, Setting] = {s.name: s for s in (
    _setting("steps", "int", "training", 3000,
             "Adam steps of every network (the budget; the schedules span it)", 1, _INT),
    _setting("batch", "int", "training", 64,
             "images per step, a seeded draw of distinct training images (at most all "
             "of them)", 1, _INT),
    _setting("learning_rate", "float", "training", 1e-3, "Adam's step size", 0.0, 1.0, True),
    _setting("seed", "int", "training", 0,
             "seed of the weights, batches, noise and evolution: the same seed gives the same "
             "run on any thread count", 0, 2**63 - 1),
    _setting("holdout", "float", "training", 0.2,
             "the last fraction of the images, held out for the table (8,000 / 2,000 of the "
             "10,000 MNIST test images)", 0.0, 1.0, True),
    _setting("latent", "int", "model", 16, "latent dimensions k", 1, 4096, metavar="K"),
    _setting("hidden", "int", "model", 256,
             "units of the one hidden layer (ReLU) of the encoder and of the decoder", 1,
             100000),
    _setting("reconstruction", "choice", "model", "bce",
             "bce: -log p(x|z) of a Bernoulli decoder, summed over the pixels (nats); mse: "
             "the sum of squared errors", choices=("bce", "mse")),
    _setting("kl_target", "float", "evae", 18.0,
             "the KL (nats) eVAE's fitness and the controller aim at, C: between the "
             "beta-VAE's (about 7) and the VAE's (about 21) on MNIST with k = 16", 0.0, math.inf, True,
             metavar="C"),
    _setting("population", "int", "evae", 11,
             "eVAE's VAEs (11 fill 16 lanes with the 5 baselines)", 2, 4096, metavar="P"),
    _setting("evolve_every", "int", "evae", 50,
             "E: steps between evolutionary steps (the fitness window)", 1, _INT, metavar="E"),
    _setting("crossover_index", "float", "evae", 10.0,
             "SBX's distribution index eta: larger keeps children nearer their parents", 0.0,
             1e6, metavar="ETA"),
    _setting("crossover_probability", "float", "evae", 0.9,
             "chance that a child's log10 beta is an SBX of its parents' (else the first "
             "parent's)", 0.0, 1.0),
    _setting("mutation_scale", "float", "evae", 0.05,
             "the V-mutation: a Cauchy step of this scale on each child's log10 beta", 0.0,
             10.0, True),
    _setting("survival", "float", "evae", 0.5,
             "fraction of the population kept by truncation selection; the rest are children",
             0.0, 1.0, True),
    _setting("kl_weight", "float", "evae", 1.0,
             "weight of |KL - C| / C against the ELBO's relative improvement in the fitness",
             0.0, 1e6),
    _setting("initial_beta_low", "float", "evae", 0.1,
             "eVAE's first betas: log-evenly spaced from this ...", 0.0, math.inf, True),
    _setting("initial_beta_high", "float", "evae", 10.0, "... to this", 0.0, math.inf, True),
    _setting("beta_min", "float", "evae", 1e-3,
             "the least beta of eVAE and of the controller", 0.0, math.inf, True),
    _setting("beta_max", "float", "evae", 100.0,
             "the largest beta of eVAE and of the controller", 0.0, math.inf, True),
    _setting("beta_vae_beta", "float", "baselines", 4.0, "beta-VAE's fixed beta", 0.0,
             math.inf, True),
    _setting("anneal_fraction", "float", "baselines", 0.5,
             "linear annealing: beta rises 0 -> 1 over this fraction of the steps", 0.0, 1.0),
    _setting("cycles", "int", "baselines", 4, "cyclical annealing: cycles M", 1, _INT),
    _setting("cycle_ratio", "float", "baselines", 0.5,
             "cyclical annealing: the fraction R of a cycle beta rises over", 0.0, 1.0),
    _setting("control_kp", "float", "baselines", 0.01, "the PI controller's Kp", 0.0, 1e6),
    _setting("control_ki", "float", "baselines", 1e-3,
             "the PI controller's Ki (per nat of error per step)", 0.0, 1e6),
    _setting("threads", "int", "engine", None,
             "OpenMP threads (default: all cores); any number gives the same result", 1, 1024),
)}


def resolve_settings(given: dict) -> dict:
    """Every setting's value: the table's defaults updated by `given` (None: not given);
    ValueError naming the setting for an unknown name, a wrong type or a value out of range,
    or for beta bounds or first betas out of order."""
    settings = {name: spec.default for name, spec in EVAE_SETTINGS.items()}
    for name, value in given.items():
        if value is None:
            continue
        if name not in EVAE_SETTINGS:
            raise ValueError(f"unknown setting {name!r}; the settings are "
                             f"{', '.join(EVAE_SETTINGS)}")
        settings[name] = _checked(EVAE_SETTINGS[name], value)
    if not settings["beta_min"] < settings["beta_max"]:
        raise ValueError(f"beta_min ({settings['beta_min']:g}) must be below beta_max "
                         f"({settings['beta_max']:g})")
    for name in ("initial_beta_low", "initial_beta_high"):
        if not settings["beta_min"] <= settings[name] <= settings["beta_max"]:
            raise ValueError(f"{name} ({settings[name]:g}) must lie in beta_min..beta_max")
    if settings["initial_beta_low"] > settings["initial_beta_high"]:
        raise ValueError("initial_beta_low must not exceed initial_beta_high")
    return settings


def _checked(spec: Setting, value):
    if spec.type == "choice":
        if value not in spec.choices:
            raise ValueError(f"{spec.name} must be one of {', '.join(spec.choices)}, "
                             f"got {value!r}")
        return value
    wanted = numbers.Integral if spec.type == "int" else numbers.Real
    if isinstance(value, bool) or not isinstance(value, wanted):
        raise ValueError(f"{spec.name} must be {'an integer' if spec.type == 'int' else 'a number'}"
                         f", got {value!r}")
    low_ok = value > spec.min if spec.min_exclusive else value >= spec.min
    if not (low_ok and value <= spec.max):  # NaN fails too
        low = f"> {spec.min:g}" if spec.min_exclusive else f">= {spec.min:g}"
        raise ValueError(f"{spec.name} must be {low} and <= {spec.max:g}, got {value}")
    return int(value) if spec.type == "int" else float(value)


def vae_networks(latent: int, hidden: int, height: int = 28, width: int = 28) -> tuple:
    """(encoder, decoder): HxW -> hidden (ReLU) -> 2k (identity); 1 x k -> hidden (ReLU) ->
    HxW (sigmoid)."""
    encoder = Network(height, width).dense(hidden, "relu").dense(2 * latent, "identity")
    decoder = Network(1, latent).dense(hidden, "relu").dense(height * width)
    return encoder, decoder.reshape(height, width, 1)


def active_units(means: np.ndarray) -> int:
    """Latent dimensions whose mean (means: (S, k)) varies across images by more than
    ACTIVE_VARIANCE."""
    return int((means.var(axis=0) > ACTIVE_VARIANCE).sum())


class EvaeRun(System):
    """The six methods on `images` (float (S, H, W) intensities in [0, 1]; the last
    `holdout` fraction held out), one step of every network per generation of the run loop.
    Keywords: the settings of EVAE_SETTINGS (evoae evae --help says each)."""

    CHECKPOINT = "evae"
    TABLE = EVAE_SETTINGS

    def __init__(self, images, **settings):
        s = resolve_settings(settings)
        images = np.asarray(images)
        if images.ndim != 3 or images.dtype.kind != "f":
            raise ValueError(f"images must be float intensities (S, H, W), got dtype "
                             f"{images.dtype} and shape {images.shape}")
        if not np.isfinite(images).all() or images.min() < 0 or images.max() > 1:
            raise ValueError("images must be intensities in [0, 1] (pixel / 255)")
        S = len(images)
        held = round(s["holdout"] * S)
        if held < 1 or held >= S:
            raise ValueError(f"holdout {s['holdout']:g} of {S} images holds out {held}: "
                             f"at least one image must be held out and one trained on")
        self.num_train, self.num_holdout = S - held, held
        if s["batch"] > self.num_train:
            raise ValueError(f"batch {s['batch']} is more than the {self.num_train} training "
                             f"images")
        self._settings = s
        self.images = np.ascontiguousarray(images, dtype=np.float32)
        self.holdout_images = self.images[self.num_train:]
        self.encoder, self.decoder = vae_networks(s["latent"], s["hidden"], *images.shape[1:])
        self.stop_reason = None
        self.offset = len(BASELINES)  # eVAE's members follow the baselines' lanes
        members = self.offset + s["population"]
        genome = glorot_genome((self.encoder, self.decoder),
                               np.random.default_rng([s["seed"], 1]))  # 1: the Init purpose
        self._pop = _core.VaePopulation(
            self.encoder, self.decoder, self.images, self.num_train, s["reconstruction"],
            s["learning_rate"], s["batch"], s["seed"], s["threads"] or 0,
            np.tile(genome, (members, 1)))
        low, high = math.log10(s["initial_beta_low"]), math.log10(s["initial_beta_high"])
        self.log_betas = np.linspace(low, high, s["population"])
        self.controller = PiController(s["kl_target"], s["control_kp"], s["control_ki"],
                                       s["beta_min"], s["beta_max"], beta=s["beta_min"])
        self.rounds = 0  # evolutionary steps done
        self.leader = 0  # eVAE's member (0 .. population - 1) of best fitness so far
        self._previous_loss: Optional[np.ndarray] = None
        self._window = np.zeros((3, s["population"]))  # sums of loss and KL, and steps
        # Per step, every member: beta, and the batch's reconstruction and KL; the leader.
        self.beta_history, self.recon_history, self.kl_history = [], [], []
        self.leader_history = []

    # -- the methods' betas -------------------------------------------------------------------
    def betas(self) -> np.ndarray:
        """Every member's beta for the next step: the baselines' in BASELINES order, then
        eVAE's population."""
        s, step = self._settings, self.generation
        baselines = [1.0, s["beta_vae_beta"],
                     linear_annealing(step, s["steps"], s["anneal_fraction"]),
                     cyclical_annealing(step, s["steps"], s["cycles"], s["cycle_ratio"]),
                     self.controller.beta]
        return np.concatenate([baselines, 10.0 ** self.log_betas])

    def member(self, method: str) -> int:
        """The lane of `method`'s network (eVAE: its leader)."""
        if method == "evae":
            return self.offset + self.leader
        return BASELINES.index(method)

    # -- one step -----------------------------------------------------------------------------
    def step(self) -> None:
        """One Adam step of every network; then the controller's update and, every E steps
        (not at the last), the evolutionary step."""
        s = self._settings
        betas = self.betas()
        recon, kl = self._pop.step(betas)
        self.controller.update(float(kl[BASELINES.index("control")]))
        evae = slice(self.offset, None)
        self._window += [recon[evae] + kl[evae], kl[evae], np.ones(s["population"])]
        self.beta_history.append(betas)
        self.recon_history.append(recon)
        self.kl_history.append(kl)
        if self._previous_loss is None:  # the first window's improvement counts from here
            self._previous_loss = recon[evae] + kl[evae]
        if self.generation % s["evolve_every"] == 0 and self.generation < s["steps"]:
            self._evolve()
        self.leader_history.append(self.leader)

    def fitness(self) -> np.ndarray:
        """eVAE's members' fitness over the steps since the last evolutionary step."""
        loss, kl, count = self._window
        return evae_fitness(self._previous_loss, loss / count, kl / count,
                            self._settings["kl_target"], self._settings["kl_weight"])

    def _evolve(self) -> None:
        s = self._settings
        fitness = self.fitness()
        loss = self._window[0] / self._window[2]
        evolved = evolve_betas(self.log_betas, fitness, seed=s["seed"], round_=self.rounds,
                               survival=s["survival"], eta=s["crossover_index"],
                               crossover_probability=s["crossover_probability"],
                               mutation_scale=s["mutation_scale"],
                               low=math.log10(s["beta_min"]), high=math.log10(s["beta_max"]))
        self.leader = int(np.argmax(fitness))
        for m, source in enumerate(evolved.sources):
            if source != m:
                self._pop.copy_member(self.offset + int(source), self.offset + m)
        self._previous_loss = loss[evolved.sources]
        self.log_betas = evolved.log_betas
        self._window[:] = 0.0
        self.rounds += 1

    def run(self, generations: Optional[int] = None, *args, **kwargs):
        """System.run for at most the steps left of the setting `steps` (all of them by
        default): the schedules end there."""
        left = self._settings["steps"] - self.generation
        return super().run(left if generations is None else min(generations, left), *args,
                           **kwargs)

    def advance(self, max_generations: int, max_seconds: float, target_metric: float = -1.0,
                patience: int = 0) -> tuple:
        """Steps until `max_generations`, `max_seconds` or the setting `steps` (the run
        loop's step; target and patience do not apply to a comparison)."""
        start, done = time.perf_counter(), 0
        while done < max_generations and self.generation < self._settings["steps"]:
            self.step()
            done += 1
            if time.perf_counter() - start >= max_seconds:
                return done, "seconds"
        return done, "generations"

    # -- what the run loop reads --------------------------------------------------------------
    @property
    def settings(self) -> dict:
        return {k: v for k, v in self._settings.items() if k != "threads"}

    @property
    def threads(self) -> Optional[int]:
        return self._settings["threads"]

    @property
    def generation(self) -> int:
        return self._pop.steps

    @property
    def evaluations(self) -> int:
        return self._pop.evaluations

    @property
    def best_error(self) -> float:
        """The eVAE leader's negative ELBO (beta = 1) on the last step's batch."""
        if not self.kl_history:
            return math.nan
        m = self.member("evae")
        return float(self.recon_history[-1][m] + self.kl_history[-1][m])

    @property
    def best_metric(self) -> float:
        """The eVAE leader's KL on the last step's batch."""
        return float(self.kl_history[-1][self.member("evae")]) if self.kl_history else math.nan

    metric_name = "KL"

    @property
    def history(self) -> np.ndarray:
        return np.array([r[m] + k[m] for r, k, m in zip(
            self.recon_history, self.kl_history, self.leader_history)])

    def state(self) -> dict:
        raise NotImplementedError("an eVAE run has no checkpoints: it runs in minutes")

    # -- results ------------------------------------------------------------------------------
    def finish(self) -> None:
        """Chooses eVAE's leader on the steps since the last evolutionary step (the run's
        end)."""
        if self._window[2, 0] > 0:
            self.leader = int(np.argmax(self.fitness()))

    def genome(self, method: str) -> tuple:
        """(encoder genome, decoder genome) of `method`'s network."""
        g = self._pop.genomes()[self.member(method)]
        return g[:self.encoder.num_params], g[self.encoder.num_params:]

    def means(self, method: str, images: np.ndarray) -> np.ndarray:
        """The posterior means (S, k) `method`'s encoder gives the images."""
        out = self.encoder.forward(self.genome(method)[0], images)
        return out.reshape(len(images), -1)[:, :self._settings["latent"]]

    def decode(self, method: str, codes: np.ndarray) -> np.ndarray:
        """`method`'s decoder's images (S, H, W) of latent codes (S, k)."""
        codes = np.asarray(codes, dtype=np.float32).reshape(len(codes), 1, -1)
        return self.decoder.forward(self.genome(method)[1], codes)

    def results(self) -> dict:
        """Per method, on the held-out images: elbo (nats per image, higher is better),
        reconstruction and kl (their means), active_units; kl_target for evae and control."""
        recon, kl = self._pop.evaluate(self.holdout_images, EVALUATION_NOISE)
        table = {}
        for method in METHODS:
            m = self.member(method)
            r, q = float(recon[m].mean()), float(kl[m].mean())
            table[method] = {"elbo": -(r + q), "reconstruction": r, "kl": q,
                             "active_units": active_units(self.means(method,
                                                                     self.holdout_images))}
            if method in ("evae", "control"):
                table[method]["kl_target"] = self._settings["kl_target"]
        table["evae"]["beta"] = float(10.0 ** self.log_betas[self.leader])
        table["control"]["beta"] = self.controller.beta
        return table
