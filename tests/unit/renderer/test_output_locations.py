"""Where results go: file:// and s3:// locations, and a local store that cannot be escaped."""

import hashlib

import pytest

from videojob.renderer.config import output_prefix
from videojob.renderer.errors import InvalidSourceError
from videojob.renderer.settings import RendererSettings
from videojob.renderer.storage import FileStore, content_type, parse_location


@pytest.mark.parametrize(
    ("location", "parsed"),
    [
        ("file:///srv/videos", ("file", "/srv/videos", "")),
        ("file://out", ("file", "out", "")),
        ("out/dir", ("file", "out/dir", "")),
        ("s3://videos", ("s3", "videos", "")),
        ("s3://videos/team-a/", ("s3", "videos", "team-a")),
    ],
)
def test_locations_parse(location, parsed):
    assert parse_location(location) == parsed


@pytest.mark.parametrize("location", ["http://example.com/x", "s3://", "gs://bucket"])
def test_unsupported_locations_are_bad_input(location):
    with pytest.raises(InvalidSourceError, match="use file://DIR or s3://BUCKET/PREFIX"):
        parse_location(location)


def test_s3_keys_follow_namespace_name_and_uid_unless_the_operator_gives_the_prefix():
    settings = RendererSettings(output="s3://videos", namespace="ns", job_name="intro", job_uid="u1")
    assert output_prefix(settings) == "outputs/ns/intro/u1"
    # the same layout the operator gives a VideoJob whose spec.output.prefix is "archive"
    assert output_prefix(settings.model_copy(update={"output": "s3://videos/archive"})) == "archive/outputs/ns/intro/u1"
    assert (
        output_prefix(settings.model_copy(update={"output_prefix": "custom/outputs/ns/intro/u1/"}))
        == "custom/outputs/ns/intro/u1"
    )
    assert output_prefix(RendererSettings(output="file:///tmp/x")) == ""


def test_the_file_store_writes_whole_files_and_refuses_keys_outside_its_folder(tmp_path):
    store = FileStore(tmp_path / "out")
    source = tmp_path / "video.mp4"
    source.write_bytes(b"\x00" * 1000)
    digest = store.upload(source, "a/video.mp4", verify=True)
    assert digest == hashlib.sha256(b"\x00" * 1000).hexdigest()
    assert (tmp_path / "out" / "a" / "video.mp4").read_bytes() == source.read_bytes()
    assert not list((tmp_path / "out").rglob("*.partial"))
    with pytest.raises(InvalidSourceError, match="leaves the output folder"):
        store.upload(source, "../escaped.mp4")


def test_content_types_for_every_output():
    assert [content_type(name) for name in ("v.mp4", "v.vtt", "v.srt", "t.png", "m.json", "x.bin")] == [
        "video/mp4",
        "text/vtt; charset=utf-8",
        "application/x-subrip",
        "image/png",
        "application/json",
        "application/octet-stream",
    ]
