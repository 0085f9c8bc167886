"""Sweep result files: the front is exactly the non-dominated trials (checked by brute force
over hand-written points), and the CSV files read back what was written."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mogui.core.sweep_results import (
    SweepManifest,
    SweepTrial,
    non_dominated,
    read_manifest,
    read_trials,
    write_manifest,
    write_results,
)


def _trial(n: int, a: float, b: float, state: str = "COMPLETE") -> SweepTrial:
    return SweepTrial(number=n, state=state, params={"weight_a": 0.1 * n, "balancing": "equal"},
                      objectives={"val_a_loss": a, "val_b_loss": b}, run=f"trials/{n:04d}")


def test_front_of_hand_written_points() -> None:
    # (1,5) (2,2) (5,1) are the front; (3,3) is dominated by (2,2); (2,6) by (1,5);
    # (2,2) twice: neither dominates the other, both stay.
    trials = [_trial(0, 1, 5), _trial(1, 2, 2), _trial(2, 3, 3), _trial(3, 5, 1),
              _trial(4, 2, 6), _trial(5, 2, 2), _trial(6, 0, 0, state="FAIL")]
    front = non_dominated(trials, ["val_a_loss", "val_b_loss"], ["minimize", "minimize"])
    assert [t.number for t in front] == [0, 1, 3, 5]


def test_maximised_objective_flips_the_order() -> None:
    trials = [_trial(0, 1, 5), _trial(1, 2, 2), _trial(2, 3, 3)]
    # Minimise a, maximise b: (1,5) dominates both others.
    front = non_dominated(trials, ["val_a_loss", "val_b_loss"], ["minimize", "maximize"])
    assert [t.number for t in front] == [0]


def test_front_equals_brute_force_on_random_points() -> None:
    rng = np.random.default_rng(3)
    points = rng.integers(0, 6, size=(40, 3)).astype(float)  # many ties on purpose
    names = ["x", "y", "z"]
    trials = [SweepTrial(number=i, state="COMPLETE", objectives=dict(zip(names, p, strict=True)))
              for i, p in enumerate(points.tolist())]
    expected = []
    for i, p in enumerate(points):
        beaten = any(np.all(q <= p) and np.any(q < p)
                     for j, q in enumerate(points) if j != i)
        if not beaten:
            expected.append(i)
    got = [t.number for t in non_dominated(trials, names, ["minimize"] * 3)]
    assert got == expected
    # Sanity of the brute force itself: no front point dominates another.
    for i, j in itertools.permutations(expected, 2):
        assert not (np.all(points[i] <= points[j]) and np.any(points[i] < points[j]))


def test_files_round_trip(tmp_path) -> None:
    manifest = SweepManifest(project="p.json", parameters=("weight_a", "balancing"),
                             objectives=("val_a_loss", "val_b_loss"),
                             directions=("minimize", "minimize"), trials=4, epochs=2)
    trials = [_trial(1, 2, 2), _trial(0, 1, 5), _trial(2, 3, 3),
              SweepTrial(number=3, state="FAIL", params={"weight_a": 0.3},
                         error="Training ran out\nof memory")]
    write_manifest(tmp_path, manifest)
    write_results(tmp_path, manifest, trials)
    assert read_manifest(tmp_path) == manifest
    back = read_trials(tmp_path / "trials.csv")
    assert [t.number for t in back] == [0, 1, 2, 3]
    assert back[0].objectives == {"val_a_loss": 1.0, "val_b_loss": 5.0}
    assert back[0].params == {"weight_a": 0.0, "balancing": "equal"}
    assert back[3].state == "FAIL" and back[3].error == "Training ran out of memory"
    assert back[3].objectives == {}
    assert [t.number for t in read_trials(tmp_path / "pareto.csv")] == [0, 1]


def test_unreadable_manifest_says_why(tmp_path) -> None:
    (tmp_path / "sweep.json").write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_manifest(tmp_path)
    (tmp_path / "sweep.json").write_text('{"project": "p"}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a sweep manifest"):
        read_manifest(tmp_path)
