#!/usr/bin/env python3
"""Build the pinned cluster binaries (etcd, Kubernetes, MinIO, helm, kwok) from source.

Loads hack/devenv/tools.py by path (it is stdlib-only) so this works before any
virtualenv exists, without putting the repository root on sys.path (where the
operator/ folder would shadow the standard library's `operator`).
"""

import importlib.util
import sys
from pathlib import Path

path = Path(__file__).resolve().parent / "devenv" / "tools.py"
spec = importlib.util.spec_from_file_location("videojob_devenv_tools", path)
if spec is None or spec.loader is None:
    sys.exit(f"error: cannot load {path}")
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module  # dataclasses look their module up here
spec.loader.exec_module(module)
sys.exit(module.main())
