"""Writes the search benchmark's baseline configset: CKAN's own schema.xml, our solrconfig minus search.

    python bench/search_stock.py OUTDIR

The baseline is what CKAN 2.12 ships: its ``schema.xml`` unchanged (English analysis, no
German fields) and the portal's ``scripts/solr/solrconfig.xml`` with the spellcheck
component taken out (the only search addition in it; the rest — commits, caches, the
classic schema factory — is how the portal runs Solr, so both cores differ in search only).
Called by ``bench/stack.sh solr-conf NAME stock``; stdlib only.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLRCONFIG = ROOT / "scripts" / "solr" / "solrconfig.xml"
EMPTY = {"synonyms.txt": "# CKAN's type text: no synonyms\n", "protwords.txt": "# none\n"}


def ckan_schema() -> Path:
    spec = importlib.util.find_spec("ckan")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the ckan package is not installed in this Python")
    return Path(next(iter(spec.submodule_search_locations))) / "config" / "solr" / "schema.xml"


def stock_solrconfig(text: str) -> str:
    """The portal's solrconfig.xml without the spellcheck component and its /select defaults."""
    text = re.sub(r"\s*<!--.*?-->", "", text, flags=re.DOTALL)  # comments describe ours
    text = re.sub(
        r"\s*<searchComponent name=\"spellcheck\".*?</searchComponent>", "", text, flags=re.DOTALL
    )
    text = re.sub(r"\s*<(int|str) name=\"spellcheck\.[^\"]*\">[^<]*</\1>", "", text)
    text = re.sub(r"\s*<arr name=\"last-components\">\s*<str>spellcheck</str>\s*</arr>", "", text)
    if "spellcheck" in text:
        raise SystemExit(f"{SOLRCONFIG}: a spellcheck setting this script does not know is left")
    return text.replace(
        "<config>",
        "<!-- The search benchmark's baseline: written by bench/search_stock.py -->\n<config>",
        1,
    )


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    (out / "schema.xml").write_text(ckan_schema().read_text(encoding="utf-8"), encoding="utf-8")
    (out / "solrconfig.xml").write_text(
        stock_solrconfig(SOLRCONFIG.read_text(encoding="utf-8")), encoding="utf-8"
    )
    for name, text in EMPTY.items():
        (out / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
