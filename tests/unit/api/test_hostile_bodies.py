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


def _form(fields: dict[str, str], boundary: str = "vj-hostile") -> tuple[bytes, str]:
    body = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    return (body + f"--{boundary}--\r\n").encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("field", ["seconds", "durationSeconds", "retries", "activeDeadlineSeconds"])
def test_a_five_thousand_digit_form_field_is_a_422_naming_it(client, kube, tenant_a, field):
    # The OpenAI client sends every field as multipart text: Python's int() would refuse it with
    # advice to call sys.set_int_max_str_digits(), and pydantic with its own words.
    body, content_type = _form({"prompt": "", "markdown": "# Waves\n\nA wave.\n", field: "9" * 5000})
    answer = client.post("/v1/videos", content=body, headers=tenant_a | {"Content-Type": content_type})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["param"] == field
    assert error["message"] == f"{field}: a number of 5000 digits is not one any field takes; send a short whole number"
    assert "sys.set_int_max_str_digits" not in answer.text and len(answer.text) < 400
    assert not kube.objects


def test_a_five_thousand_digit_lecture_is_text_not_a_number(client, kube, tenant_a):
    # Free text may be all digits: only short fields are read as numbers.
    answer = client.post("/v1/videos", json={"markdown": "# Digits\n\n" + "9" * 5000 + "\n"}, headers=tenant_a)
    assert answer.status_code == 202, answer.text
    assert len(kube.objects) == 1
