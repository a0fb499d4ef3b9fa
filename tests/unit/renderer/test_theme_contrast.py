"""Every theme's text colours read against its background: WCAG 2 contrast of at least 4.5:1."""

import pytest

from videojob.renderer.themes import MIN_CONTRAST, contrast_ratio
from videojob.storyboard import THEMES

# Every palette colour but the background is used for text somewhere (headings, labels, captions).
TEXT_COLOURS = ("text", "accent", "secondary", "muted")


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_every_text_colour_of_the_theme_reads_against_its_background(theme):
    palette = THEMES[theme]
    ratios = {name: contrast_ratio(getattr(palette, name), palette.background) for name in TEXT_COLOURS}
    low = {name: round(ratio, 2) for name, ratio in ratios.items() if ratio < MIN_CONTRAST}
    assert not low, f"{theme}: below {MIN_CONTRAST}:1 against {palette.background}: {low}"


def test_the_contrast_ratio_is_wcags():
    # The WCAG 2 reference points: black on white is 21:1, a colour on itself 1:1, #777 on white 4.48:1.
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#336699", "#336699") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
