"""API keys and the tenants they belong to.

A tenant is a namespace. Its API key looks like ``vj_<id>_<secret>``; the gateway stores
only the key's SHA-256 (a key is 32 random bytes, so a fast hash is enough: nothing to
brute-force), in a Secret named ``videojob-key-<id>`` in the keys namespace
(``VIDEOJOB_GATEWAY_KEYS_NAMESPACE``, ``videojob-keys`` by default) with the label
``videojob.dev/api-key=true`` and two data keys: ``sha256`` and ``tenant``. The ``<id>``
lets the gateway *get* the one Secret by name, so its RBAC needs no list and no watch on
Secrets, and nothing but key Secrets should live in that namespace.

A key the gateway verified is trusted for ``key_cache_seconds``: deleting its Secret
revokes it within that delay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from .kube import ApiServerError, Kube

KEY_LABEL = "videojob.dev/api-key"
TENANT_LABEL = "videojob.dev/tenant"
SECRET_PREFIX = "videojob-key-"
_KEY = re.compile(r"^vj_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Tenant:
    name: str
    namespace: str
    key_id: str


def new_key() -> tuple[str, str]:
    """(key id, full key): the key is shown once to whoever creates it, never stored."""
    key_id = secrets.token_hex(6)
    return key_id, f"vj_{key_id}_{secrets.token_urlsafe(32)}"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_secret(key_id: str, key: str, tenant: str, keys_namespace: str) -> dict[str, object]:
    """The Secret that makes ``key`` valid for ``tenant`` (the tenant's namespace is its name)."""

    def encoded(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": SECRET_PREFIX + key_id,
            "namespace": keys_namespace,
            "labels": {KEY_LABEL: "true", TENANT_LABEL: tenant},
        },
        "data": {"sha256": encoded(key_hash(key)), "tenant": encoded(tenant)},
    }


class KeyRing:
    """Turns a bearer key into its tenant by reading the key's Secret (cached briefly)."""

    def __init__(self, kube: Kube, keys_namespace: str, cache_seconds: float) -> None:
        self.kube, self.keys_namespace, self.cache_seconds = kube, keys_namespace, cache_seconds
        self._cache: dict[str, tuple[float, Tenant]] = {}

    async def tenant(self, key: str) -> Tenant | None:
        match = _KEY.match(key)
        if match is None:
            return None
        digest = key_hash(key)
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        key_id = match.group(1)
        try:
            secret = await self.kube.get_secret(self.keys_namespace, SECRET_PREFIX + key_id)
        except ApiServerError as error:
            if error.status == 404:
                return None
            raise
        data = secret.get("data") or {}
        labels = (secret.get("metadata") or {}).get("labels") or {}
        stored = base64.b64decode(data.get("sha256", "")).decode(errors="replace")
        if labels.get(KEY_LABEL) != "true" or not hmac.compare_digest(stored, digest):
            return None
        namespace = base64.b64decode(data.get("tenant", "")).decode(errors="replace")
        if not namespace:
            return None
        tenant = Tenant(name=namespace, namespace=namespace, key_id=key_id)
        self._cache[digest] = (time.monotonic() + self.cache_seconds, tenant)
        return tenant
