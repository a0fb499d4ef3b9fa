"""What a code-only change costs each product image: seconds and layers rebuilt, against a cache hit.

For the renderer and the control-plane image: first the image as it is (a cache hit when it
was built before: the baseline), then the same Dockerfile on a copy of the context with one
comment line added to a module. It prints, side by side, the seconds each took, the image's
size, and which of its layers changed (only the last should, a few hundred KiB of code).
Needs root (buildah) and the images built once (hack/images/build renderer controlplane).

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/image_rebuild.py [controlplane] [renderer]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from videojob_devenv import images

PRODUCT = {"controlplane": "Dockerfile.controlplane", "renderer": "Dockerfile.renderer"}


def measure(which: str) -> None:
    began = time.monotonic()
    unchanged = {"controlplane": images.controlplane_image, "renderer": images.renderer_image}[which]()
    unchanged_seconds = time.monotonic() - began
    with tempfile.TemporaryDirectory(prefix="image-rebuild-", dir=images.images_dir()) as work:
        began = time.monotonic()
        edited = images.code_edited_image(PRODUCT[which], Path(work))
        edited_seconds = time.monotonic() - began
        try:
            before, after = unchanged.layer_ids(), edited.layer_ids()
            changed = [index for index, (old, new) in enumerate(zip(before, after, strict=False)) if old != new]
            edited_size = edited.size
        finally:
            edited.archive.unlink(missing_ok=True)
    how = "built" if unchanged.built_in is not None else "cached"
    print(f"{which:13} {'as is (' + how + ')':>20} {'code-only change':>18}")
    print(f"{'  seconds':13} {unchanged_seconds:20.1f} {edited_seconds:18.1f}")
    print(f"{'  MiB':13} {unchanged.size / 2**20:20.1f} {edited_size / 2**20:18.1f}")
    print(f"{'  layers':13} {len(before):20d} {len(after):18d}   changed: {changed or 'none'} (0 = the base)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", help=f"{', '.join(PRODUCT)} (default: both)")
    chosen = parser.parse_args().which or list(PRODUCT)
    if unknown := set(chosen) - PRODUCT.keys():
        parser.error(f"unknown image {', '.join(sorted(unknown))}: choose from {', '.join(PRODUCT)}")
    for which in chosen:
        measure(which)


if __name__ == "__main__":
    main()
