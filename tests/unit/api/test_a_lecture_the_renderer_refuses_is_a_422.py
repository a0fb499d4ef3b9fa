"""A Markdown lecture the renderer would refuse is a 422 naming ``markdown`` and the line, in the renderer's words.

It used to be accepted (202) and fail a minute later inside a renderer Pod (exit 65). The real
gateway process against the real API server: tests/integration/api/test_a_bad_lecture_is_refused_at_the_gateway.py.
"""

from __future__ import annotations

import pytest

from videojob.markdown_lecture import markdown_to_storyboard
from videojob.renderer.errors import failure_for
from videojob.storyboard import InvalidStoryboardError

LECTURES = {
    "input": "# Waves\n\nA wave carries energy.\n\n## Files\n\n$$\\input{/etc/hostname}$$\n",
    "scalebox": "# Sizes\n\nBig and small.\n\n$$\\scalebox{3}{x} = y$$\n",
    "scriptscriptstyle": "# Sizes\n\n$${\\scriptscriptstyle x} = y$$\n",
    "too-many-scenes": "# Many\n" + "".join(f"\n## Part {n}\n\nPart {n} in words.\n" for n in range(60)),
    "diagram": "# Shapes\n\n```diagram\ncircle sun: The Sun\nhexagon x: no such shape\n```\n",
    "bullet-too-long": "# Lists\n\n## One\n\n- " + "word " * 60 + "\n",
}


def _renderers_words(markdown: str) -> str:
    """The message the renderer's termination message would carry for this lecture."""
    with pytest.raises(InvalidStoryboardError) as refused:
        markdown_to_storyboard(markdown)
    failure, exit_code = failure_for(refused.value)
    assert (failure.reason, exit_code) == ("InvalidStoryboard", 65)
    return failure.message


@pytest.mark.parametrize("markdown", LECTURES.values(), ids=LECTURES.keys())
def test_a_lecture_the_renderer_would_refuse_is_a_422_in_its_words(client, kube, tenant_a, markdown):
    answer = client.post("/v1/videos", json={"markdown": markdown, "quality": "low"}, headers=tenant_a)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == {
        "code": "invalid_markdown",
        "message": _renderers_words(markdown),
        "param": "markdown",
    }
    assert not kube.objects  # no VideoJob, so no Pod ever starts


def test_the_answer_names_the_line_and_says_what_to_do(client, tenant_a):
    answer = client.post("/v1/videos", json={"markdown": LECTURES["too-many-scenes"]}, headers=tenant_a)
    assert answer.json()["error"]["message"] == (
        "the lecture cannot become a video: 61 sections; a video holds at most 40 scenes: split the lecture"
    )
    answer = client.post("/v1/videos", json={"markdown": LECTURES["input"]}, headers=tenant_a)
    assert answer.json()["error"]["message"] == (
        "the lecture cannot become a video: line 7 (section 'Files'): visual.equation.latex: "
        r"\input is not allowed in LaTeX (storyboard equations are math only)"
    )


def test_the_openai_clients_form_is_refused_the_same_way(client, kube, tenant_a):
    # client.videos.create(prompt="", extra_body={"markdown": ...}) posts multipart/form-data.
    boundary = "vj-form"
    fields = {"prompt": "", "model": "videojob-1", "markdown": LECTURES["diagram"]}
    body = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    answer = client.post(
        "/v1/videos",
        content=(body + f"--{boundary}--\r\n").encode(),
        headers=tenant_a | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (
        error["param"] == "markdown" and "line 5: 'hexagon x: no such shape' is not a diagram line" in error["message"]
    )
    assert not kube.objects


def test_a_fault_of_the_check_is_no_500_the_renderer_judges_the_lecture(client, kube, tenant_a, monkeypatch):
    def broken(spec, warn=True):
        raise RuntimeError("a bug in the parser")

    monkeypatch.setattr("videojob.api.mapping.lecture_of_spec", broken)
    answer = client.post("/v1/videos", json={"markdown": "# Waves\n\nA wave.\n"}, headers=tenant_a)
    assert answer.status_code == 202, answer.text
    assert len(kube.objects) == 1
