"""``mogui train`` compares every run with predicting the training mean, streamed data too:
the baseline comes from the same training and validation rows as when the data is in memory."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from mogui import cli
from mogui.core.io import load_project
from mogui.engine.data.sources import open_source
from tests.cli.test_bad_inputs import run_here
from tests.cli.test_init_predict import run, write_houses
from tests.engine.data_builders import image_project, write_image_folder


def _baselines(out: str) -> dict[str, str]:
    """Head -> the baseline figure of ``mogui train``'s comparison lines."""
    assert "vs predicting the training mean" in out, out
    return dict(re.findall(r"^  (\w+): \S+ vs (\S+) \(", out, flags=re.MULTILINE))


@pytest.mark.slow
def test_a_streamed_table_prints_the_same_baseline_as_in_memory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    write_houses(tmp_path)
    assert run(["init", "--data", "houses.csv", "--target", "price", "--target", "category",
                "--out", "houses.json"], capsys)[0] == 0
    found = {}
    for streaming in ("never", "always"):
        text = json.loads((tmp_path / "houses.json").read_text())
        text["data"]["streaming"] = streaming
        (tmp_path / "houses.json").write_text(json.dumps(text))
        code, out, err = run(["train", "houses.json", "--epochs", "1", "--out",
                              f"run-{streaming}"], capsys)
        assert code == 0, err
        found[streaming] = _baselines(out)
    assert set(found["always"]) == {"price", "category"}
    assert found["always"] == found["never"]


@pytest.mark.parametrize("kind", ["table", "images"])
def test_streamed_targets_are_the_rows_held_in_memory(tmp_path, kind):
    if kind == "images":
        write_image_folder(tmp_path, 30, pixels=8, missing_shape=(3, 17))
        project = image_project(8)
    else:
        write_houses(tmp_path)
        assert cli.main(["init", "--data", str(tmp_path / "houses.csv"), "--target", "price",
                         "--target", "category", "--out", str(tmp_path / "p.json")]) == 0
        project = load_project(tmp_path / "p.json")
    project.data.streaming = "always"
    streamed = open_source(project, tmp_path)
    targets = streamed.targets_only()
    held = streamed.load()
    assert targets.x == {} and targets.num_samples == held.num_samples
    assert set(targets.y) == set(held.y)
    for name, values in held.y.items():
        np.testing.assert_array_equal(targets.y[name], values, err_msg=name)
