"""The quality presets, defined once: picture size, frame rate and the renderer's resources.

The renderer reads the picture (width, height, fps); the operator reads the resources
(requests = limits, so that a render's speed is predictable; operators may override
them with ``VIDEOJOB_PRESETS``); the CRD's description of ``spec.quality`` is written
from the same table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, get_args

QualityName = Literal["low", "medium", "high"]
QUALITY_NAMES: tuple[QualityName, ...] = get_args(QualityName)
DEFAULT_QUALITY: QualityName = "medium"
# A portrait picture (9:16, for reels and shorts) is the landscape one turned: 720x1280 at medium.
Orientation = Literal["landscape", "portrait"]
ORIENTATIONS: tuple[Orientation, ...] = get_args(Orientation)
DEFAULT_ORIENTATION: Orientation = "landscape"


@dataclass(frozen=True)
class QualityPreset:
    """One row of the table."""

    name: QualityName
    width: int
    height: int
    fps: int
    cpu: str
    memory: str
    scratch: str

    @property
    def picture(self) -> str:
        return f"{self.width}x{self.height} at {self.fps} fps"

    def oriented(self, orientation: Orientation) -> QualityPreset:
        """The preset with its picture turned upright for ``portrait`` (same resources: the same pixels)."""
        if orientation == "portrait" and self.width > self.height:
            return replace(self, width=self.height, height=self.width)
        return self


QUALITY_PRESETS: dict[QualityName, QualityPreset] = {
    "low": QualityPreset("low", 854, 480, 15, cpu="1", memory="1Gi", scratch="2Gi"),
    "medium": QualityPreset("medium", 1280, 720, 30, cpu="2", memory="2Gi", scratch="5Gi"),
    "high": QualityPreset("high", 1920, 1080, 30, cpu="4", memory="4Gi", scratch="10Gi"),
}


def quality_preset(name: QualityName) -> QualityPreset:
    return QUALITY_PRESETS[name]
