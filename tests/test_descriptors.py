"""One descriptor per optimizer and per task: no code outside them branches on a name, and what
they say is what the code does."""
import ast
import pathlib

import pytest
import torch

from agmcore.engine.baseline import torch_optimizer
from agmcore.engine.config import OptimizerConfig, RunConfig
from agmcore.optimizers.family import OPTIMIZER_NAMES, REGISTRY
from agmcore.presentation import figures
from agmcore.presentation.playground import DEFAULTS, TASK_KEYS, build_race, key_of, settings_of
from agmcore.problems.descriptors import TASK_NAMES, TASKS

ROOT = pathlib.Path(__file__).resolve().parents[1]
NAMES = set(OPTIMIZER_NAMES) | set(TASK_NAMES)
# where names are the data: the descriptors themselves, the settings classes that name their task,
# the experiments (a claim names the optimizers it compares) and the Home presets
OWNERS = {"agmcore/optimizers/family.py", "agmcore/problems/descriptors.py", "agmcore/problems/settings.py",
          "agmcore/presentation/presets.py"}
SOURCES = [p for p in sorted([*ROOT.glob("agmcore/**/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("app_pages/*.py"),
                              ROOT / "app.py"])
           if str(p.relative_to(ROOT)) not in OWNERS and "experiments" not in p.parts]


def name_branches(source: str):
    """Comparisons (==, !=, in, not in) of anything with an optimizer's or a task's name literal."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                literals = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
                if any(isinstance(x, ast.Constant) and x.value in NAMES for x in literals):
                    yield f"line {node.lineno}: {ast.unparse(node)}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_branch_on_a_name_outside_the_descriptors(path):
    assert list(name_branches(path.read_text())) == []


def test_the_branch_check_sees_a_branch():
    assert list(name_branches('if o.name == "adame":\n    pass\n'))
    assert list(name_branches('x = task["name"] != "diag-net"\n'))
    assert list(name_branches('x = name in ("sgd", "rmsprop")\n'))
    assert not list(name_branches('x = REGISTRY[o.name].lam_free\n'))


def test_marker_colours_are_no_optimizer_colour():
    colours = {member.color.lower() for member in REGISTRY.values()}
    assert len(colours) == len(REGISTRY)  # one colour per optimizer
    assert not colours & {c.lower() for c in figures.MARKER_COLORS}
    assert figures.OPTIMIZER_COLORS == {name: member.color for name, member in REGISTRY.items()}


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_an_optimizers_defaults_come_from_its_descriptor(name):
    member, config = REGISTRY[name], OptimizerConfig(name=name)
    assert config.beta1 == member.beta1_default
    assert config.bias_correction == member.bias_correction_default
    assert ("beta1" in member.knobs) == (member.momentum != "none")
    assert ("beta2" in member.knobs) == member.preconditioned
    assert ("lam" in member.knobs) == member.lam_free


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam"])
def test_the_torch_twin_is_the_torch_optimizer_it_names(name):
    config = RunConfig(optimizer=OptimizerConfig(name=name, bias_correction=name != "rmsprop"))
    twin = torch_optimizer(config, [torch.zeros(3, requires_grad=True)])
    assert type(twin).__name__.lower() == {"sgd": "sgd", "rmsprop": "rmsprop", "adam": "adam"}[name]


def test_an_optimizer_without_a_twin_says_so():
    with pytest.raises(ValueError, match="no torch.optim twin"):
        torch_optimizer(RunConfig(optimizer=OptimizerConfig(name="adame")), [torch.zeros(3, requires_grad=True)])


@pytest.mark.parametrize("task", TASK_NAMES)
def test_a_tasks_playground_knobs_round_trip(task):
    """Each knob the descriptor lists is set from its Playground key, and read back."""
    described = TASKS[task]
    assert set(described.knobs) <= set(described.fields()) and set(described.knob_labels) == set(described.knobs)
    settings = {"pg_task": task}
    for field in described.knobs:
        default = DEFAULTS[TASK_KEYS[field]]
        settings[TASK_KEYS[field]] = (not default) if isinstance(default, bool) else default + 1
    configs = build_race(settings)
    assert type(configs[0].task) is described.settings
    back = settings_of(configs)
    assert {k: back[k] for k in settings} == settings


def test_lambda_is_a_knob_of_every_member_with_lambda_free():
    free = [n for n, m in REGISTRY.items() if m.lam_free]
    assert free and all(key_of(n, "lam") in DEFAULTS for n in free)
    assert all(key_of(n, "lam") not in DEFAULTS for n in REGISTRY if n not in free)
