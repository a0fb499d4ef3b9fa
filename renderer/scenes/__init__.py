"""Manim scene templates: one per storyboard visual, all paced by the scene's narration."""

from __future__ import annotations

from videojob.renderer.scenes.base import TemplateScene
from videojob.renderer.scenes.diagram import DiagramScene
from videojob.renderer.scenes.diagrams import FunctionPlotScene, TimelineScene
from videojob.renderer.scenes.equations import EquationScene
from videojob.renderer.scenes.text import (
    BulletListScene,
    CodeListingScene,
    ComparisonScene,
    KeyTakeawaysScene,
    TitleCardScene,
)

TEMPLATES: dict[str, type[TemplateScene]] = {
    "title_card": TitleCardScene,
    "bullet_list": BulletListScene,
    "equation": EquationScene,
    "comparison": ComparisonScene,
    "function_plot": FunctionPlotScene,
    "diagram": DiagramScene,
    "timeline": TimelineScene,
    "code": CodeListingScene,
    "key_takeaways": KeyTakeawaysScene,
}

__all__ = ["TEMPLATES", "TemplateScene"]
