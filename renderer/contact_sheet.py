"""The contact sheet: the finished picture of every scene on one PNG, so an author sees a video at a glance.

Every render makes one and :func:`~videojob.renderer.publish.publish` stores it beside the
video as ``contact-sheet.png`` (its key goes into the result's ``output.contactSheet``). The
pictures are the scenes' last frames: those the render just drew or fetched, or, when the
whole video came from the cache, each scene's from the scene cache, where every drawn
scene keeps its last frame beside its video (so a fully cached render makes a sheet
too, without drawing anything).

Pictures are opened one at a time and shrunk at once: fifty 1080p frames held together
would add some 400 MB to the renderer's peak memory.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from videojob.renderer.cache import SceneCache
from videojob.renderer.config import RenderConfig
from videojob.storyboard import Storyboard

SHEET_NAME = "contact-sheet.png"
CELL_WIDTH = {"landscape": 480, "portrait": 270}
PADDING = 16
CAPTION_POINTS = 18
CAPTION_HEIGHT = CAPTION_POINTS + 10
CAPTION_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BACKGROUND = "#202020"
CAPTION_COLOUR = "#DDDDDD"

log = logging.getLogger(__name__)


def _cell(path: Path, cell_width: int) -> Image.Image:
    with Image.open(path) as picture:
        height = round(picture.height * cell_width / picture.width)
        # reducing_gap shrinks by whole factors first (cheap), then resamples the last step properly.
        return picture.convert("RGB").resize((cell_width, height), reducing_gap=3.0)


def compose_sheet(pictures: Sequence[Path], captions: Sequence[str], background: str, portrait: bool) -> Image.Image:
    """The pictures in a grid, in order, each with its caption under it."""
    if len(pictures) != len(captions) or not pictures:
        raise ValueError(f"{len(pictures)} pictures for {len(captions)} captions: a sheet needs one of each per scene")
    cell_width = CELL_WIDTH["portrait" if portrait else "landscape"]
    cells = [_cell(path, cell_width) for path in pictures]
    cell_height = max(cell.height for cell in cells)
    columns = min(len(cells), 6 if portrait else max(1, math.ceil(math.sqrt(len(cells)))))
    rows = math.ceil(len(cells) / columns)
    sheet = Image.new(
        "RGB",
        (PADDING + columns * (cell_width + PADDING), PADDING + rows * (cell_height + CAPTION_HEIGHT + PADDING)),
        background,
    )
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.truetype(CAPTION_FONT, CAPTION_POINTS)
    for index, (cell, caption) in enumerate(zip(cells, captions, strict=True)):
        x = PADDING + (index % columns) * (cell_width + PADDING)
        y = PADDING + (index // columns) * (cell_height + CAPTION_HEIGHT + PADDING)
        sheet.paste(cell, (x, y))
        draw.text((x, y + cell_height + 4), caption, fill=CAPTION_COLOUR, font=font)
    return sheet


def cached_pictures(cache: SceneCache, keys: Sequence[str], into: Path) -> list[Path] | None:
    """Each scene's last frame from the scene cache, in order; None when one is not there any more."""
    if cache.store is None:
        return None
    into.mkdir(parents=True, exist_ok=True)
    pictures = []
    for index, key in enumerate(keys):
        data = cache.scene_picture(key)  # marks the scene used: a reused video keeps its scenes' pictures
        if data is None:
            log.warning("no contact sheet: scene %d's finished picture is not in the scene cache", index + 1)
            return None
        path = into / f"{index:03d}.png"
        path.write_bytes(data)
        pictures.append(path)
    return pictures


def draw_contact_sheet(storyboard: Storyboard, config: RenderConfig, pictures: Sequence[Path], into: Path) -> Path:
    """``contact-sheet.png`` in ``into``: ``pictures`` (one per scene, in order), captioned with each scene's kind."""
    captions = [f"{index + 1}. {scene.visual.kind}" for index, scene in enumerate(storyboard.scenes)]
    sheet = compose_sheet(pictures, captions, BACKGROUND, portrait=config.orientation == "portrait")
    into.mkdir(parents=True, exist_ok=True)
    path = into / SHEET_NAME
    sheet.save(path)
    return path
