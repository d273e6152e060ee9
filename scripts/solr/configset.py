"""Writes the portal's Solr configset: CKAN's schema.xml plus our German diff, and its word lists.

    python scripts/solr/configset.py OUTDIR [--hunspell DIC] [--hyphen DIC] [--ckan-schema FILE]
                                            [--stock | --council]

OUTDIR becomes a complete ``conf`` directory: ``schema.xml`` (CKAN's file with
``schema-german.xml`` inserted, nothing of CKAN's changed), ``solrconfig.xml``,
``stopwords_de.txt`` (Snowball's German list), ``synonyms_de.txt`` (from the contract's
``synonyms.csv``) with ``synonym_words_de.txt`` (their words, not decompounded at query
time), ``compounds_de.txt``, the decompounding dictionary, ``hyphenation_de.xml`` (German
syllables: the compound filter takes parts only between them), and the empty
``synonyms.txt``/``protwords.txt`` CKAN's own type ``text`` reads. The configset is
generated, not committed, so that a CKAN upgrade is one review of the diff: if CKAN's
schema.xml is not the file the diff was written against, this stops and says so.
``--stock`` writes CKAN's schema as it is (with the same solrconfig.xml): the baseline the
search benchmark compares with. ``--council`` writes the council core's conf instead: its own
schema (``schema-council.xml``: papers, meetings, files) with the same German types inserted
from ``schema-german.xml``, and the same word lists, so both cores analyse German alike.

The dictionary is built, not hand-written: the nouns of our own vocabulary (indicator labels
and definitions, area names, vocabulary and unit labels, synonyms) plus the nouns of the
hunspell German dictionary (Debian's hunspell-de-de, igerman98, GPL-2+: read on this machine,
never committed). Lucene's HyphenationCompoundWordTokenFilter emits, at each syllable of a word
(Debian's hyphen-de patterns, LGPL-2+, read here, never committed), the longest dictionary word
starting there; so the dictionary holds only "atoms": a word that
is itself two dictionary words (with a linking s/n/en/es/e/er) is left out, else it would hide
its own head ("bevölkerungsdichte" hiding "bevölkerung"), and hunspell's short words (< 5
letters: "haus", "volk", "heim") are left out, else they would split "Haushalt" and
"Bevölkerung" into junk. Short words of our vocabulary ("wahl", "zahl") and of
compounds_civic_de.txt ("park", "kinder", "haltestelle") stay. The compound
filter runs before German normalisation, so the entries keep their umlauts ("wähler" is no
"wahl" + "er").
docs/search.md has the analysis chain and the measurements.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib.util
import json
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIFF = HERE / "schema-german.xml"
COUNCIL = HERE / "schema-council.xml"  # the council core's fields; the types come from DIFF
SOLRCONFIG = HERE / "solrconfig.xml"
STOPWORDS = HERE / "stopwords_de.txt"
HUNSPELL = Path("/usr/share/hunspell/de_DE.dic")  # Debian package hunspell-de-de
HYPHEN = Path("/usr/share/hyphen/hyph_de_DE.dic")  # Debian package hyphen-de
CIVIC = HERE / "compounds_civic_de.txt"  # our words the hunspell rules would leave out
# CKAN's own type `text` reads these two; they stay empty: CKAN's fields keep their stock analysis
CKAN_FILES = {"synonyms.txt": "# CKAN's type text: no synonyms\n", "protwords.txt": "# none\n"}

MIN_SUBWORD = 4  # = minSubwordSize in schema-german.xml
MIN_HUNSPELL = 5  # hunspell's shorter words are the junk of decompounding
MAX_SUBWORD = 20  # = maxSubwordSize
LINKS = ("", "s", "es", "n", "en", "e", "er", "ens")  # Fugenelemente between compound parts
_WORD = re.compile(r"[^\W\d_]+")
_NOUN = re.compile(r"^[A-ZÄÖÜ][a-zäöüß]+$")
_PLURALS = ("e", "en", "er", "ern", "n", "s", "se")  # also the endings a compound's last part takes
# a syllable takes a plural's consonant ("Ein|rich|tun|gen"), so the part must be the plural
_EN_PLURALS = ("ung", "heit", "keit", "schaft", "ion", "tät")
# nouns that are also the ending of many words: "Bürger|schaft", "Fäl|lun|gen" → "lunge"
_ENDINGS = frozenset({"schaft", "lunge"})


class ConfigsetError(RuntimeError):
    pass


# --- schema.xml -------------------------------------------------------------------------------


def ckan_schema_path() -> Path:
    """CKAN's schema.xml in the installed ckan package (not imported: that would load CKAN)."""
    spec = importlib.util.find_spec("ckan")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigsetError("the ckan package is not installed here: pass --ckan-schema")
    return Path(next(iter(spec.submodule_search_locations))) / "config" / "solr" / "schema.xml"


