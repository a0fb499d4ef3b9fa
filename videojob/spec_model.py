"""What every part of the VideoJob spec model shares: the model's settings and the immutability rule.

:mod:`videojob.spec` (the spec's top level and its run settings) and
:mod:`videojob.video_source` (spec.source) both build on these, so the API server's CEL
rules and the Python models say the same words everywhere.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from videojob.structural import Rule


class SpecModel(BaseModel):
    # Unknown keys are tolerated: the API server already pruned what the CRD does not know.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


def immutable(field: str) -> Rule:
    return Rule("self == oldSelf", f"{field} is immutable; create a new VideoJob")
