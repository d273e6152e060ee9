"""Search synonyms: words people type for the same thing, German and English, kept as data.

The catalogue's words (indicator labels, the cities' table titles) are not the words a user
types: "Einwohnerzahl" means the table titled "Bevölkerung", "election" the "Stadtratswahl".
Solr expands a query by these groups (scripts/solr/configset.py writes its synonyms file from
this module), so the list is maintained here, beside the indicators, and nobody edits Solr
files by hand. ``data/synonyms.csv`` has one term per row: ``group`` (the sense, an id),
``lang`` (``de``/``en``), ``term`` (one or more words), ``kind`` and a free ``note``.

``kind`` says which way a term expands. The ``equivalent`` terms of a group all find each
other ("Einwohner", "Bevölkerung", "population"). A ``narrower`` term is found by them but
finds only itself: "Wahl" finds the "Ortsbeiratswahl", while "Ortsbeiratswahl" must not find
every "Stadtratswahl" (its siblings) nor every "Wahl" (the general word). A narrower term may
hang under several groups ("Stadtratswahl" under ``election`` and ``local_election``), since
the expansion is not transitive; an equivalent term belongs to one group only.

A word with several senses ("Haushalt": household or budget) names all its groups,
``|``-separated. It is not expanded at all: expanding it to one sense would hide the other,
to both would drown each; it still finds both by its own stem. ``ambiguous()`` lists such
words with their senses, so a search page can ask which one was meant.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import re

from vierstaedte_contract import path

COLUMNS = ("group", "lang", "term", "kind", "note")
LANGS = ("de", "en")
EQUIVALENT, NARROWER = "equivalent", "narrower"
KINDS = (EQUIVALENT, NARROWER)
_GROUP = re.compile(r"^[a-z][a-z0-9_]*$")
# words (a letter first, then letters or digits: "B90") and blanks, hyphens, slashes and
# apostrophes inside a term; nothing Solr's synonym format reads as syntax (",", "=>", "#", "\")
_TERM = re.compile(r"^[^\W\d_][^\W_]*(?:[ '\-/][^\W_]+)*$")


class SynonymError(ValueError):
    """A row of synonyms.csv that cannot be used; the message names the file's line."""


@dataclasses.dataclass(frozen=True)
class Term:
    term: str
    lang: str
    kind: str = EQUIVALENT  # EQUIVALENT: finds its group; NARROWER: found by it, finds itself


@dataclasses.dataclass(frozen=True)
class Synonyms:
    groups: dict[str, tuple[Term, ...]]  # sense id -> its terms (both kinds), in file order
    ambiguous: dict[str, tuple[str, ...]]  # term -> the sense ids it may mean


def _key(term: str) -> str:
    return " ".join(term.casefold().split())


def parse(text: str, source: str = "synonyms.csv") -> Synonyms:
    """Read and check the rows; a bad row raises SynonymError naming its line."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise SynonymError(f"{source}: the header must be {','.join(COLUMNS)}")
    groups: dict[str, list[Term]] = {}
    ambiguous: dict[str, tuple[str, ...]] = {}
    seen: dict[str, tuple[int, str]] = {}  # equivalent term key -> (line, its group field)
    narrower: dict[tuple[str, str], tuple[int, str]] = {}  # (term key, group) -> (line, term)
    for row in reader:
        line = reader.line_num
        where = f"{source}, line {line}"
        if None in row or any(row[c] is None for c in COLUMNS):
            raise SynonymError(f"{where}: expected the columns {','.join(COLUMNS)}")
        senses = tuple(s.strip() for s in row["group"].split("|"))
        term, lang, kind = " ".join(row["term"].split()), row["lang"].strip(), row["kind"].strip()
        bad = [s for s in senses if not _GROUP.match(s)]
        if bad:
            raise SynonymError(f"{where}: group {bad[0]!r} is no id (lowercase letters, _)")
        if lang not in LANGS:
            raise SynonymError(f"{where}: lang {lang!r} is not one of {', '.join(LANGS)}")
        if kind not in KINDS:
            raise SynonymError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        if not _TERM.match(term):
            raise SynonymError(
                f"{where}: term {term!r} must be words (letters, digits, blanks, hyphens, /) only"
            )
        key = _key(term)
        if kind == NARROWER:
            if len(senses) > 1:
                raise SynonymError(
                    f"{where}: {term!r} is narrower in one group per row; "
                    "an ambiguous word (several groups) is expanded to nothing"
                )
            if (key, senses[0]) in narrower:
                first = narrower[key, senses[0]][0]
                raise SynonymError(
                    f"{where}: {term!r} is already narrower in {senses[0]!r} (line {first})"
                )
            narrower[key, senses[0]] = (line, term)
            groups.setdefault(senses[0], []).append(Term(term, lang, NARROWER))
            continue
        if key in seen:
            first, group = seen[key]
            raise SynonymError(
                f"{where}: {term!r} is already in group {group!r} (line {first}); "
                "a word with several senses is one row naming them all, e.g. households|budget"
            )
        seen[key] = (line, row["group"])
        if len(senses) > 1:
            ambiguous[term] = senses
        else:
            groups.setdefault(senses[0], []).append(Term(term, lang))
    for (key, group), (line, term) in narrower.items():
        if seen.get(key, (0, ""))[1] == group:
            raise SynonymError(
                f"{source}, line {line}: {term!r} is equivalent in {group!r} "
                f"(line {seen[key][0]}): equivalent or narrower, not both"
            )
    for group, terms in groups.items():
        if len(terms) < 2:
            raise SynonymError(f"{source}: group {group!r} has one term only: {terms[0].term!r}")
        if all(t.kind == NARROWER for t in terms):
            raise SynonymError(
                f"{source}: group {group!r} has no equivalent term to find its narrower ones"
            )
    for term, senses in ambiguous.items():
        unknown = [s for s in senses if s not in groups]
        if unknown:
            raise SynonymError(f"{source}: {term!r} names the unknown group {unknown[0]!r}")
    return Synonyms({g: tuple(t) for g, t in groups.items()}, ambiguous)


@functools.cache
def synonyms() -> Synonyms:
    """The contract's synonyms (``data/synonyms.csv``, or its replacement in the override dir)."""
    return parse(path("synonyms.csv").read_text(encoding="utf-8"))


def groups() -> dict[str, tuple[Term, ...]]:
    return synonyms().groups


def ambiguous() -> dict[str, tuple[str, ...]]:
    return synonyms().ambiguous
