"""One source for each setting: the C++ table (evoae._core.setting_specs) gives the Python
keyword defaults, the CLI options and the checks; these tests prove the three agree."""
import inspect
import math

import pytest

import evoae
from evoae.cli.main import build_parser
from evoae.evo.settings import SETTINGS, describe

IMAGES = evoae.data.scale(evoae.data.ten_digits()[:2])


def run_parser():
    parser = build_parser()
    return next(a for a in parser._subparsers._group_actions[0].choices.values()
                if a.prog.endswith(" run"))


def test_python_keyword_defaults_are_the_table_s():
    signature = inspect.signature(evoae.Evolution.__init__).parameters
    for name in ("population", "mutations", "seed"):
        assert signature[name].default == SETTINGS[name].default
    assert signature["threads"].default is None and SETTINGS["threads"].default is None


def test_every_command_line_setting_is_an_option_with_the_table_s_choices():
    options = {a.dest: a for a in run_parser()._actions}
    for name, spec in SETTINGS.items():
        if not spec.command_line:
            assert name not in options
            continue
        action = options[name]
        assert action.option_strings == [spec.option]
        assert action.default is None  # not given: the core resolves it
        assert spec.help.split(":")[0] in action.help
        if spec.type == "choice":
            assert list(action.choices) == list(spec.choices)


def test_defaults_resolve_to_the_table_s(tmp_path):
    evo = evoae.Evolution(evoae.varadi_network(), IMAGES)
    for name, spec in SETTINGS.items():
        if name != "threads" and spec.default is not None:
            assert evo.settings[name] == spec.default, name
    assert describe(evo.settings) == "the original loop"


def below(spec):
    """A value the table refuses: just under the minimum."""
    if spec.type == "int":
        return int(spec.min) - 1
    return spec.min if spec.min_exclusive else spec.min - 0.5


@pytest.mark.parametrize("name", [n for n, s in SETTINGS.items() if s.type != "choice"])
def test_out_of_range_values_are_refused_alike_by_python_and_the_cli(name, capsys):
    spec = SETTINGS[name]
    value = below(spec)
    bound = f">{'' if spec.min_exclusive else '='} {spec.min:g}"
    with pytest.raises(ValueError, match=f"{name} must be {bound}"):
        evoae.Evolution(evoae.varadi_network(), IMAGES, **{name: value})
    if spec.command_line:
        with pytest.raises(SystemExit) as exit_:
            run_parser().parse_args([spec.option, str(value)])
        assert exit_.value.code == 2
        assert f"{bound}, got" in capsys.readouterr().err


@pytest.mark.parametrize("name", [n for n, s in SETTINGS.items() if s.type == "choice"])
def test_unknown_names_are_refused_with_the_choices(name):
    with pytest.raises(ValueError, match="choose " + ", ".join(SETTINGS[name].choices)):
        evoae.Evolution(evoae.varadi_network(), IMAGES, **{name: "nonsense"})


def test_types_and_unknown_settings_are_refused():
    with pytest.raises(ValueError, match="population must be an integer, got 2.5"):
        evoae.Evolution(evoae.varadi_network(), IMAGES, population=2.5)
    with pytest.raises(ValueError, match="mutation must be a name"):
        evoae.Evolution(evoae.varadi_network(), IMAGES, mutation=3)
    with pytest.raises(ValueError, match="unknown setting 'sigmaa': the settings are "):
        evoae.Evolution(evoae.varadi_network(), IMAGES, sigmaa=0.1)
    with pytest.raises(ValueError, match="sigma must be finite"):
        evoae.Evolution(evoae.varadi_network(), IMAGES, mutation="gaussian", sigma=math.inf)


def test_describe_names_what_differs():
    evo = evoae.Evolution(evoae.varadi_network(), IMAGES, mutation="gaussian",
                          selection="truncation", truncation=3, mutations=1)
    assert describe(evo.settings) == "mutation gaussian, selection truncation, truncation 3"
