"""What the routers depend on, as ``Annotated`` aliases; tests swap any of them with
``app.dependency_overrides`` (``get_kube`` for a stand-in API server, ``get_settings``...).

The long-lived parts (the API server session, the key ring, the buckets) are made on
first use and kept on ``app.state``, so an app whose ``get_kube`` is overridden never
reads a kubeconfig.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from videojob.kubeconfig import load_configuration

from .cache import VideoCache
from .errors import GatewayError
from .kube import ApiServerUnavailable, Kube
from .logs import note_tenant
from .metrics import GatewayMetrics
from .ratelimit import RateLimiter
from .settings import GatewaySettings, get_settings
from .storage import Storage
from .tenants import KeyRing, Tenant

SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]


def _state(request: Request, name: str, make: Any) -> Any:
    value = getattr(request.app.state, name, None)
    if value is None:
        value = make()
        setattr(request.app.state, name, value)
    return value


def get_kube(request: Request) -> Kube:
    return _state(request, "kube", lambda: Kube(load_configuration()))


KubeDep = Annotated[Kube, Depends(get_kube)]


def get_cache(request: Request, kube: KubeDep, settings: SettingsDep) -> VideoCache | None:
    if not settings.read_cache:
        return None
    return _state(request, "cache", lambda: VideoCache(kube))


CacheDep = Annotated[VideoCache | None, Depends(get_cache)]


def get_metrics(request: Request) -> GatewayMetrics:
    return _state(request, "metrics", GatewayMetrics)


MetricsDep = Annotated[GatewayMetrics, Depends(get_metrics)]


def get_storage(request: Request, settings: SettingsDep) -> Storage:
    return _state(request, "storage", lambda: Storage(settings))


StorageDep = Annotated[Storage, Depends(get_storage)]


def get_rate_limiter(request: Request, settings: SettingsDep) -> RateLimiter:
    return _state(request, "rate_limiter", lambda: RateLimiter(settings.rate_per_minute, settings.rate_burst))


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


def get_keyring(request: Request, kube: KubeDep, settings: SettingsDep) -> KeyRing:
    return _state(request, "keyring", lambda: KeyRing(kube, settings.keys_namespace, settings.key_cache_seconds))


KeyRingDep = Annotated[KeyRing, Depends(get_keyring)]

_UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="videojob"'}


async def get_tenant(keyring: KeyRingDep, authorization: Annotated[str | None, Header()] = None) -> Tenant:
    """The tenant whose API key is in ``Authorization: Bearer``; 401 for none or an unknown one."""
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise GatewayError(
            401, "missing_api_key", "send your API key as 'Authorization: Bearer vj_...'", headers=_UNAUTHORIZED
        )
    try:
        tenant = await keyring.tenant(key.strip())
    except ApiServerUnavailable as error:
        raise GatewayError(503, "api_server_unavailable", f"could not check the API key: {error}") from error
    if tenant is None:
        raise GatewayError(
            401, "invalid_api_key", "this API key is not valid (revoked or mistyped)", headers=_UNAUTHORIZED
        )
    note_tenant(tenant.namespace)  # the access log's tenant (api/logs.py)
    return tenant


TenantDep = Annotated[Tenant, Depends(get_tenant)]
