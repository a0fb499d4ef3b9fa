"""videojob: turn a VideoJob resource into a narrated, animated explainer video."""

__version__ = "0.1.0"
