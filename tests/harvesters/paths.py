"""Where the harvester tests find their files: recorded tables, shipped mappings, real files,
and contract data with a fifth city for real files of a city outside the four."""

from __future__ import annotations

import json
import os
from pathlib import Path

import vierstaedte_contract
from vierstaedte_harvest import mapping

FIXTURES = Path(__file__).parent / "fixtures"
REAL = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real"
MAPPINGS = Path(mapping.__file__).parent / "mappings"


def with_koeln(folder: Path) -> dict[str, str]:
    """The environment of a process in which Köln is a fifth city, by its cities.json entry
    alone (written to ``folder``/contract, named by ``$VIERSTAEDTE_CONTRACT_DATA``)."""
    listed = json.loads(vierstaedte_contract.path("cities.json").read_text(encoding="utf-8"))
    listed["cities"].append(
        {
            "name": "koeln",
            "title": "Stadt Köln",
            "short_title": "Köln",
            "ags": "05315000",
            "regional_key": "053150000000",
        }
    )
    (folder / "contract").mkdir(parents=True, exist_ok=True)
    (folder / "contract" / "cities.json").write_text(json.dumps(listed), encoding="utf-8")
    return dict(os.environ, **{vierstaedte_contract.DATA_OVERRIDE: str(folder / "contract")})
