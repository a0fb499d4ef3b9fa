"""videojob.operator: the kopf operator that reconciles VideoJob resources."""

if __name__ == "operator":  # pragma: no cover - only when the repository root is on sys.path
    raise ImportError(
        "the repository's operator/ folder was imported as the standard library's `operator`: "
        "run Python with -P (or PYTHONSAFEPATH=1), or from another directory"
    )
