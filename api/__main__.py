"""``videojob-gateway``: serve the gateway, or create a tenant and its API key.

    videojob-gateway                          # serve on VIDEOJOB_GATEWAY_HOST:PORT
    videojob-gateway create-tenant NAME [--max-videos N]
    videojob-gateway selftest --url URL        # helm test: one tiny video through a gateway (api/selftest.py)

``create-tenant`` runs with your own (admin) kubeconfig: it creates the namespace NAME,
lets the gateway's ServiceAccount manage VideoJobs there (a RoleBinding to the
ClusterRole ``VIDEOJOB_GATEWAY_TENANT_CLUSTER_ROLE``, by default
``videojob-gateway-tenant``), caps the videos it may hold at once with a ResourceQuota,
and stores a new key, hashed, in the keys namespace. The key is printed once; it cannot
be read back.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from pydantic import ValidationError

from videojob.kubeconfig import load_configuration

from . import logs, selftest
from .kube import ApiServerError, Kube
from .settings import GatewaySettings, get_settings
from .tenants import TENANT_LABEL, key_secret, new_key

QUOTA_NAME = "videojob-videos"
QUOTA_RESOURCE = "count/videojobs.videojob.dev"


async def _apply(kube: Kube, path: str, body: dict) -> None:
    try:
        await kube.request("POST", path, body=body)
    except ApiServerError as error:
        if error.status != 409:  # already there: creating a tenant twice only adds a key
            raise


def tenant_objects(name: str, max_videos: int, settings: GatewaySettings) -> list[tuple[str, dict]]:
    labels = {TENANT_LABEL: name, "app.kubernetes.io/part-of": "videojob"}
    return [
        ("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}),
        (
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": settings.keys_namespace}},
        ),
        (
            f"/apis/rbac.authorization.k8s.io/v1/namespaces/{name}/rolebindings",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "videojob-gateway", "namespace": name, "labels": labels},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": settings.tenant_cluster_role,
                },
                "subjects": [
                    {
                        "kind": "ServiceAccount",
                        "name": settings.service_account_name,
                        "namespace": settings.service_account_namespace,
                    }
                ],
            },
        ),
        (
            f"/api/v1/namespaces/{name}/resourcequotas",
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {"name": QUOTA_NAME, "namespace": name, "labels": labels},
                "spec": {"hard": {QUOTA_RESOURCE: str(max_videos)}},
            },
        ),
    ]


async def wait_until_quota_counts(kube: Kube, name: str, max_videos: int, timeout: float = 150) -> bool:
    """Wait until the quota controller has counted the tenant's VideoJobs.

    Until then the API server refuses every VideoJob ("status unknown for quota"). The
    controller counts a resource it discovered after the quota was made only when the
    quota's hard limits change (or on its 5-minute resync), so on a cluster whose CRD is
    new the limit is nudged (max+1, then max) until it is counted.
    """
    path = f"/api/v1/namespaces/{name}/resourcequotas/{QUOTA_NAME}"
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for _ in range(25):
            quota = await kube.request("GET", path)
            if QUOTA_RESOURCE in (quota.get("status") or {}).get("used", {}):
                return True
            await asyncio.sleep(0.2)
        for value in (max_videos + 1, max_videos):
            await kube.request(
                "PATCH",
                path,
                body={"spec": {"hard": {QUOTA_RESOURCE: str(value)}}},
                content_type="application/merge-patch+json",
            )
    return False


async def create_tenant(name: str, max_videos: int, settings: GatewaySettings) -> str:
    kube = Kube(load_configuration())
    try:
        for path, body in tenant_objects(name, max_videos, settings):
            await _apply(kube, path, body)
        if not await wait_until_quota_counts(kube, name, max_videos):
            print(
                f"videojob-gateway: the quota of {name} is not counted yet; the API server refuses its videos "
                "until the quota controller catches up (within 5 minutes)",
                file=sys.stderr,
            )
        key_id, key = new_key()
        await kube.request(
            "POST",
            f"/api/v1/namespaces/{settings.keys_namespace}/secrets",
            body=key_secret(key_id, key, name, settings.keys_namespace),
        )
        return key
    finally:
        await kube.close()


def serve(settings: GatewaySettings) -> None:
    import uvicorn

    from .app import create_app

    logs.configure(settings)
    # log_config=None: uvicorn's loggers write through our handler. Its access log stays off
    # (it knows neither route nor tenant); api/logs.py's AccessLog writes one line per request.
    uvicorn.run(
        create_app(),
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
        log_level=settings.log_level.lower(),
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["selftest"]:  # a client of the gateway: it needs none of the gateway's settings
        return selftest.main(argv[1:])
    parser = argparse.ArgumentParser(prog="videojob-gateway", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the gateway (the default)")
    commands.add_parser("selftest", help="submit one tiny video through a gateway and wait for it (helm test)")
    tenant = commands.add_parser("create-tenant", help="create a tenant namespace and print a new API key for it")
    tenant.add_argument("name", help="the tenant, which is also its namespace (a DNS label)")
    tenant.add_argument("--max-videos", type=int, default=20, help="videos the tenant may hold at once (ResourceQuota)")
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"])
            print(f"videojob-gateway: bad setting {where}: {problem['msg']}", file=sys.stderr)
        return 2
    if args.command == "create-tenant":
        try:
            key = asyncio.run(create_tenant(args.name, args.max_videos, settings))
        except ApiServerError as error:
            print(f"videojob-gateway: could not create tenant {args.name}: {error}", file=sys.stderr)
            return 1
        print(key)
        print(f"tenant {args.name} created; this key is shown once (the gateway keeps only its hash)", file=sys.stderr)
        return 0
    serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
