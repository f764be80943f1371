"""Numbers the docs restate, checked against the code that owns them (one source for each fact)."""
import pathlib
import re
import tomllib

from agmcore import SCHEMA_VERSION, settings
from agmcore.experiments import EXPERIMENTS

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
UI_STACK = ("streamlit", "plotly", "kaleido")


def test_the_readme_states_this_schema():
    stated = {int(n) for n in re.findall(r'"schema": (\d+)', README)} | \
        {int(n) for n in re.findall(r"The JSON written \(schema (\d+)", README)}
    assert stated == {SCHEMA_VERSION}


def test_no_doc_states_an_old_schema_as_the_current_one():
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for number in re.findall(r"the schema is (\d+)", path.read_text()):
            assert int(number) == SCHEMA_VERSION, f"{path.name} says the schema is {number}"


def test_the_readme_states_each_experiments_default_seeds():
    stated = re.search(r"default seeds: ([^)]*)\)", README).group(1).replace("\n", " ")
    pairs = dict(re.findall(r"([a-z-]+) (\d+)", stated))
    assert {name: int(n) for name, n in pairs.items()} == {name: e.seeds for name, e in EXPERIMENTS.items()}


def test_the_readme_settings_table_matches_the_settings():
    rows = dict(re.findall(r"^\| `(SHARPNESS_LAB_\w+)` \| ([^|]*) \|", README, re.M))
    named = set(re.findall(r"SHARPNESS_LAB_\w+", (ROOT / "agmcore" / "settings.py").read_text()))
    assert set(rows) == named
    assert rows["SHARPNESS_LAB_STORE_LIMIT"].strip() == f"`{settings.store_limit({})}`"
    assert rows["SHARPNESS_LAB_QUEUE"].strip() == f"`{settings.queue_limit({})}`"
    assert rows["SHARPNESS_LAB_PER_BROWSER"].strip() == f"`{settings.per_browser_limit({})}`"
    assert rows["SHARPNESS_LAB_CLUSTER"].strip() == "unset" and settings.cluster({}) is None


def test_pip_install_dot_installs_no_ui_stack_and_the_app_extra_adds_it():
    """The README says `pip install .` installs the library and the CLI alone."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {re.split(r"[=<>\[ ]", d)[0] for d in project["dependencies"]}
    app = {re.split(r"[=<>\[ ]", d)[0] for d in project["optional-dependencies"]["app"]}
    assert not base & set(UI_STACK) and set(UI_STACK) <= app
    assert "-e .[app]" in (ROOT / "requirements.txt").read_text()
    assert "`pip install .` installs the library and the command\nalone" in README
