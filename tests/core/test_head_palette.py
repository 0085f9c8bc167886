"""Head colours: one per trained head, far apart, the same wherever they are asked for."""

from __future__ import annotations

import itertools

from mogui.core.head_palette import (
    NO_LOSS_COLOUR,
    PALETTE,
    TOTAL_COLOUR,
    colour_distance,
    head_colour,
    head_colours,
    oklab,
    project_head_colours,
    tint,
)
from tests.many_heads import many_heads_project


def test_forty_heads_get_forty_colours_clearly_apart():
    colours = [head_colour(i) for i in range(40)]
    assert len(set(colours)) == 40  # h0 and h10 are no longer the same blue
    closest = min(colour_distance(a, b) for a, b in itertools.combinations(colours, 2))
    assert closest >= 0.09  # OKLab: about 0.02 is just noticeable
    for colour in colours:  # every one reads as a line on white and apart from the total
        assert oklab(colour)[0] <= 0.8
        assert colour_distance(colour, TOTAL_COLOUR) >= 0.09
        assert colour_distance(colour, "#ffffff") >= 0.25


def test_the_palette_starts_with_the_familiar_ten_and_repeats_only_after_its_length():
    assert PALETTE[:4] == ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
    assert head_colour(len(PALETTE)) == PALETTE[0]
    assert len(set(PALETTE)) == len(PALETTE) >= 48


def test_oklab_of_known_colours():
    white, black = oklab("#ffffff"), oklab("#000000")
    assert abs(white[0] - 1.0) < 1e-3 and abs(white[1]) < 1e-3 and abs(white[2]) < 1e-3
    assert abs(black[0]) < 1e-9
    assert oklab("#ff0000")[1] > 0.2  # red: positive a


def test_colours_follow_the_order_of_the_trained_heads():
    assert head_colours(["b", "a"]) == {"b": PALETTE[0], "a": PALETTE[1]}
    project = many_heads_project(5)
    project.heads[1].loss.enabled = False  # not trained: neutral, and the others move up
    colours = project_head_colours(project)
    names = [h.name for h in project.heads]
    assert colours[names[1]] == NO_LOSS_COLOUR
    assert [colours[n] for n in names if n != names[1]] == list(PALETTE[:4])
    assert colours == {**head_colours(h.name for h in project.loss_heads()),
                       names[1]: NO_LOSS_COLOUR}


def test_tint_mixes_with_white():
    assert tint("#000000", 0.0) == "#000000"
    assert tint("#000000", 1.0) == "#ffffff"
    assert tint("#204060", 0.5) == "#90a0b0"  # 32 + 223 / 2, 64 + 191 / 2, 96 + 159 / 2