def _section(diff: str, name: str) -> str:
    found = re.findall(rf"<{name}>(.*?)</{name}>", diff, flags=re.DOTALL)
    if len(found) != 1:
        raise ConfigsetError(f"{DIFF.name}: expected one <{name}> section, found {len(found)}")
    return found[0]


def schema_xml(ckan: str, diff: str) -> str:
    """CKAN's schema text with the diff's sections inserted before its closing tags."""
    want = re.search(r'base-sha256="([0-9a-f]{64})"', diff)
    have = hashlib.sha256(ckan.encode("utf-8")).hexdigest()
    if not want or want.group(1) != have:
        raise ConfigsetError(
            f"CKAN's schema.xml (sha256 {have}) is not the file {DIFF.name} was written against"
            f" ({want.group(1) if want else 'none'}). Compare CKAN's new schema with the diff,"
            " adapt the diff if needed, then set base-sha256 in it to the new hash."
        )
    text = ckan
    for anchor, section in (("</types>", "types"), ("</fields>", "fields")):
        if text.count(anchor) != 1:
            raise ConfigsetError(f"CKAN's schema.xml has {text.count(anchor)} {anchor}, not one")
        text = text.replace(anchor, _section(diff, section).strip("\n") + "\n" + anchor)
    if text.count("</schema>") != 1:
        raise ConfigsetError("CKAN's schema.xml does not end in one </schema>")
    copies = _section(diff, "copyFields").strip("\n")
    text = text.replace(
        "</schema>", "<!-- Vier Städte: German search -->\n" + copies + "\n</schema>"
    )
    _check(ET.fromstring(text.encode("utf-8")))
    return text


def council_schema_xml(council: str, diff: str) -> str:
    """The council schema with the diff's German types inserted: one home for the analysis."""
    marker = (
        "<!-- the German types of schema-german.xml (text_de, text_exact, text_spell) go here -->"
    )
    if council.count(marker) != 1:
        raise ConfigsetError(f"{COUNCIL.name}: expected the types marker once")
    text = council.replace(marker, _section(diff, "types").strip("\n"))
    _check(ET.fromstring(text.encode("utf-8")))
    return text


def _check(schema: ET.Element) -> None:
    """Each name once; every copyField and field names what exists."""
    types = [t.get("name") for t in schema.iter("fieldType")]
    fields = [f.get("name") for f in schema.iter("field")]
    for kind, names in (("fieldType", types), ("field", fields)):
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise ConfigsetError(f"schema.xml declares the {kind} {doubles[0]!r} twice")
    for field in schema.iter("field"):
        if field.get("type") not in types:
            raise ConfigsetError(f"field {field.get('name')!r} has the unknown type")
    dynamic = [d.get("name") for d in schema.iter("dynamicField")]
    for copy in schema.iter("copyField"):
        for end in ("source", "dest"):
            name = copy.get(end)
            if name not in fields and name not in dynamic and name != "*":
                raise ConfigsetError(f"copyField {end} {name!r} is no field of the schema")


# --- words ------------------------------------------------------------------------------------


def normalise(word: str) -> str:
    """Lucene's GermanNormalizationFilter on a lowercased word: ä→a, ß→ss, ae/oe/ue→a/o/u."""
    out: list[str] = []
    state = "N"  # N: other, V: vowel, U: a/o or u after a non-vowel (an "e" after it goes)
    for char in word:
        if char in "ao":
            out.append(char)
            state = "U"
        elif char == "u":
            out.append(char)
            state = "U" if state == "N" else "V"
        elif char == "e":
            if state != "U":
                out.append(char)
            state = "V"
        elif char in "iqy":
            out.append(char)
            state = "V"
        elif char in "äöü":
            out.append({"ä": "a", "ö": "o", "ü": "u"}[char])
            state = "V"
        elif char == "ß":
            out.append("ss")
            state = "N"
        else:
            out.append(char)
            state = "N"
    return "".join(out)


