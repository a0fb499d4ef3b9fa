"""The `videojob` command; the renderer owns its subcommands."""

from __future__ import annotations

import os


def _ensure_temporary_directory() -> None:
    # In the renderer Pod the root filesystem is read-only and TMPDIR points into a
    # scratch emptyDir that starts empty: without this, tempfile finds no usable directory.
    configured = os.environ.get("TMPDIR")
    if configured:
        os.makedirs(configured, exist_ok=True)


def main(argv: list[str] | None = None) -> int:
    _ensure_temporary_directory()
    from videojob.renderer.cli import main as renderer_main

    return renderer_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
