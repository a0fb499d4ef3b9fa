"""The `videojob` command."""
import sys


def main(argv: list[str] | None = None) -> int:
    print("videojob render: coming soon (issue 5)", file=sys.stderr)
    return 1
