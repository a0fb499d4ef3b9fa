"""The probes, the metrics, the OpenAPI document and the web page the gateway serves."""

from __future__ import annotations


def test_healthz_and_readyz_answer(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_readyz_is_503_when_the_api_server_does_not_answer(client, kube):
    async def not_ready() -> bool:
        return False

    kube.ready = not_ready
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "api_server_unavailable"


def test_metrics_count_requests_by_route_template_and_status(client, tenant_a):
    client.get("/v1/videos/video-abc", headers=tenant_a)
    text = client.get("/metrics").text
    assert 'videojob_gateway_requests_total{method="GET",route="/v1/videos/{video_id}",status="404"} 1.0' in text
    assert 'videojob_gateway_request_seconds_count{method="GET",route="/v1/videos/{video_id}"} 1.0' in text
    assert "videojob_gateway_event_streams 0.0" in text


def test_every_operation_documents_its_errors_with_the_error_shape(client):
    document = client.get("/openapi.json").json()
    assert document["components"]["schemas"]["CreateVideo"]["properties"]["markdown"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/"):
                assert "401" in operation["responses"], (method, path)
                error = operation["responses"]["422"]["content"]["application/json"]["schema"]
                assert error == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path)


def test_the_web_page_is_served_at_the_root(client):
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert client.get("/static/app.js").status_code == 200
