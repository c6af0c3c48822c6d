"""JSON Schemas (draft 2020-12) of every event Voxify puts on or reads from its bus.

One file per detail-type and version: `job-state-change.v1.json` and so on. A breaking change
adds a `.v2.json` and bumps `schema_version` in the detail; additions stay within v1.
"""

import importlib.resources
import json
from typing import Any


def schema_for(detail_type: str, version: str = "1") -> dict[str, Any]:
    name = f"{detail_type.lower().replace(' ', '-')}.v{version}.json"
    schema: dict[str, Any] = json.loads(importlib.resources.files(__name__).joinpath(name).read_text())
    return schema
