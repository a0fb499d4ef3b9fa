"""The `videojob` command; the renderer owns its subcommands."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from videojob.renderer.cli import main as renderer_main

    return renderer_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
