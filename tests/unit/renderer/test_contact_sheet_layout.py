"""The contact sheet's grid: every scene's picture in order, in a cell of its own, from files or the scene cache."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PIL import Image

from videojob.renderer.cache import SCENE_FILES, SceneCache
from videojob.renderer.contact_sheet import CAPTION_HEIGHT, CELL_WIDTH, PADDING, cached_pictures, compose_sheet
from videojob.renderer.storage import S3Access

COLOURS = ["#c0392b", "#27ae60", "#2980b9", "#f1c40f", "#8e44ad"]


def _pictures(folder: Path, size: tuple[int, int]) -> list[Path]:
    paths = []
    for index, colour in enumerate(COLOURS):
        path = folder / f"{index}.png"
        Image.new("RGB", size, colour).save(path)
        paths.append(path)
    return paths


def _centre_of_cell(sheet: Image.Image, index: int, columns: int, width: int, height: int) -> object:
    x = PADDING + (index % columns) * (width + PADDING) + width // 2
    y = PADDING + (index // columns) * (height + CAPTION_HEIGHT + PADDING) + height // 2
    return sheet.getpixel((x, y))


def test_landscape_scenes_sit_in_order_in_a_near_square_grid(tmp_path):
    sheet = compose_sheet(_pictures(tmp_path, (1280, 720)), [f"{i}" for i in range(5)], "#202020", portrait=False)
    width, height, columns = CELL_WIDTH["landscape"], 270, 3  # five cells: three columns, two rows
    assert sheet.size == (PADDING + columns * (width + PADDING), PADDING + 2 * (height + CAPTION_HEIGHT + PADDING))
    for index, colour in enumerate(COLOURS):
        assert _centre_of_cell(sheet, index, columns, width, height) == Image.new("RGB", (1, 1), colour).getpixel(
            (0, 0)
        )


def test_portrait_scenes_fill_a_row_of_up_to_six_upright_cells(tmp_path):
    sheet = compose_sheet(_pictures(tmp_path, (720, 1280)), [f"{i}" for i in range(5)], "#202020", portrait=True)
    width, height = CELL_WIDTH["portrait"], 480
    assert sheet.size == (PADDING + 5 * (width + PADDING), PADDING + height + CAPTION_HEIGHT + PADDING)
    assert _centre_of_cell(sheet, 4, 5, width, height) == Image.new("RGB", (1, 1), COLOURS[4]).getpixel((0, 0))


def test_a_caption_for_each_picture_or_no_sheet(tmp_path):
    with pytest.raises(ValueError, match="2 pictures for 3 captions"):
        compose_sheet(_pictures(tmp_path, (64, 36))[:2], ["a", "b", "c"], "#202020", portrait=False)


def test_the_pictures_come_from_the_scene_cache_in_order_or_not_at_all(tmp_path, caplog):
    cache = SceneCache.open(f"file://{tmp_path / 'cache'}", S3Access(endpoint=""))
    pictures = _pictures(tmp_path, (64, 36))
    for key, picture in zip(("k0", "k1", "k2"), pictures, strict=False):
        target = tmp_path / "cache" / "scenes" / key / SCENE_FILES["last_frame"]
        target.parent.mkdir(parents=True)
        target.write_bytes(picture.read_bytes())
    found = cached_pictures(cache, ["k2", "k0"], tmp_path / "fetched")
    assert found is not None and [path.read_bytes() for path in found] == [
        pictures[2].read_bytes(),
        pictures[0].read_bytes(),
    ]
    with caplog.at_level(logging.WARNING, logger="videojob.renderer.contact_sheet"):
        assert cached_pictures(cache, ["k0", "gone"], tmp_path / "fetched-again") is None
    assert "scene 2's finished picture is not in the scene cache" in caplog.text
    assert cached_pictures(SceneCache(None), ["k0"], tmp_path / "no-cache") is None
