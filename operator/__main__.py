"""Run the operator: ``python -P -m videojob.operator`` (or the ``videojob-operator`` script).

Settings come from VIDEOJOB_* variables (see settings.py); bad ones stop the start
with one message per variable, before anything talks to the cluster.
"""

from __future__ import annotations

import logging
import os
import sys

import kopf

from . import logs
from .settings import SettingsError, get_settings


def main() -> int:
    logs.configure(os.environ.get("VIDEOJOB_LOG_LEVEL", "INFO"), os.environ.get("VIDEOJOB_LOG_FORMAT", "auto"))
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)  # one "handler succeeded" line per watch event is noise
    try:
        settings = get_settings()
    except SettingsError as error:
        print(f"videojob-operator: {error}", file=sys.stderr)
        return 2
    from . import startup  # noqa: F401 - registers the start-up and, through it, the handlers

    liveness = os.environ.get("VIDEOJOB_LIVENESS_ENDPOINT", "http://0.0.0.0:8081/healthz") or None
    kopf.run(
        standalone=True,
        clusterwide=settings.clusterwide,
        namespaces=settings.namespaces,
        liveness_endpoint=liveness,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
