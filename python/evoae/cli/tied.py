"""`evoae tied`: the genetic tied autoencoder of David & Greental (2014) trained layer by
layer on MNIST test images (by the GA alone, or by the GA-assisted recipe with --assisted),
and the SVM test of its codes against PCA and raw pixels. add_tied_command() registers it
with the evoae command line."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from .. import __version__, data
from ..evo.settings import SETTINGS, bounds
from ..io.atomic import write_text_atomically
from .arguments import int_at_least, positive_float, probe_writable
from ..systems.tied import (FINETUNE, LEARNING, RECIPE, TiedSettings, classification_test,
                            save_model, settings_dict, split_indices, train_layerwise)

__all__ = ["add_tied_command", "command_tied", "FULL", "QUICK", "FULL_ASSISTED",
           "QUICK_ASSISTED"]

# The recipe's sizes and how much of the data each run uses; --quick is a smaller network
# on fewer images that finishes in a few minutes on two cores.
FULL = {"sizes": "784,500,250,100,50", "fit_images": 500, "train": 8000, "held_out": 2000,
        "generations": 1000}
QUICK = {"sizes": "784,128,32", "fit_images": 300, "train": 2000, "held_out": 1000,
         "generations": 1500}
# The assisted recipe learns on mini-batches, so it can use every training image (fit_images
# None) and needs far fewer generations.
FULL_ASSISTED = dict(FULL, fit_images=None, generations=10, finetune_steps=2000)
QUICK_ASSISTED = dict(QUICK, fit_images=None, generations=10, finetune_steps=3000)

# The options of the assisted recipe's fine-tuning: option -> key of FINETUNE. Those of its
# learning are named as the keys of LEARNING.
_FINETUNE_OPTIONS = {"finetune_rate": "learning_rate", "finetune_batch": "batch",
                     "finetune_optimizer": "optimizer"}


def _sizes(text: str) -> tuple:
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"need at least two sizes >= 1, got {text!r}")
    return sizes




def _scale(text: str):
    return "glorot" if text == "glorot" else positive_float(text)


def add_tied_command(commands) -> argparse.ArgumentParser:
    """Adds `evoae tied` to the subparsers `commands` of the evoae command line."""
    from ..evo import evolution

    # The names of the toolkit's operators (None: an evoae without them accepts any name).
    names = getattr(evolution, "OPERATORS", {})
    tied = commands.add_parser(
        "tied",
        help="the genetic tied autoencoder (David & Greental 2014) and an SVM test of its codes",
        description=(
            "Train a tied autoencoder (the decoder uses the encoder's weights transposed) "
            "layer by layer by evolution - fitness 1/RMSE, uniform crossover, mutation "
            "setting a few weights to zero - on MNIST images (--data, --labels: the test "
            "set's IDX files), then fit the same SVM on its codes, on PCA features of the "
            "same size and on raw pixels of a training part, and score each on a held-out "
            "part. Writes report.json, reconstructions.png and tied-model.npz to --out. "
            f"Sizes and data default to the recipe ({FULL['sizes']}); --quick runs "
            f"{QUICK['sizes']} on fewer images in a few minutes. --assisted: the GA-assisted "
            "recipe, whose agents also learn by gradient steps and whose best genome of each "
            "pair is fine-tuned by backpropagation."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    # Required: the package ships only ten digits, too few for the SVM test.
    tied.add_argument("--data", type=Path, required=True, metavar="IMAGES",
                      help="IDX file of 28x28 images, e.g. MNIST's test set "
                           "t10k-images-idx3-ubyte.gz%(default).0s")
    tied.add_argument("--labels", type=Path, required=True, metavar="LABELS",
                      help="IDX file of their labels, e.g. t10k-labels-idx1-ubyte.gz"
                           "%(default).0s")
    tied.add_argument("--out", type=Path, default=Path("evoae-tied"),
                      help="folder for report.json, reconstructions.png, tied-model.npz")
    tied.add_argument("--quick", action="store_true",
                      help=f"a small run: sizes {QUICK['sizes']}, {QUICK['fit_images']} images "
                           f"for the fitness, {QUICK['train']} + {QUICK['held_out']} for the "
                           f"SVM, {QUICK['generations']} generations per layer pair (options "
                           "given explicitly still apply)")
    tied.add_argument("--sizes", type=_sizes, default=None,
                      help=f"layer sizes from the pixels to the code (default {FULL['sizes']})"
                           "%(default).0s")
    tied.add_argument("--activation", choices=("relu", "tanh", "sigmoid", "identity"),
                      default="relu", help="of every encoder layer and the inner mirrors")
    tied.add_argument("--output-activation", choices=("identity", "sigmoid", "relu", "tanh"),
                      default="identity", help="of the first layer's mirror (the pixels)")
    tied.add_argument("--scale", type=_scale, default="glorot",
                      help="weight scale of each layer: glorot = sqrt(6/(in+out)), so the "
                           "U(-1,1) genome starts Glorot-uniform; or a number")
    tied.add_argument("--fit-images", type=int_at_least(1), default=None,
                      help=f"training images the fitness uses (default {FULL['fit_images']}; "
                           "with --assisted every training image)%(default).0s")
    tied.add_argument("--train", type=int_at_least(1), default=None,
                      help=f"images the SVM and PCA are fitted on (default {FULL['train']})"
                           "%(default).0s")
    tied.add_argument("--held-out", type=int_at_least(1), default=None,
                      help=f"images they are scored on (default {FULL['held_out']})%(default).0s")
    evo = tied.add_argument_group("evolution of each layer pair (the recipe by default)")
    evo.add_argument("--population", type=int_at_least(8, _most("population")), default=16,
                     help="agents per generation")
    evo.add_argument("--elites", type=int_at_least(0, _most("elites")), default=8,
                     help="best agents kept unchanged and used as parents")
    evo.add_argument("--mutation-rate", type=float, default=0.0025,
                     help="weights mutated per child, as a fraction of the pair's parameters")
    evo.add_argument("--generations", type=int_at_least(0), default=None,
                     help=f"per layer pair (default {FULL['generations']}; with --assisted "
                          f"{FULL_ASSISTED['generations']})%(default).0s")
    evo.add_argument("--seconds", type=positive_float, default=None,
                     help="time limit per layer pair (with --generations: whichever first)"
                          "%(default).0s")
    evo.add_argument("--mutation", choices=names.get("mutation"), default=RECIPE["mutation"],
                     help="how a child is changed (the recipe: zero = a few weights set to "
                          "0); see `evoae run --help`")
    evo.add_argument("--sigma", type=positive_float, default=None,
                     help="step size of the mutations that have one (default: the "
                          "mutation's)%(default).0s")
    evo.add_argument("--crossover", choices=names.get("crossover"),
                     default=RECIPE["crossover"],
                     help="how two parents make a child (the recipe: uniform, each weight "
                          "from either parent)")
    evo.add_argument("--selection", choices=names.get("selection"),
                     default=RECIPE["selection"],
                     help="who the parents are (the recipe: truncation, the elites)")
    evo.add_argument("--fitness", choices=names.get("fitness"), default=RECIPE["fitness"],
                     help="what is minimised (the recipe: rmse, the root mean squared error)")
    _add_assisted_options(tied)
    tied.add_argument("--svm-c", type=positive_float, default=1.0,
                      help="the SVM's C (RBF kernel, gamma 'scale')")
    tied.add_argument("--standardize", action="store_true",
                      help="standardise every feature before the SVM (all three kinds)")
    tied.add_argument("--seed", type=int_at_least(0, _most("seed")), default=0,
                      help="seed of the split and of the evolution")
    tied.add_argument("--threads", type=int_at_least(1, _most("threads")), default=None,
                      help="OpenMP threads (default: all cores)%(default).0s")
    tied.add_argument("--quiet", action="store_true", help="no progress lines")
    tied.set_defaults(handler=command_tied)
    return tied


def _most(setting: str) -> int:
    return bounds(SETTINGS[setting])[1]


def _add_assisted_options(tied: argparse.ArgumentParser) -> None:
    """--assisted and the settings of its learning and fine-tuning (None: not given, the
    recipe's value; refused without --assisted)."""
    group = tied.add_argument_group(
        "the GA-assisted recipe (--assisted; systems/tied_assisted.py)")
    group.add_argument("--assisted", action="store_true",
                       help="train each layer pair by the GA whose agents also learn by "
                            "gradient steps (memetic evolution), then fine-tune the best "
                            "genome by backpropagation before the pair is frozen (defaults "
                            f"without --quick: {FULL_ASSISTED['generations']} generations per "
                            "pair, every training image, mini-batches)")
    learning = {
        "gradient_steps": dict(type=int_at_least(1, _most("gradient_steps")),
                               help="gradient steps of every agent per generation"),
        "memetic": dict(choices=SETTINGS["memetic"].choices,
                        help="lamarckian: the learned weights replace the genome; "
                             "baldwinian: only the fitness is the learned weights'"),
        "gradient_rate": dict(type=positive_float, help="learning rate of those steps"),
        "gradient_optimizer": dict(choices=SETTINGS["gradient_optimizer"].choices,
                                   help="optimiser of those steps (a fresh state each "
                                        "generation)"),
        "gradient_loss": dict(choices=[c for c in SETTINGS["gradient_loss"].choices
                                       if c != "softmax-ce"],
                              help="what those steps minimise"),
        "batch": dict(type=int_at_least(1, _most("batch")),
                      help="images of each generation's mini-batch: the agents learn on it "
                           "and are measured on it (a new seeded batch each generation)"),
    }
    for name, kwargs in learning.items():
        group.add_argument("--" + name.replace("_", "-"), default=None,
                           **_with_default(kwargs, LEARNING[name]))
    group.add_argument("--finetune-steps", type=int_at_least(0), default=None,
                       help="backpropagation steps of each pair's best genome after the "
                            f"evolution (0: none; default {FULL_ASSISTED['finetune_steps']}, "
                            f"with --quick {QUICK_ASSISTED['finetune_steps']})%(default).0s")
    group.add_argument("--finetune-seconds", type=positive_float, default=None,
                       help="time limit of each pair's fine-tuning (with --finetune-steps: "
                            "whichever first)%(default).0s")
    finetune = {
        "finetune_rate": dict(type=positive_float, help="learning rate of the fine-tuning"),
        "finetune_batch": dict(type=int_at_least(1, _most("batch")),
                               help="images per fine-tuning step (a new seeded batch each "
                                    "step)"),
        "finetune_optimizer": dict(choices=SETTINGS["gradient_optimizer"].choices,
                                   help="optimiser of the fine-tuning"),
    }
    for name, kwargs in finetune.items():
        group.add_argument("--" + name.replace("_", "-"), default=None,
                           **_with_default(kwargs, FINETUNE[_FINETUNE_OPTIONS[name]]))


def _with_default(kwargs: dict, default) -> dict:
    return dict(kwargs, help=f"{kwargs['help']} (default {default})%(default).0s")


def _assisted_settings(args: argparse.Namespace, preset: dict) -> dict:
    """The TiedSettings keywords of the assisted recipe from the options and the preset, or {}
    without --assisted (where giving one of its options is an error)."""
    given = [name for name in (*LEARNING, *_FINETUNE_OPTIONS, "finetune_steps",
                               "finetune_seconds") if getattr(args, name) is not None]
    if not args.assisted:
        if given:
            raise ValueError(f"--{given[0].replace('_', '-')} is a setting of the assisted "
                             "recipe: add --assisted")
        return {}
    learning = dict(LEARNING, **{name: getattr(args, name) for name in LEARNING
                                 if getattr(args, name) is not None})
    finetune = dict(FINETUNE, **{key: getattr(args, name)
                                 for name, key in _FINETUNE_OPTIONS.items()
                                 if getattr(args, name) is not None})
    steps = args.finetune_steps
    if steps is None and args.finetune_seconds is None:
        steps = preset["finetune_steps"]
    return {"recipe": "assisted", "learning": learning, "finetune": finetune,
            "finetune_steps": steps, "finetune_seconds": args.finetune_seconds}


def _require_scikit_learn() -> None:
    """The SVM test at the end needs scikit-learn: refused before hours of training."""
    try:
        import sklearn.decomposition  # noqa: F401
        import sklearn.svm  # noqa: F401
    except ImportError as e:
        raise ValueError(f"evoae tied needs scikit-learn for its SVM test ({e}): pip install "
                         "scikit-learn, or evoae[tied]") from None


def _load(args) -> tuple:
    images, labels = data.load_idx(args.data), data.load_idx(args.labels)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{args.data}: expected 28x28 images, the file holds an array of "
                         f"shape {images.shape}")
    if labels.shape != (len(images),):
        raise ValueError(f"{args.labels}: expected {len(images)} labels, the file holds an "
                         f"array of shape {labels.shape}")
    return data.scale(images), labels


