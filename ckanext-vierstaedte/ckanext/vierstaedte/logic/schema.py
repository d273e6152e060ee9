"""Input schemas of the extension's own actions."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk


def city_show() -> dict[str, Any]:
    return {"id": [tk.get_validator("not_empty"), tk.get_validator("unicode_safe")]}
