"""`python -m agmcore run`: the JSON contract and one-line errors."""
import json
import os
import subprocess
import sys

import pytest

from agmcore import SCHEMA_VERSION
from agmcore.engine.results import loads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cli(*args):
    """The command from the shell, in a process of its own (slow: it imports torch)."""
    return subprocess.run([sys.executable, "-m", "agmcore", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def _main(capsys, *args):
    """The command in this process (cli.main): its exit status, standard output and error."""
    from agmcore.command.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def test_run_writes_the_schema(tmp_path, capsys):
    out = tmp_path / "run.json"
    proc = _main(capsys, "run", "--task", "diag-net", "--optimizer", "adam", "--dim", "30", "--samples", "10", "--sparsity", "2",
                "--label-noise", "0.5", "--lr", "0.1", "--beta1", "0.9", "--beta2", "0.9", "--no-bias-correction",
                "--steps", "300", "--log-every", "100", "--seed", "1", "--device", "cpu", "--dtype", "float64",
                "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = loads(out.read_text())
    assert doc["schema"] == SCHEMA_VERSION and doc["status"] == "finished" and doc["steps_done"] == 300
    assert doc["config"]["optimizer"] == {"name": "adam", "lr": 0.1, "beta1": 0.9, "beta2": 0.9, "lam": 0.5,
                                          "eps": 1e-8, "bias_correction": False, "block_size": 16}
    assert doc["history"]["step"] == [0, 100, 200, 300]
    for name in ("train_loss", "test_loss", "trace_H", "trace_sqrt_diag_H", "l1", "l_half"):
        assert len(doc["history"][name]) == len(doc["history"][f"{name}_denoised"]) == 4
        assert doc["final"][f"{name}_denoised"] == doc["history"][f"{name}_denoised"][-1]
    assert len(doc["w_denoised"]) == 30
    assert set(doc["final"]) >= {"train_loss", "test_loss", "trace_H", "trace_sqrt_diag_H", "l1", "l_half",
                                 "support_precision", "support_recall"}
    assert len(doc["params"]["u"]) == len(doc["params"]["v"]) == len(doc["w"]) == len(doc["w_star"]) == 30
    assert "steps/s" in proc.stderr  # the progress bar


def test_matrix_factorization_to_stdout(capsys):
    proc = _main(capsys, "run", "--task", "matrix-factorization", "--optimizer", "adafactor", "--dim", "6", "--rank", "1",
                "--depth", "3", "--samples", "20", "--steps", "50", "--log-every", "25", "--quiet")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc["params"]) == {"W1", "W2", "W3"}
    assert {"effective_rank", "nuclear_norm", "singular_values"} <= set(doc["history"])
    assert {"effective_rank_denoised", "nuclear_norm_denoised", "test_loss_denoised"} <= set(doc["final"])


def test_two_scheme_flag(capsys):
    proc = _main(capsys, "run", "--lr", "0.05", "--two-scheme", "10", "--steps", "5", "--quiet", "--dim", "5", "--sparsity", "1")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["config"]["optimizer"]["beta2"] == pytest.approx(1 - 10 * 0.05**2)


@pytest.mark.parametrize("args, fragment", [
    (["run", "--dim", "0"], "dim must be at least 1"),
    (["run", "--optimizer", "adamw"], "invalid choice: 'adamw'"),
    (["run", "--lr", "fast"], "invalid float value: 'fast'"),
    (["run", "--beta2", "1.5"], "beta2 must be in [0, 1)"),
    (["run", "--rank", "2"], "--rank applies to --task matrix-factorization only"),
    (["run", "--out", "/no/such/folder/run.json"], "does not exist"),
    (["run", "--out", "/tmp"], "--out /tmp is a folder"),
    (["run", "--out", ""], "--out is empty"),
    (["run", "--out", "/dev/full"], "not a regular file"),
    (["run", "--out", "/proc/nope.json"], "--out /proc/nope.json: cannot write in /proc"),
    (["run", "--seed", "18446744073709551616"], "seed must be between 0 and 2^63 − 1"),
    (["run", "--task", "matrix-factorization", "--depth", "1000000"], "depth"),
    (["reproduce", "sharpness-race", "--out", __file__], "--out " + __file__ + " is a file, not a folder"),
    (["reproduce", "sharpness-race", "--out", "/tmp/agmcore-test-out", "--store", __file__],
     "--store " + __file__ + " is a file, not a folder"),
    (["run", "--lr", "1", "--two-scheme", "10"], "2-scheme"),
    (["run", "--frobnicate"], "unrecognized arguments"),
    ([], "required"),
])
def test_bad_input_is_one_line_exit_2(args, fragment, capsys):
    """In process (cli.main), so the table stays quick; the next test checks one end to end."""
    from agmcore.command.cli import main

    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in err


@pytest.mark.slow  # a process of its own
def test_bad_input_exits_2_from_the_shell():
    proc = _cli("run", "--out", "/dev/full")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "agmcore: error: --out /dev/full is not a regular file (a device or a special file)"


def test_tail_average_flag(tmp_path, capsys):
    out = tmp_path / "run.json"
    proc = _main(capsys, "run", "--optimizer", "adam", "--dim", "20", "--samples", "8", "--sparsity", "2", "--steps", "200",
                "--log-every", "100", "--tail-average", "0.5", "--quiet", "--device", "cpu", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = loads(out.read_text())
    assert doc["config"]["tail_average"] == 0.5 and set(doc["params_avg"]) == {"u", "v"}
    assert {"trace_H_avg", "l_half_avg"} <= set(doc["final"])
    bad = _main(capsys, "run", "--steps", "10", "--tail-average", "1.5", "--quiet")
    assert bad.returncode == 2 and "tail_average must be in [0, 1)" in bad.stderr


@pytest.mark.slow  # a process of its own
def test_sigterm_stops_the_run_and_still_writes_it(tmp_path):
    """SIGTERM is handled like Ctrl-C: the run stops and its file says "cancelled"."""
    import signal
    import time

    out = tmp_path / "run.json"
    proc = subprocess.Popen([sys.executable, "-m", "agmcore", "run", "--steps", "100000000", "--dim", "200",
                             "--log-every", "1000", "--out", str(out)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    seen = ""
    while "steps/s" not in seen and proc.poll() is None and time.time() < deadline:  # the bar: it is stepping
        seen += proc.stderr.read(1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    doc = loads(out.read_text())
    assert proc.returncode == 130 and doc["status"] == "cancelled" and 0 < doc["steps_done"] < 100_000_000


def test_an_interrupted_write_keeps_the_earlier_result(tmp_path, monkeypatch):
    """Writes go through a temporary file and os.replace: a failure mid-write (here fsync; in life
    a kill -9 or a full disk) leaves the earlier file whole and no temporary behind."""
    from agmcore.storage import output_files

    path = tmp_path / "run.json"
    output_files.write_atomically(str(path), '{"old": true}')

    def broken(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output_files.os, "fsync", broken)
    with pytest.raises(OSError, match="No space"):
        output_files.write_atomically(str(path), '{"new": true}')
    assert path.read_text() == '{"old": true}' and os.listdir(tmp_path) == ["run.json"]


@pytest.mark.slow  # a process of its own
def test_the_installed_agmcore_command():
    """requirements.txt installs this project (pyproject.toml), which provides the `agmcore` command."""
    import shutil
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="agmcore")
    assert script.value == "agmcore.command.cli:main"
    proc = subprocess.run([shutil.which("agmcore"), "run", "--out", "/dev/full"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr


def test_an_atomic_write_gives_a_plain_file_mode_and_keeps_an_existing_one(tmp_path):
    from agmcore.storage import output_files

    old = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.json"
        output_files.write_atomically(str(fresh), "{}")
        assert fresh.stat().st_mode & 0o777 == 0o644  # as open() would make it, not mkstemp's 0o600
        kept = tmp_path / "kept.json"
        kept.write_text("{}")
        kept.chmod(0o640)
        output_files.write_atomically(str(kept), "{}")
        assert kept.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_init_flag_unties_the_start_and_belongs_to_the_diagonal_network(tmp_path, capsys):
    from agmcore.command import cli

    out = tmp_path / "run.json"
    assert cli.main(["run", "--dim", "10", "--samples", "4", "--steps", "20", "--init", "independent",
                     "--out", str(out), "--quiet"]) == 0
    assert loads(out.read_text())["config"]["task"]["init"] == "independent"
    assert cli.main(["run", "--task", "matrix-factorization", "--init", "tied", "--steps", "5"]) == 2
    assert "--init applies to --task diag-net only" in capsys.readouterr().err
