"""Plain Grafana dashboard JSON (schemaVersion 39), typed: the model and the building blocks of videojob's dashboards.

:class:`Dashboard` and its parts are pydantic models of exactly the subset emitted here, with
Grafana's required fields (title, uid, schemaVersion, panels with type, id and gridPos; targets
with refId) and its constraints (uid of at most 40 characters, a 24-column grid, ids and refIds
unique); unknown fields are refused. Grafana's published schema is not available offline, so
this model is the check. The dashboards themselves are in :mod:`videojob_devenv.dashboards`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from videojob_devenv.prometheus import OPERATOR

SCHEMA_VERSION: Literal[39] = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
OP = f'job="{OPERATOR.job}"'
RATE = "$__rate_interval"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class GridPos(_Strict):
    h: Annotated[int, Field(ge=1)]
    w: Annotated[int, Field(ge=1, le=24)]
    x: Annotated[int, Field(ge=0, le=23)]
    y: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _fits(self) -> GridPos:
        if self.x + self.w > 24:
            raise ValueError(f"a panel at x={self.x} with w={self.w} overflows Grafana's 24 columns")
        return self


class Target(_Strict):
    refId: Annotated[str, Field(pattern=r"^[A-Z]$")]
    expr: Annotated[str, Field(min_length=1)]
    legendFormat: str = "__auto"
    instant: bool = False
    range: bool = True
    datasource: dict[str, str] = Field(default_factory=lambda: dict(DATASOURCE))


class Panel(_Strict):
    id: Annotated[int, Field(ge=1)]
    type: Literal["timeseries", "stat"]
    title: Annotated[str, Field(min_length=1)]
    description: str
    gridPos: GridPos
    datasource: dict[str, str] = Field(default_factory=lambda: dict(DATASOURCE))
    targets: Annotated[list[Target], Field(min_length=1)]
    fieldConfig: dict[str, Any]
    options: dict[str, Any]

    @model_validator(mode="after")
    def _ref_ids_unique(self) -> Panel:
        ids = [t.refId for t in self.targets]
        if len(ids) != len(set(ids)):
            raise ValueError(f"panel {self.title!r} repeats a refId: {ids}")
        return self


class Dashboard(_Strict):
    uid: Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]{1,40}$")]
    title: Annotated[str, Field(min_length=1)]
    description: str
    tags: list[str]
    schemaVersion: Literal[39] = SCHEMA_VERSION
    version: int = 1
    editable: bool = False
    graphTooltip: int = 1
    timezone: str = "utc"
    refresh: str = "30s"
    time: dict[str, str] = Field(default_factory=lambda: {"from": "now-6h", "to": "now"})
    templating: dict[str, list[dict[str, Any]]] = Field(
        default_factory=lambda: {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                    "refresh": 1,
                    "options": [],
                }
            ]
        }
    )
    annotations: dict[str, list[Any]] = Field(default_factory=lambda: {"list": []})
    links: list[Any] = Field(default_factory=list)
    panels: list[Panel]

    @model_validator(mode="after")
    def _ids_unique(self) -> Dashboard:
        ids = [p.id for p in self.panels]
        if len(ids) != len(set(ids)):
            raise ValueError(f"dashboard {self.uid} repeats a panel id: {ids}")
        return self


# --- building blocks ------------------------------------------------------------------------


def quantiles(histogram: str, by: str = "", qs: Sequence[float] = (0.5, 0.95), job: str = OP) -> list[tuple[str, str]]:
    """histogram_quantile targets for a histogram's buckets, one per quantile, optionally split by a label."""
    group = f"le, {by}" if by else "le"
    return [
        (
            f"histogram_quantile({q}, sum by ({group}) (rate({histogram}_bucket{{{job}}}[{RATE}])))",
            f"p{round(q * 100)}" + (f" {{{{{by}}}}}" if by else ""),
        )
        for q in qs
    ]


def _panel(kind: str, title: str, description: str, unit: str, queries: Iterable[tuple[str, str]]) -> dict[str, Any]:
    targets = [
        {
            "refId": chr(ord("A") + i),
            "expr": expr,
            "legendFormat": legend,
            "instant": kind == "stat",
            "range": kind != "stat",
        }
        for i, (expr, legend) in enumerate(queries)
    ]
    options: dict[str, Any]
    if kind == "stat":
        options = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "none",
            "textMode": "auto",
        }
        field_config: dict[str, Any] = {
            "defaults": {"unit": unit, "decimals": 2 if unit == "percentunit" else None},
            "overrides": [],
        }
        field_config["defaults"] = {k: v for k, v in field_config["defaults"].items() if v is not None}
    else:
        options = {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
        field_config = {
            "defaults": {
                "unit": unit,
                "custom": {"drawStyle": "line", "fillOpacity": 10, "showPoints": "never", "spanNulls": True},
            },
            "overrides": [],
        }
    return {
        "type": kind,
        "title": title,
        "description": description,
        "targets": targets,
        "fieldConfig": field_config,
        "options": options,
    }


def stat(title: str, description: str, unit: str, *queries: tuple[str, str]) -> dict[str, Any]:
    return _panel("stat", title, description, unit, queries)


def series(title: str, description: str, unit: str, *queries: tuple[str, str]) -> dict[str, Any]:
    return _panel("timeseries", title, description, unit, queries)


def dashboard(uid: str, title: str, description: str, rows: Sequence[Sequence[dict[str, Any]]]) -> Dashboard:
    """Lay rows of panels out on the grid: stats are 4 high, time series 8; a row's panels share its width."""
    panels, y, next_id = [], 0, 1
    for row in rows:
        width = 24 // len(row)
        height = 4 if all(p["type"] == "stat" for p in row) else 8
        for i, panel in enumerate(row):
            panels.append(panel | {"id": next_id, "gridPos": {"h": height, "w": width, "x": i * width, "y": y}})
            next_id += 1
        y += height
    return Dashboard.model_validate(
        {"uid": uid, "title": title, "description": description, "tags": ["videojob"], "panels": panels}
    )
