"""Comparing runs: selecting several runs in the Runs tab overlays each head's loss of every
run on one plot, a colour per head and a line style per run, drawn from their history files."""

from __future__ import annotations

import csv
from datetime import datetime

import numpy as np
import pytest

from mogui.core import run_store
from mogui.core.head_palette import head_colours
from mogui.core.io import load_example
from mogui.core.runs import HISTORY_FILE, RunStatus
from mogui.qt.document import ProjectDocument
from mogui.qt.run_compare import RUN_STYLES, run_style
from mogui.qt.run_list import RunList
from mogui.qt.run_model import RunModel

pytestmark = pytest.mark.gui

#: Two finished runs of the demo, as history.csv holds them (written by hand).
HISTORIES = {
    9: ("epoch,loss,bbox_loss,classification_loss,val_loss,val_bbox_loss,"
        "val_classification_loss\n"
        "1,3.0,2.0,1.0,3.5,2.25,1.25\n"
        "2,2.0,1.25,0.75,2.75,1.75,1.0\n"
        "3,1.5,0.875,0.625,2.5,1.5,1.0\n"),
    10: ("epoch,loss,bbox_loss,classification_loss,val_loss,val_bbox_loss,"
         "val_classification_loss,val_bbox_mae\n"
         "1,4.0,3.0,1.0,4.5,3.25,1.25,1.5\n"
         "2,3.0,2.0,1.0,3.75,2.5,1.25,1.25\n"
         "3,2.5,1.5,1.0,3.0,2.0,1.0,1.0\n"
         "4,2.25,1.25,1.0,2.75,1.75,1.0,0.875\n"
         "5,2.0,1.0,1.0,2.5,1.5,1.0,0.75\n"),
}


@pytest.fixture
def run_list(qtbot, tmp_path):
    project = load_example("bbox_classification")
    path = tmp_path / "demo.json"
    document = ProjectDocument(project, path)
    for hour, text in HISTORIES.items():
        run = run_store.create_run(project, path, now=datetime(2026, 3, 4, hour))
        (run.folder / HISTORY_FILE).write_text(text, encoding="utf-8")
        run_store.finish_run(run, RunStatus.FINISHED)
    widget = RunList(document, RunModel())
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    return widget


def _file(folder) -> dict[str, list[float]]:
    with open(folder / HISTORY_FILE, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in rows[0] if key != "epoch"}


def test_two_runs_selected_are_overlaid_from_their_files(qtbot, run_list):
    newer, older = run_list.entries  # newest first
    assert not run_list.compare_holder.isVisible()
    run_list.select(newer.folder)
    assert run_list.comparison is None or not run_list.compare_holder.isVisible()
    run_list.select(newer.folder, older.folder)
    comparison = run_list.comparison
    assert run_list.compare_holder.isVisible() and comparison is not None
    assert [info.folder for info in run_list.selected_runs()] == [newer.folder, older.folder]
    assert run_list.selected() is None and not run_list.export_button.isEnabled()

    for info in (newer, older):
        history = _file(info.folder)
        for head in ("bbox", "classification"):
            x, y = comparison.curve(info.folder, head)
            expected = history[f"val_{head}_loss"]
            np.testing.assert_array_equal(x, np.arange(1, len(expected) + 1))
            np.testing.assert_array_equal(y, expected)
    assert len(comparison.curve(newer.folder, "bbox")[0]) == 5

    # A colour per head, a line style per run; the legend names the runs, then the heads.
    colours = head_colours(["bbox", "classification"])
    pens = {key: item.opts["pen"] for key, item in comparison.items.items()}
    for head in ("bbox", "classification"):
        assert pens[(newer.folder, head)].color().name() == colours[head]
        assert pens[(older.folder, head)].color().name() == colours[head]
        assert pens[(newer.folder, head)].style() == RUN_STYLES[0]
        assert pens[(older.folder, head)].style() == RUN_STYLES[1]
    assert comparison.legend_labels() == ["2026-03-04 10:00:00", "2026-03-04 09:00:00",
                                          "bbox", "classification"]

    comparison.split.setCurrentText("Training loss")
    np.testing.assert_array_equal(comparison.curve(older.folder, "bbox")[1],
                                  _file(older.folder)["bbox_loss"])
    run_list.table.clearSelection()
    assert not run_list.compare_holder.isVisible()


def test_the_selection_and_the_plot_survive_a_refresh(qtbot, run_list):
    newer, older = run_list.entries
    run_list.table.setFocus()
    first = run_list.table.topLevelItem(0)
    second = run_list.table.topLevelItem(1)
    run_list.table.setCurrentItem(first)
    second.setSelected(True)  # as a ctrl-click adds it
    assert len(run_list.selected_runs()) == 2 and run_list.compare_holder.isVisible()
    (older.folder / HISTORY_FILE).write_text(HISTORIES[10], encoding="utf-8")
    run_list.refresh()
    assert len(run_list.selected_runs()) == 2
    np.testing.assert_array_equal(run_list.comparison.curve(older.folder, "bbox")[1],
                                  _file(older.folder)["val_bbox_loss"])


def test_runs_after_the_fifth_are_drawn_lighter():
    assert run_style(0) == (RUN_STYLES[0], 0.0)
    style, shade = run_style(len(RUN_STYLES) + 1)
    assert style == RUN_STYLES[1] and shade > 0
