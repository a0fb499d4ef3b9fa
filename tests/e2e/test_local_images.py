"""Images built without a registry: a Dockerfile on the local base, cached by content, run by the node."""

from __future__ import annotations

from pathlib import Path

from videojob_devenv import images

E2E_IMAGES = Path(__file__).resolve().parent / "images"


def test_a_dockerfile_built_on_the_base_runs_on_the_node(pods, probe_image):
    pod = pods.run(
        "probe", probe_image.ref, ["sh", "-c", "cat /opt/probe/greeting.txt; echo; cat /opt/probe/python-version"]
    )

    assert pod["status"]["phase"] == "Succeeded"
    assert pods.logs("probe").splitlines() == ["hello from an image built without a registry", "3.11.2"]


def test_an_unchanged_image_is_not_rebuilt(probe_image, base_image):
    again = images.dockerfile_image(probe_image.name, E2E_IMAGES / "Dockerfile.probe", E2E_IMAGES, base_image)

    assert again.ref == probe_image.ref
    assert again.built_in is None  # served from the cache
    assert images.base_image().ref == base_image.ref