@functools.cache
def stopwords() -> frozenset[str]:
    words = set()
    for line in STOPWORDS.read_text(encoding="utf-8").splitlines():
        word = line.split("|", 1)[0].strip()
        if word:
            words.add(word)
    return frozenset(words)


def vocabulary_nouns() -> set[str]:
    """The capitalised words (nouns, names) of the contract's German vocabulary."""
    from vierstaedte_contract import areas, cities, synonyms, vocabularies

    texts: list[str] = []
    for row in vocabularies.indicators().values():
        texts += [row["label_de"], row["definition_de"]]
    for row in vocabularies.units().values():
        texts += [row["label_de"], row.get("symbols", "")]
    for name in ("themes", "frequencies", "geocoding_levels", "spatial_granularities"):
        texts += [item["label"]["de"] for item in vocabularies.vocabulary(name)]
    for city in cities.members():
        texts.append(json.dumps(cities.as_dict(city.name), ensure_ascii=False))
        for area in areas.areas(city.name):
            texts += [area.name, area.level, *area.aliases]
    for terms in synonyms.groups().values():
        texts += [t.term for t in terms if t.lang == "de"]
    texts += [t for t, _ in synonyms.ambiguous().items()]
    return {w for text in texts for w in _WORD.findall(text) if _NOUN.match(w)}


def _suffix_rules(aff: Path, flag: str) -> list[tuple[str, str, re.Pattern]]:
    rules = []
    for line in aff.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0] == "SFX" and parts[1] == flag:
            strip, add = parts[2], parts[3].split("/")[0]
            rules.append(("" if strip == "0" else strip, add, re.compile(f"(?:{parts[4]})$")))
    return rules


def hunspell_words(dic: Path) -> tuple[set[str], set[str]]:
    """The nouns of a hunspell dictionary, and all its words (to tell compounds by).

    Nouns are the capitalised stems, the -ung nouns of its verbs (suffix flag J: "Bevölkern"
    → "Bevölkerung") and the nouns behind its compound-start forms with a linking s
    ("Entwicklungs", flagged NEEDAFFIX). Other stems flagged NEEDAFFIX, ONLYINCOMPOUND or
    FORBIDDEN (h, o, d in igerman98) are no words of their own. Left out as subwords: verbs
    used as nouns ("Erzählen", also a verb) and plurals of another noun ("Völker" of "Volk"):
    inside longer words they are mostly chance ("bevölkerung"), and the singular is there.
    """
    if not dic.is_file():
        raise ConfigsetError(f"{dic} is missing: install the Debian package hunspell-de-de")
    ung = [r for r in _suffix_rules(dic.with_suffix(".aff"), "J") if r[1].endswith("ung")]
    nouns, words = set(), set()
    for line in dic.read_text(encoding="utf-8").splitlines()[1:]:
        word, _, flags = line.strip().partition("/")
        if _NOUN.match(word) and "h" in flags and word.endswith("s") and len(word) > 5:
            nouns.add(word[:-1])
        if set(flags) & set("hod") or not _WORD.fullmatch(word):
            continue
        words.add(word)
        if _NOUN.match(word):
            nouns.add(word)
        if "J" in flags:
            for strip, add, condition in ung:
                if condition.search(word) and word.endswith(strip):
                    derived = word[: len(word) - len(strip)] + add
                    nouns.add(derived[0].upper() + derived[1:])
                    break
    lower = {w for w in words if w.islower()}
    keys = {normalise(n.lower()) for n in nouns}
    nouns = {
        n
        for n in nouns
        if n.lower() not in lower
        and not any(
            n.endswith(end) and normalise(n[: -len(end)].lower()) in keys for end in _PLURALS
        )
    }
    return nouns, words | nouns


def _splits(word: str, words: frozenset[str] | set[str], start: int = 0) -> bool:
    """word[start:] is dictionary words, each maybe followed by a linking element, the last
    maybe by an ending ("wahl|ergebnis|se")."""
    for end in range(start + MIN_SUBWORD, len(word) + 1):
        if start == 0 and end == len(word):
            break  # the word itself is no split of it
        if word[start:end] not in words:
            continue
        if start and (end == len(word) or word[end:] in _PLURALS):
            return True
        for link in LINKS:
            nxt = end + len(link)
            if word.startswith(link, end) and nxt < len(word) and _splits(word, words, nxt):
                return True
    return False


