"""Hostile POST /v1/videos bodies (tests/data/hostile/gateway): each is refused with a JSON error that
says what is wrong (naming the field where there is one), or accepted as ordinary input; never a 500,
a traceback in the answer, or a VideoJob made from a refused body.

tests/data/hostile/gateway/expected.yaml gives each file's answer: its status, and the ``param`` and a
piece of the ``message`` of the error. A new hostile body is a new file there and one entry.
"""

from __future__ import annotations

import pytest
import yaml

from support import DATA_DIR

CORPUS = DATA_DIR / "hostile" / "gateway"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text())
BODIES = sorted(CORPUS.glob("*.body"))


def test_every_hostile_body_has_an_expected_answer():
    assert {path.name for path in BODIES} == set(EXPECTED)


@pytest.mark.parametrize("path", BODIES, ids=lambda path: path.stem)
def test_a_hostile_body_gets_a_clear_answer(client, kube, tenant_a, path):
    expected = EXPECTED[path.name]
    answer = client.post(
        "/v1/videos", content=path.read_bytes(), headers=tenant_a | {"Content-Type": "application/json"}
    )
    assert answer.status_code == expected["status"], answer.text
    assert "Traceback" not in answer.text
    if answer.status_code >= 400:
        error = answer.json()["error"]
        assert error.get("param") == expected.get("param"), error
        assert expected["message"] in error["message"], error
        assert not kube.objects
    else:
        assert len(kube.objects) == 1
