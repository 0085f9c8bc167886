"""What a data file holds, before any project: CSV tables, .npz files and image folders."""

from __future__ import annotations

import numpy as np
import pytest

from mogui.core.errors import DataError
from mogui.engine.data import summarize_data
from tests.engine.data_builders import write_image_folder, write_table


def test_a_csv_table_column_by_column(tmp_path):
    path = write_table(tmp_path, 40, missing_size=(3, 7), missing_kind=(1,))
    summary = summarize_data(path)
    assert (summary.kind, summary.rows, summary.delimiter) == ("csv", 40, ",")
    assert summary.names == ["a", "b", "c", "size", "kind"]
    size, kind = summary.column("size"), summary.column("kind")
    assert (size.kind, size.missing) == ("number", 2)
    assert (kind.kind, kind.missing, kind.values) == ("text", 1, ("cat", "dog", "owl"))


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_delimiter_is_found_from_the_header(tmp_path, delimiter):
    path = tmp_path / "t.csv"
    path.write_text(delimiter.join(["x", "y"]) + "\n" + "\n".join(
        f"{i}{delimiter}{i * 0.5}" for i in range(12)) + "\n")
    summary = summarize_data(path)
    assert summary.delimiter == delimiter and summary.names == ["x", "y"]
    assert summary.column("y").kind == "number"


def test_an_npz_file_array_by_array(tmp_path):
    path = tmp_path / "d.npz"
    kinds = np.array([0, 1, 2, -1] * 5, dtype=np.int32).reshape(-1, 1)
    size = np.linspace(0, 1, 20, dtype=np.float32).reshape(-1, 1)
    size[4] = np.nan
    np.savez(path, x=np.ones((20, 3), np.float32), kind=kinds, size=size,
             image=np.zeros((20, 8, 8, 1), np.float32))
    summary = summarize_data(path)
    assert summary.kind == "npz" and summary.rows == 20
    kind = summary.column("kind")
    assert (kind.kind, kind.missing, kind.values, kind.shape) == \
        ("integer", 5, ("0", "1", "2"), (1,))
    assert (summary.column("size").kind, summary.column("size").missing) == ("number", 1)
    assert summary.column("image").shape == (8, 8, 1)


def test_an_image_folder_with_its_label_table(tmp_path):
    write_image_folder(tmp_path, 12, pixels=20)
    summary = summarize_data(tmp_path / "images")  # labels.csv lies beside the folder
    assert summary.kind == "image_folder" and summary.rows == 12
    assert summary.file_column == "file" and "file" not in summary.names
    assert summary.image_shape == (20, 20, 1)
    assert summary.column("shape").kind == "text"


def test_the_file_column_is_found_from_its_cells_in_a_long_table(tmp_path):
    labels, _ = write_image_folder(tmp_path, 120, pixels=8)  # 120 distinct names
    text = labels.read_text().replace("file,", "picture,", 1)
    labels.write_text(text)
    summary = summarize_data(tmp_path / "images")
    assert summary.file_column == "picture" and summary.rows == 120


def test_a_table_naming_images_given_as_the_data_says_to_give_the_folder(tmp_path):
    labels, _ = write_image_folder(tmp_path, 12, pixels=8)
    summary = summarize_data(labels)
    assert summary.kind == "csv"
    [note] = summary.notes
    assert "'file' names image files ('img_000.png'" in note
    assert f"the folder '{tmp_path / 'images'}'" in note and "--labels labels.csv" in note
    # The images moved away: the note cannot name their folder, and still says what to do.
    (tmp_path / "images").rename(tmp_path.parent / f"{tmp_path.name}_moved")
    [note] = summarize_data(labels).notes
    assert "the folder that holds those images" in note


def test_a_plain_table_has_no_note(tmp_path):
    path = write_table(tmp_path, 30)
    text = path.read_text().replace("\n", ",path\n")  # a column named like a file column
    path.write_text(text.replace(",path\n", ",x.txt\n").replace(",x.txt\n", ",path\n", 1))
    summary = summarize_data(path)
    assert "path" in summary.names and summary.notes == ()


def test_the_input_takes_the_common_size_and_colour_of_the_images(tmp_path):
    import tensorflow as tf

    _labels, _ = write_image_folder(tmp_path, 40, pixels=12)
    folder = tmp_path / "images"

    def rewrite(index: int, image: np.ndarray) -> None:
        tf.io.write_file(str(folder / f"img_{index:03d}.png"), tf.io.encode_png(image))

    rewrite(0, np.zeros((30, 20, 1), np.uint8))  # the first image: another size, grey
    rewrite(7, np.zeros((30, 20, 1), np.uint8))
    assert summarize_data(folder).image_shape == (12, 12, 1)  # 38 of 40 are 12x12
    rewrite(25, np.full((12, 12, 3), (200, 10, 10), np.uint8))  # one in colour
    assert summarize_data(folder).image_shape == (12, 12, 3)


def written(path, content):
    """``path`` holding ``content`` (text or bytes)."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize("make, words", [
    (lambda d: d / "missing.csv", ("does not exist",)),
    (lambda d: written(d / "e.csv", ""), ("empty",)),
    (lambda d: written(d / "h.csv", "a,b\n"), ("no data rows",)),
    (lambda d: written(d / "dup.csv", "a,a\n1,2\n"), ("'a' twice",)),
    (lambda d: written(d / "bad.npz", b"PK\x03\x04junk"), ("not a NumPy .npz archive",)),
    (lambda d: np.savez(d / "r.npz", a=np.zeros(3), b=np.zeros(4)) or d / "r.npz",
     ("different numbers of rows",)),
    (lambda d: (d / "imgs").mkdir() or d / "imgs", ("Which table labels the images",)),
])
def test_unreadable_data_says_why(tmp_path, make, words):
    with pytest.raises(DataError) as info:
        summarize_data(make(tmp_path))
    assert all(w in str(info.value) for w in words), str(info.value)


def test_an_image_folder_whose_table_names_missing_files(tmp_path):
    labels, _ = write_image_folder(tmp_path, 6, pixels=16)
    (tmp_path / "images" / "img_002.png").unlink()
    with pytest.raises(DataError, match="img_002.png"):
        summarize_data(tmp_path / "images", labels=labels)


def test_an_image_that_is_no_image_is_named_with_one_list_of_formats(tmp_path):
    write_image_folder(tmp_path, 6, pixels=8)
    (tmp_path / "images" / "img_000.png").write_bytes(b"\x00\x01 random bytes")
    with pytest.raises(DataError) as info:
        summarize_data(tmp_path / "images")
    assert str(info.value) == ("The image 'img_000.png' cannot be read (it is not a PNG, JPEG, "
                               "GIF or BMP image). Replace it with a PNG, JPEG, GIF or BMP file.")
