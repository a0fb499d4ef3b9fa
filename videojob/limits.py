"""Every limit a user can hit, defined once.

The CRD (generated from :mod:`videojob.spec`), the spec model, the storyboard model, the
renderer's sources and the gateway all read these names, so what the API server admits
is exactly what the renderer can draw. Changing a number here changes it everywhere;
``hack/gen-crd`` then rewrites ``manifests/crd/`` and a test fails until it has.
"""

from __future__ import annotations

from typing import Final

# The source of a video.
PROMPT_MIN_CHARS: Final = 10
PROMPT_MAX_CHARS: Final = 4000
MARKDOWN_MAX_CHARS: Final = 65536

# A storyboard and its scenes.
SCENES_MIN: Final = 1
SCENES_MAX: Final = 40
SCENE_MAX_KEYS: Final = 32  # keys of one flat scene object in the CRD (template + its fields)
NARRATION_MAX_CHARS: Final = 1500  # about 100 seconds of speech: one scene
TITLE_MAX_CHARS: Final = 120  # video titles, scene headings, column titles
SUBTITLE_MAX_CHARS: Final = 200
ITEM_MAX_CHARS: Final = 160  # one bullet, one comparison item, one takeaway
CAPTION_MAX_CHARS: Final = 160
BULLETS_MAX: Final = 7
COMPARISON_ITEMS_MAX: Final = 6
TAKEAWAYS_MAX: Final = 6
LATEX_MAX_CHARS: Final = 1000
# What one equation may cost TeX and dvisvgm (renderer/tex_sandbox.py): an ordinary equation takes
# a fraction of a second, a few MiB and a few dozen glyphs; repetition constructs can take forever.
LATEX_CPU_SECONDS: Final = 10
LATEX_MEMORY_MIB: Final = 1024
LATEX_GLYPHS_MAX: Final = 1000  # drawn glyphs and rules; 4000 already take Manim 11 s and 700 MiB
EXPRESSION_MAX_CHARS: Final = 200
PLOT_LABEL_MAX_CHARS: Final = 80
CODE_MAX_CHARS: Final = 2000
CODE_MAX_LINES: Final = 20
CODE_MAX_COLUMNS: Final = 80
DIAGRAM_SHAPES_MAX: Final = 12
DIAGRAM_ARROWS_MAX: Final = 16
DIAGRAM_MOTIONS_MAX: Final = 8
DIAGRAM_LABEL_MAX_CHARS: Final = 40
DIAGRAM_LEG_MAX: Final = 1000  # a right triangle's side, in the lecture's units
DIAGRAM_LEG_RATIO_MAX: Final = 10  # a longer leg is a sliver nobody can read
TIMELINE_EVENTS_MIN: Final = 2
TIMELINE_EVENTS_MAX: Final = 8
TIMELINE_WHEN_MAX_CHARS: Final = 24
TIMELINE_LABEL_MAX_CHARS: Final = 60

# Who the video is for, and in which language.
AUDIENCE_MAX_CHARS: Final = 200
LANGUAGE_MAX_CHARS: Final = 35
LANGUAGE_TAG_PATTERN: Final = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"  # BCP 47, as the spec and the storyboard take it

# How long the video is, and how the render runs.
DURATION_SECONDS_MIN: Final = 15
DURATION_SECONDS_MAX: Final = 1800
DURATION_SECONDS_DEFAULT: Final = 120
PARALLELISM_MIN: Final = 1
PARALLELISM_MAX: Final = 16
PARALLELISM_AUTO: Final = "auto"  # spec.parallelism: the operator picks the number of Pods
RETRIES_MAX: Final = 10
RETRIES_DEFAULT: Final = 2
ATTEMPTS_MAX: Final = 6  # renderer Jobs one VideoJob makes: the first, then one per OOM kill with more memory
ACTIVE_DEADLINE_SECONDS_MIN: Final = 60
ACTIVE_DEADLINE_SECONDS_MAX: Final = 86400
ACTIVE_DEADLINE_SECONDS_DEFAULT: Final = 3600
TTL_SECONDS_MAX: Final = 31_536_000  # one year

# How long the scene cache keeps what no render uses (VIDEOJOB_CACHE_RETENTION; operator/cache_expiry.py).
# A render reads an entry within seconds of marking it used and writes one within seconds, so an entry
# in use is always far younger than this; a shorter retention could remove one while it is read.
CACHE_RETENTION_MIN_SECONDS: Final = 600
