"""The contact sheet: the finished picture of every scene on one PNG, so an author sees a video at a glance.

The pictures come from the scene cache, where every drawn scene keeps its last frame beside its
video (so a fully cached render makes a sheet too, without drawing anything); the sheet goes
beside the video, as ``contact-sheet.png`` under the job's output prefix.
"""

from __future__ import annotations

import io
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from videojob.renderer.cache import SCENE_FILES, SceneCache
from videojob.renderer.config import RenderConfig
from videojob.renderer.errors import RenderError
from videojob.renderer.pipeline import scene_keys
from videojob.renderer.storage import open_store
from videojob.storyboard import Storyboard

SHEET_NAME = "contact-sheet.png"
CELL_WIDTH = {"landscape": 480, "portrait": 270}
PADDING = 16
CAPTION_POINTS = 18
CAPTION_HEIGHT = CAPTION_POINTS + 10
CAPTION_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def compose_sheet(
    pictures: Sequence[Image.Image], captions: Sequence[str], background: str, portrait: bool
) -> Image.Image:
    """The pictures in a grid, in order, each with its caption under it."""
    cell_width = CELL_WIDTH["portrait" if portrait else "landscape"]
    cells = [
        picture.convert("RGB").resize((cell_width, round(picture.height * cell_width / picture.width)))
        for picture in pictures
    ]
    cell_height = max(cell.height for cell in cells)
    columns = min(len(cells), 6 if portrait else max(1, math.ceil(math.sqrt(len(cells)))))
    rows = math.ceil(len(cells) / columns)
    caption_height = CAPTION_HEIGHT
    sheet = Image.new(
        "RGB",
        (PADDING + columns * (cell_width + PADDING), PADDING + rows * (cell_height + caption_height + PADDING)),
        background,
    )
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.truetype(CAPTION_FONT, CAPTION_POINTS)
    for index, (cell, caption) in enumerate(zip(cells, captions, strict=True)):
        x = PADDING + (index % columns) * (cell_width + PADDING)
        y = PADDING + (index // columns) * (cell_height + caption_height + PADDING)
        sheet.paste(cell, (x, y))
        draw.text((x, y + cell_height + 4), caption, fill="#DDDDDD", font=font)
    return sheet


def write_contact_sheet(storyboard: Storyboard, config: RenderConfig) -> str:
    """The sheet of a render that just finished, stored beside its video; returns where it went."""
    cache = SceneCache.open(config.cache, config.s3)
    if cache.store is None:
        raise RenderError("the contact sheet is made from the scene cache: render without --cache off")
    pictures = []
    for index, key in enumerate(scene_keys(storyboard, config)):
        data = cache.store.get_bytes(f"{cache.prefix}/{key}/{SCENE_FILES['last_frame']}")
        if data is None:
            raise RenderError(f"scene {index + 1}'s finished picture is not in the scene cache at {config.cache}")
        pictures.append(Image.open(io.BytesIO(data)))
    captions = [f"{index + 1}. {scene.visual.kind}" for index, scene in enumerate(storyboard.scenes)]
    sheet = compose_sheet(pictures, captions, "#202020", portrait=config.orientation == "portrait")
    store, _ = open_store(config.output, config.s3)
    key = f"{config.output_prefix}/{SHEET_NAME}" if config.output_prefix else SHEET_NAME
    with tempfile.TemporaryDirectory(prefix="contact-sheet-", dir=config.work_dir) as scratch:
        path = Path(scratch) / SHEET_NAME
        sheet.save(path)
        store.upload(path, key, verify=True)
    return store.url(key)
