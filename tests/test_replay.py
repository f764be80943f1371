"""Replay: a race's documents cut at a logging point."""
from agmcore.analysis.replay import logged_steps, up_to


def _run(steps, status="finished"):
    return {"status": status, "steps_done": steps[-1], "final": {"test_loss": 0.1},
            "history": {"step": steps, "test_loss": [float(s) for s in steps], "weight_profile": [[s] for s in steps]}}


def test_up_to_cuts_every_history_at_the_step():
    runs = [_run([0, 10, 20, 30]), _run([0, 10, 20], status="diverged")]
    assert logged_steps(runs) == [0, 10, 20, 30]
    cut = up_to(runs, 15)
    assert [r["history"]["step"] for r in cut] == [[0, 10], [0, 10]]
    assert cut[0]["history"]["test_loss"] == [0.0, 10.0] and cut[0]["history"]["weight_profile"] == [[0], [10]]
    assert [r["steps_done"] for r in cut] == [15, 15]
    assert up_to(runs, 30)[1]["history"]["step"] == [0, 10, 20] and up_to(runs, 30)[1]["steps_done"] == 20
    assert runs[0]["history"]["step"] == [0, 10, 20, 30]  # the documents themselves are untouched