def _save_pictures(path: Path, targets, outputs, pca, name: str, title: str) -> None:
    from ..pictures import plt, save_figure  # matplotlib with the Agg backend

    rows = (("target", targets), (name, outputs), ("PCA", pca))
    n = len(targets)
    fig, axes = plt.subplots(3, n, figsize=(1.1 * n + 0.6, 3.8), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for i in range(n):
            ax = axes[r][i]
            ax.imshow(np.clip(images[i], 0, 1), cmap="gray", vmin=0, vmax=1,
                      interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r][0].set_ylabel(label)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def command_tied(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    preset = {(False, False): FULL, (True, False): QUICK, (False, True): FULL_ASSISTED,
              (True, True): QUICK_ASSISTED}[args.quick, args.assisted]
    sizes = args.sizes or _sizes(preset["sizes"])
    n_train = args.train or preset["train"]
    n_held_out = args.held_out or preset["held_out"]
    fit_images = args.fit_images or preset["fit_images"] or n_train
    generations = args.generations
    if generations is None and args.seconds is None:
        generations = preset["generations"]
    if sizes[0] != 784:
        raise ValueError(f"--sizes must start with 784 (28x28 pixels), got {sizes[0]}")
    if fit_images > n_train:
        raise ValueError(f"--fit-images {fit_images} is more than the {n_train} training images")
    assisted = _assisted_settings(args, preset)
    _require_scikit_learn()
    probe_writable(args.out)
    images, labels = _load(args)
    train, held_out = split_indices(len(images), n_train, n_held_out, args.seed)
    operators = {"mutation": args.mutation, "crossover": args.crossover,
                 "selection": args.selection, "fitness": args.fitness}
    if args.sigma is not None:
        operators["sigma"] = args.sigma
    settings = TiedSettings(sizes=sizes, activation=args.activation,
                            output_activation=args.output_activation, scale=args.scale,
                            population=args.population, elites=args.elites,
                            mutation_rate=args.mutation_rate, generations=generations,
                            seconds=args.seconds, seed=args.seed, threads=args.threads,
                            operators=operators, **assisted)
    settings.check()
    # The fitness images: the first of the (shuffled) training part.
    order = np.random.default_rng(args.seed).permutation(train)
    fit = images[np.sort(order[:fit_images])]
    log = (lambda *a: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    log(f"evoae {__version__} tied ({settings.recipe} recipe): sizes "
        f"{'-'.join(map(str, sizes))}, {fit_images} fitness images, population "
        f"{settings.population} ({settings.elites} elites), operators "
        f"{settings.evolution_keywords()}, {generations or '-'} generations / "
        f"{args.seconds or '-'} s per pair")
    if args.assisted:
        log(f"  then per pair: fine-tuning {settings.finetune}, "
            f"{settings.finetune_steps if settings.finetune_steps is not None else '-'} steps / "
            f"{settings.finetune_seconds or '-'} s")

    last = {"t": 0.0}

    # The RMSE of a mini-batch under --batch, of all fitness images otherwise.
    measured = "batch" if settings.evolution_keywords().get("batch") else "all"

    def progress(k, p) -> None:
        if p.elapsed - last["t"] >= 5.0 or p.elapsed < last["t"]:
            last["t"] = p.elapsed
            log(f"  pair {k}: generation {p.generation:>6}  best RMSE ({measured}) "
                f"{p.best_error:.5f}  {p.evals_per_second:>9,.0f} evals/s  {p.elapsed:6.1f} s")

    def finetune_progress(k, p) -> None:
        log(f"  pair {k}: fine-tuning step {p.generation:>6}  loss "
            f"({settings.finetune['loss']}, batch) {p.best_error:.5f}  {p.elapsed:6.1f} s")

    def stage_done(k, s) -> None:
        last["t"] = 0.0
        tuned = (f"; RMSE {s.evolved_rmse:.5f} after the evolution, fine-tuned in "
                 f"{s.finetune.steps} steps ({s.finetune.seconds:.1f} s)" if s.finetune else "")
        log(f"pair {k} ({s.n_in}->{s.n_out}): {s.generations} generations, RMSE "
            f"{s.history[0]:.5f} -> {s.rmse:.5f}{tuned}, {s.seconds:.1f} s")

    model = train_layerwise(fit, settings, None if args.quiet else progress, stage_done,
                            None if args.quiet else finetune_progress)
    training_seconds = time.perf_counter() - started
    log("classification test: SVM on the codes, on PCA features, on pixels ...")
    svm = {"kernel": "rbf", "C": args.svm_c, "gamma": "scale", "standardize": args.standardize}
    test = classification_test(model, images, labels, train, held_out, svm, args.threads,
                               args.seed)
    recon, pca_recon = test.pop("reconstructions"), test.pop("pca_reconstructions")
    seconds = time.perf_counter() - started
    report = {
        "svm_accuracy": test["svm_accuracy"],
        "pca_svm_accuracy": test["pca_svm_accuracy"],
        "pixels_svm_accuracy": test["pixels_svm_accuracy"],
        "rmse": test["rmse"],
        "pca_rmse": test["pca_rmse"],
        "mean_image_rmse": test["mean_image_rmse"],
        "code_size": test["code_size"],
        "constant_zero_code_units": test["constant_zero_code_units"],
        "stages": [s.summary() for s in model.stages],
        "seconds": seconds,
        "seconds_detail": {"training": training_seconds, **test["seconds"]},
        "settings": {
            **settings_dict(settings),
            "quick": args.quick, "fit_images": fit_images, "train_images": n_train,
            "held_out_images": n_held_out, "data": str(args.data), "labels": str(args.labels),
            "pixel_scale": "x/255*0.8 + 0.1", "svm": svm,
            "evolution": [s.settings for s in model.stages],
            "trainer": [s.finetune.settings for s in model.stages if s.finetune],
            "evoae_version": __version__,
        },
        "notes": ("rmse: the whole autoencoder's reconstruction of the held-out images, in "
                  "the scaled pixel units [0.1, 0.9]; pca_rmse: PCA with code_size "
                  "components; mean_image_rmse: predicting the training images' mean"),
    }
    write_text_atomically(args.out / "report.json", json.dumps(report, indent=2) + "\n")
    save_model(args.out / "tied-model.npz", model, report["settings"])
    show = held_out[:10]
    name = "assisted" if args.assisted else "evolved"
    _save_pictures(args.out / "reconstructions.png", images[show], recon[:10],
                   pca_recon[:10], name,
                   f"held-out images; {name} tied AE {'-'.join(map(str, sizes))} RMSE "
                   f"{test['rmse']:.4f}, PCA({test['code_size']}) RMSE {test['pca_rmse']:.4f}")
    print(f"SVM accuracy on held-out images: {name} codes {report['svm_accuracy']:.4f}, "
          f"PCA {report['pca_svm_accuracy']:.4f}, pixels {report['pixels_svm_accuracy']:.4f}; "
          f"reconstruction RMSE {report['rmse']:.4f} (PCA {report['pca_rmse']:.4f}, mean "
          f"image {report['mean_image_rmse']:.4f}); {seconds:.0f} s; wrote {args.out}/"
          "{report.json, reconstructions.png, tied-model.npz}")
    return 0
