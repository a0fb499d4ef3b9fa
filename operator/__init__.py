"""videojob.operator: the kopf operator that reconciles VideoJob resources.

handlers (kopf glue) -> workqueue (which VideoJob to reconcile, when) -> reconciler
(one VideoJob: fetch, exit early, apply, write status), which reads world (kopf's
indexes, the statuses it wrote), asks admission for a render slot, calls the pure
builders, status and failures, talks to the API through kube, and posts Events
through events.
"""

if __name__ == "operator":  # pragma: no cover - only when the repository root is on sys.path
    raise ImportError(
        "the repository's operator/ folder was imported as the standard library's `operator`: "
        "run Python with -P (or PYTHONSAFEPATH=1), or from another directory"
    )
