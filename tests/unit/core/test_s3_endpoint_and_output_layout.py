"""The S3 endpoint is written one way for every component, and a job's files have one place."""

import pytest

from videojob.operator.builders import output_prefix as operator_output_prefix
from videojob.operator.settings import OperatorSettings
from videojob.renderer.config import output_prefix as renderer_output_prefix
from videojob.renderer.settings import RendererSettings
from videojob.s3 import job_output_prefix, parse_s3_endpoint
from videojob.spec import VideoJobSpec


@pytest.mark.parametrize(
    ("value", "netloc", "secure"),
    [
        ("http://127.0.0.1:9000", "127.0.0.1:9000", False),
        ("https://s3.example.com/", "s3.example.com", True),
        ("  http://minio.videojob.svc:9000  ", "minio.videojob.svc:9000", False),
    ],
)
def test_an_endpoint_url_gives_the_host_and_tls(value, netloc, secure):
    endpoint = parse_s3_endpoint(value)
    assert (endpoint.netloc, endpoint.secure) == (netloc, secure)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("minio:9000", "write it as http://host:port"),
        ("ftp://minio:9000", "write it as http://host:port"),
        ("http://minio:9000/bucket", "no path"),
        ("http://minio:port", "the port must be a number"),
    ],
)
def test_a_malformed_endpoint_says_which_form_is_expected(value, says):
    with pytest.raises(ValueError, match=says):
        parse_s3_endpoint(value)


def test_operator_and_renderer_accept_the_same_endpoint_form():
    operator = OperatorSettings(s3_endpoint="https://s3.example.com/")
    renderer = RendererSettings(s3_endpoint="https://s3.example.com/")
    assert operator.s3_endpoint == renderer.s3_endpoint == "https://s3.example.com"
    for settings_class in (OperatorSettings, RendererSettings):
        with pytest.raises(ValueError, match="is not an S3 endpoint"):
            settings_class(s3_endpoint="s3.example.com:443")


def test_operator_and_renderer_put_a_job_under_the_same_prefix():
    spec = VideoJobSpec.model_validate({"source": {"markdown": "# A"}, "output": {"prefix": "team-a/lessons/"}})
    from_operator = operator_output_prefix("ns", "intro", "u1", spec)
    renderer = RendererSettings(output="s3://videos/team-a/lessons", namespace="ns", job_name="intro", job_uid="u1")
    assert (
        from_operator
        == job_output_prefix("ns", "intro", "u1", "team-a/lessons")
        == "team-a/lessons/outputs/ns/intro/u1/"
    )
    assert renderer_output_prefix(renderer) + "/" == from_operator