def compound_dictionary(
    vocabulary: Iterable[str], nouns: Iterable[str], words: Iterable[str] = ()
) -> list[str]:
    """The atoms: lowercased, no stop word, no word made of two others.

    A word is a compound if it splits into words of the vocabulary or of hunspell (nouns or
    not: "Kommunalwahl" is "kommunal" + "wahl"); only nouns are subwords.
    """
    stop = stopwords()

    def norm(items: Iterable[str], shortest: int) -> set[str]:
        found = {w.lower() for w in items if len(w) >= shortest}
        return {w for w in found if len(w) <= MAX_SUBWORD and w not in stop}

    civic = set(civic_words())
    own = norm(vocabulary, MIN_SUBWORD)
    theirs = norm(nouns, MIN_HUNSPELL) - own - _ENDINGS
    every = frozenset(own | theirs | civic | norm(words, MIN_HUNSPELL))
    atoms = {w for w in own | theirs if not _splits(w, every)} | civic
    plurals = {w + "en" for w in atoms if w.endswith(_EN_PLURALS)}
    plurals |= {w + "nen" for w in atoms if w.endswith("in") and len(w) > 5}
    return sorted(atoms | plurals)


def civic_words() -> list[str]:
    """Our own list of civic nouns that are parts though short, plural or compound."""
    lines = CIVIC.read_text(encoding="utf-8").splitlines()
    return [w for w in (line.split("#", 1)[0].strip().lower() for line in lines) if w]


def hyphenation_xml(dic: Path) -> str:
    """libhyphen's German syllable patterns as the FOP XML Lucene's PatternParser reads.

    Debian's hyph_de_DE.dic has two levels: compound boundaries from a word list, then (after
    NEXTLEVEL) the Liang patterns of TeX's dehyphn.tex for syllables. The compound filter only
    needs syllables (its dictionary finds the parts), so the second level is taken; its letters
    become the classes (each with its capital), which Lucene requires of every letter.
    """
    if not dic.is_file():
        raise ConfigsetError(f"{dic} is missing: install the Debian package hyphen-de")
    lines = dic.read_text(encoding="latin-1").splitlines()
    if "NEXTLEVEL" in lines:
        lines = lines[lines.index("NEXTLEVEL") + 1 :]
    patterns = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line and not line.isupper() and re.fullmatch(r"[.\d\w]+", line):
            patterns.append(line)
    if len(patterns) < 1000:
        raise ConfigsetError(f"{dic}: only {len(patterns)} hyphenation patterns")
    letters = sorted({c for p in patterns for c in p if c.isalpha()})
    classes = "\n".join(
        c + c.upper() if c.upper() != c and len(c.upper()) == 1 else c for c in letters
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- Generated by scripts/solr/configset.py from Debian's hyphen-de (hyph_de_DE.dic,"
        " LGPL-2+, after TeX's dehyphn.tex, LPPL): the syllable patterns. -->\n"
        "<hyphenation-info>\n<classes>\n"
        + classes
        + "\n</classes>\n<patterns>\n"
        + "\n".join(patterns)
        + "\n</patterns>\n</hyphenation-info>\n"
    )


# --- synonyms ---------------------------------------------------------------------------------


def synonyms_file() -> str:
    """Solr's synonyms format, one line per group of the contract: its equivalent terms as an
    equivalence (``a, b``), or, when it has narrower terms, one way (``a, b => a, b, n``): the
    general words find the specific ones, a specific word finds only itself."""
    from vierstaedte_contract import synonyms

    lines = [
        "# Generated by scripts/solr/configset.py from the contract's synonyms.csv: edit that.",
        "# Ambiguous words are not expanded: "
        + ", ".join(f"{t} ({'|'.join(s)})" for t, s in synonyms.ambiguous().items()),
    ]
    for group, terms in synonyms.groups().items():
        same = ", ".join(t.term.lower() for t in terms if t.kind == synonyms.EQUIVALENT)
        narrower = ", ".join(t.term.lower() for t in terms if t.kind == synonyms.NARROWER)
        lines.append(f"# {group}")
        lines.append(f"{same} => {same}, {narrower}" if narrower else same)
    return "\n".join(lines) + "\n"


