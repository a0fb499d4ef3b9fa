"""The renderer image installs requirements.product.lock; tests run on requirements.lock. Same versions."""

import re
from pathlib import Path

from support import REPO_ROOT

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_the_product_lock_pins_the_same_versions_as_the_dev_lock():
    product, dev = _pins(REPO_ROOT / "requirements.product.lock"), _pins(REPO_ROOT / "requirements.lock")
    assert {"kopf", "manim", "minio", "openai", "fastapi"} <= product.keys()
    assert {name: (version, dev.get(name)) for name, version in product.items() if dev.get(name) != version} == {}


def test_the_product_lock_holds_no_test_or_lint_tools():
    product = _pins(REPO_ROOT / "requirements.product.lock")
    assert {"pytest", "ruff", "mypy", "selenium", "schemathesis", "cryptography"} & product.keys() == set()
