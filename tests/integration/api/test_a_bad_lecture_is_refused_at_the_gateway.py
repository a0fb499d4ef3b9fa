"""A lecture the renderer would refuse is answered 422 by the real gateway, naming ``markdown`` and the line,
and makes no VideoJob; the same lecture applied with kubectl fails in the operator in the same words.

The gateway answered 202 to such a lecture, and the user learnt a minute later, from a renderer
Pod's exit 65, what the gateway could have said at once: the parser is the core's now, and the
gateway, the operator and the renderer all run it.
"""

from __future__ import annotations

import openai
import pytest

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.minio,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # the openai client's video methods
]

LECTURE = (
    "# Waves\n\nA wave carries energy.\n\n## Reading a file\n\nThe narrator reads this first.\n\n"
    "$$\\input{/etc/hostname}$$\n"
)
NAMED = (
    "the lecture cannot become a video: line 9 (section 'Reading a file'): visual.equation.latex: "
    "\\input is not allowed in LaTeX (storyboard equations are math only)"
)


def test_the_gateway_refuses_it_and_kubectl_apply_fails_it_in_the_same_words(
    cluster, operator, create_tenant, start_gateway, request
):
    gateway = start_gateway()
    key = create_tenant(cluster.namespace)
    answer = gateway.client(key).post("/v1/videos", json={"markdown": LECTURE, "quality": "low"})
    assert answer.status_code == 422, answer.text
    assert answer.json() == {"error": {"code": "invalid_markdown", "message": NAMED, "param": "markdown"}}

    # A program written for OpenAI's API sees the same answer through its own client.
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0)
    request.addfinalizer(client.close)
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        client.videos.create(prompt="", extra_body={"markdown": LECTURE})
    assert refused.value.body == {"code": "invalid_markdown", "message": NAMED, "param": "markdown"}
    assert cluster.get("vj")["items"] == []  # nothing reached the cluster

    # Without the gateway, the operator refuses it before any Job, saying the same.
    cluster.videojob("applied", source={"markdown": LECTURE})
    status = cluster.wait_status("applied", lambda s: s.get("phase") == "Failed", "phase Failed")
    assert status["failure"]["reason"] == "InvalidStoryboard"
    assert status["failure"]["message"].startswith(f"{NAMED}. ")
    assert cluster.jobs("applied") == []