def synonym_words() -> str:
    """Every word of every synonym: the query analyzer does not decompound them."""
    from vierstaedte_contract import synonyms

    terms = [t.term for group in synonyms.groups().values() for t in group]
    terms += list(synonyms.ambiguous())
    words = sorted({w for term in terms for w in _WORD.findall(term.lower())})
    return (
        "# Generated by scripts/solr/configset.py: the words of synonyms.csv\n"
        + "\n".join(words)
        + "\n"
    )


# --- the conf directory -----------------------------------------------------------------------


def build(
    outdir: Path,
    hunspell: Path = HUNSPELL,
    ckan_schema: Path | None = None,
    stock: bool = False,
    hyphen: Path = HYPHEN,
    council: bool = False,
) -> dict[str, int | float]:
    """Write the conf directory; returns figures for the report (sizes, seconds)."""
    started = time.perf_counter()
    if council:
        schema = council_schema_xml(COUNCIL.read_text(encoding="utf-8"), DIFF.read_text("utf-8"))
        return _write(outdir, schema, hunspell, hyphen, started, {})
    ckan = (ckan_schema or ckan_schema_path()).read_text(encoding="utf-8")
    if stock:
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "schema.xml").write_text(ckan, encoding="utf-8")
        (outdir / "solrconfig.xml").write_text(SOLRCONFIG.read_text(encoding="utf-8"))
        for name, text in CKAN_FILES.items():
            (outdir / name).write_text(text, encoding="utf-8")
        return {"seconds": round(time.perf_counter() - started, 2)}
    schema = schema_xml(ckan, DIFF.read_text(encoding="utf-8"))
    return _write(outdir, schema, hunspell, hyphen, started, CKAN_FILES)


def _write(
    outdir: Path, schema: str, hunspell: Path, hyphen: Path, started: float, extra: dict
) -> dict[str, int | float]:
    """The schema, solrconfig.xml and the German word lists (and ``extra`` files) in outdir."""
    vocabulary = vocabulary_nouns()
    nouns, words = hunspell_words(hunspell)
    dictionary = compound_dictionary(vocabulary, nouns, words)
    hyphenation = hyphenation_xml(hyphen)
    outdir.mkdir(parents=True, exist_ok=True)
    header = (
        "# Generated by scripts/solr/configset.py: the nouns of our vocabulary and of hunspell's"
        " German dictionary (igerman98, GPL-2+, Debian hunspell-de-de), reduced to atoms.\n"
    )
    contents = {
        "schema.xml": schema,
        "solrconfig.xml": SOLRCONFIG.read_text(encoding="utf-8"),
        "stopwords_de.txt": STOPWORDS.read_text(encoding="utf-8"),
        "synonyms_de.txt": synonyms_file(),
        "synonym_words_de.txt": synonym_words(),
        "compounds_de.txt": header + "\n".join(dictionary) + "\n",
        "hyphenation_de.xml": hyphenation,
        **extra,
    }
    for name, text in contents.items():
        (outdir / name).write_text(text, encoding="utf-8")
    return {
        "vocabulary_nouns": len(vocabulary),
        "hunspell_nouns": len(nouns),
        "dictionary_words": len(dictionary),
        "seconds": round(time.perf_counter() - started, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, help="the conf directory to write")
    parser.add_argument("--hunspell", type=Path, default=HUNSPELL, help="a hunspell .dic file")
    parser.add_argument("--hyphen", type=Path, default=HYPHEN, help="a libhyphen .dic file")
    parser.add_argument("--ckan-schema", type=Path, help="CKAN's schema.xml (default: installed)")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--stock", action="store_true", help="CKAN's schema without our diff")
    kind.add_argument("--council", action="store_true", help="the council core's conf")
    args = parser.parse_args(argv)
    try:
        figures = build(
            args.outdir, args.hunspell, args.ckan_schema, args.stock, args.hyphen, args.council
        )
    except ConfigsetError as error:
        print(f"configset.py: {error}", file=sys.stderr)
        return 1
    if args.stock:
        print(f"configset.py: wrote {args.outdir} (CKAN's stock schema)", file=sys.stderr)
        return 0
    print(
        "configset.py: wrote {dir} ({dictionary_words} dictionary words from {vocabulary_nouns}"
        " vocabulary and {hunspell_nouns} hunspell nouns, {seconds} s)".format(
            dir=args.outdir, **figures
        ),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
