"""The search benchmark's catalogue: 2,049 datasets of the four cities, generated from our vocabulary.

A city portal is many near-identical yearly tables ("Bevölkerung nach Altersgruppen 2019",
"… 2020"), titled in each statistics office's own words, plus documents, maps and lists that
are no statistics at all. So the catalogue is made of *kinds* of dataset — a topic with its
contract indicators, breakdowns, title and description templates — instantiated per city and
year, the wording picked by a seeded random generator (synonyms, compounds, abbreviations,
"Stadtteile" vs "Ortsbezirke"). Every table dataset gets a small normalised table of the
contract (its indicators, the city's real areas from ``areas/*.csv``, its periods, the parties
of an election), so the words the extension indexes from the table are real.

Each dataset is a :class:`Spec`: the published fields plus the facts it was generated from
(topic, indicators, years, areas, parties, election). A query's relevant datasets are the
specs its *rule* matches (:func:`matches`); ``bench/search_queries.yaml`` keeps both the rule
and the names it gave (``python -m bench.search --write-queries``), and the benchmark checks
the two still agree. The demo data (harvested from ``demo/payloads``) is described the same
way by hand in :data:`DEMO`, from its source files.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from dataclasses import dataclass, field

from vierstaedte_contract import areas, cities

SEED = 15
CITIES = ("mainz", "trier", "koblenz", "ludwigshafen")
YEARS = tuple(range(2012, 2025))
LEVEL = {"mainz": "ortsbezirk", "trier": "ortsbezirk", "koblenz": "stadtteil"}
LEVEL_WORDS = {  # nominative plural, dative plural, singular; "Stadtbezirke" as some offices say
    "ortsbezirk": [("Ortsbezirke", "Ortsbezirken", "Ortsbezirk")],
    "stadtteil": [
        ("Stadtteile", "Stadtteilen", "Stadtteil"),
        ("Stadtbezirke", "Stadtbezirken", "Stadtbezirk"),
    ],
}
OFFICE = {
    "mainz": "Amt für Stadtforschung und nachhaltige Stadtentwicklung",
    "trier": "Amt für Stadt- und Quartiersforschung",
    "koblenz": "Kommunalstatistik und Stadtforschung",
    "ludwigshafen": "Stadtentwicklung, Statistikstelle",
}
AGES = (
    "0-2",
    "3-5",
    "6-9",
    "10-14",
    "15-17",
    "18-24",
    "25-29",
    "30-44",
    "45-59",
    "60-64",
    "65-74",
    "75+",
)
ELECTIONS = {  # type -> {year: date}
    "stadtrat": {2014: "2014-05-25", 2019: "2019-05-26", 2024: "2024-06-09"},
    "ortsbeirat": {2014: "2014-05-25", 2019: "2019-05-26", 2024: "2024-06-09"},
    "bundestag": {2013: "2013-09-22", 2017: "2017-09-24", 2021: "2021-09-26"},
    "landtag": {2016: "2016-03-13", 2021: "2021-03-14"},
    "europa": {2014: "2014-05-25", 2019: "2019-05-26", 2024: "2024-06-09"},
}
MAYOR = {  # Oberbürgermeisterwahlen (candidates, not parties)
    "mainz": {2019: "2019-10-27", 2023: "2023-02-12"},
    "trier": {2022: "2022-09-25"},
    "koblenz": {2017: "2017-09-24"},
    "ludwigshafen": {2017: "2017-09-24"},
}
ELECTION_NAMES = {  # title word, dative with article
    "stadtrat": ("Stadtratswahl", "der Stadtratswahl"),
    "ortsbeirat": ("Ortsbeiratswahl", "den Ortsbeiratswahlen"),
    "bundestag": ("Bundestagswahl", "der Bundestagswahl"),
    "landtag": ("Landtagswahl", "der Landtagswahl"),
    "europa": ("Europawahl", "der Europawahl"),
}


def parties(kind: str, year: int) -> list[str]:
    out = ["CDU", "SPD", "GRÜNE", "FDP", "AfD", "DIE LINKE"]
    if kind in ("stadtrat", "ortsbeirat", "landtag", "europa"):
        out.append("FREIE WÄHLER")
    if kind in ("stadtrat", "europa") and year >= 2019:
        out += ["Volt", "Die PARTEI"]
    if kind in ("stadtrat", "ortsbeirat"):
        out.append("ÖDP")
    return out


@dataclass
class Spec:
    name: str
    city: str
    kind: str  # "table" (a normalised table in the DataStore) or "doc" (links only)
    topic: str
    sub: str = ""
    title: str = ""
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    breakdown: list[str] = field(default_factory=list)
    election: str = ""
    parties: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)  # area names of its table
    level: str = "stadt"
    blocks: list[dict] = field(default_factory=list)  # row blocks: indicators × cuts × dims
    rows_areas: list[tuple[str, str, str]] = field(default_factory=list)  # (level, code, name)
    periods: list[str] = field(default_factory=list)
    granularity: str = "stadt"
    demo: bool = False


def level(city: str) -> str:
    return LEVEL.get(city, "stadtteil")


def slug(text: str) -> str:
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


# --- the kinds of table ------------------------------------------------------------------------
# topic, sub, indicators, breakdown, district-level?, title templates, description templates, tags.
# Placeholders: {year} {stadt} {lvl} (nom. plural) {lvl_dat} (dat. plural) {lvl_sg} {office}
TABLES = [
    (
        "population",
        "age",
        ["population_total"],
        ["age"],
        True,
        [
            "Bevölkerung nach Altersgruppen in den {lvl_dat} {year}",
            "Einwohner nach Altersgruppen und {lvl_sg} am 31.12.{year}",
            "Altersstruktur der Bevölkerung {year} – {lvl}",
            "Einwohnerinnen und Einwohner nach Alter, {lvl}, {year}",
        ],
        [
            "Wohnberechtigte Bevölkerung mit Hauptwohnsitz in {stadt} am 31.12.{year}, gegliedert "
            "nach {lvl_dat} und Altersgruppen (unter 3 Jahre bis 75 Jahre und älter). Quelle: "
            "Einwohnermelderegister; {office}.",
            "Anzahl der Personen mit Hauptwohnsitz nach Altersklassen je {lvl_sg}, Stichtag "
            "31. Dezember {year}. Auswertung des Melderegisters durch {office}.",
        ],
        ["Bevölkerung", "Alter", "Demografie", "Statistik", "Einwohner"],
    ),
    (
        "population",
        "sex",
        ["population_total"],
        ["sex"],
        True,
        [
            "Einwohner nach Geschlecht in den {lvl_dat} {year}",
            "Bevölkerung {year} nach {lvl_sg} und Geschlecht",
            "Einwohnerzahlen {year}: Frauen und Männer je {lvl_sg}",
        ],
        [
            "Einwohnerinnen und Einwohner mit Hauptwohnsitz nach Geschlecht in den {lvl_dat} von "
            "{stadt}, Stand 31.12.{year}. {office}.",
            "Bevölkerungsstand am Jahresende {year} nach {lvl_dat}, weiblich und männlich.",
        ],
        ["Bevölkerung", "Geschlecht", "Einwohnerzahl", "Statistik"],
    ),
    (
        "population",
        "nationality",
        ["population_total"],
        ["nationality"],
        True,
        [
            "Deutsche und ausländische Bevölkerung {year} nach {lvl_dat}",
            "Einwohner nach Staatsangehörigkeit, {lvl}, 31.12.{year}",
            "Ausländische Einwohnerinnen und Einwohner in den {lvl_dat} {year}",
        ],
        [
            "Bevölkerung mit Hauptwohnsitz nach deutscher und nichtdeutscher Staatsangehörigkeit je "
            "{lvl_sg}, Stichtag 31.12.{year}. Quelle: Melderegister, {office}."
        ],
        ["Ausländer", "Staatsangehörigkeit", "Migration", "Bevölkerung"],
    ),
    (
        "population",
        "midyear",
        ["population_total"],
        [],
        True,
        ["Bevölkerungsstand am 30.06.{year}", "Einwohner zur Jahresmitte {year} nach {lvl_dat}"],
        ["Einwohnerinnen und Einwohner mit Hauptwohnsitz am 30. Juni {year} je {lvl_sg}."],
        ["Bevölkerung", "Einwohner"],
    ),
    (
        "population",
        "secondary",
        ["population_secondary_residence"],
        [],
        True,
        ["Einwohner mit Nebenwohnsitz {year}", "Nebenwohnsitze nach {lvl_dat} {year}"],
        ["Personen, die in {stadt} mit Nebenwohnsitz gemeldet sind, je {lvl_sg}, 31.12.{year}."],
        ["Nebenwohnsitz", "Melderegister"],
    ),
    (
        "age",
        "average",
        ["average_age"],
        [],
        True,
        [
            "Durchschnittsalter der Bevölkerung nach {lvl_dat} {year}",
            "Durchschnittsalter {year} – {lvl}",
        ],
        [
            "Mittleres Alter der Einwohnerinnen und Einwohner mit Hauptwohnsitz je {lvl_sg} am "
            "31.12.{year} in Jahren. {office}."
        ],
        ["Alter", "Demografie"],
    ),
    (
        "density",
        "density",
        ["population_density", "area_total"],
        [],
        True,
        ["Bevölkerungsdichte der {lvl} {year}", "Einwohner je km² nach {lvl_dat} {year}"],
        ["Einwohner je Quadratkilometer und Gebietsfläche in Hektar je {lvl_sg}, {year}."],
        ["Fläche", "Dichte"],
    ),
    (
        "area",
        "land_use",
        ["land_use_area", "area_total"],
        ["land_use"],
        True,
        [
            "Flächennutzung {year} nach Nutzungsarten",
            "Fläche nach Art der tatsächlichen Nutzung {year}",
            "Bodenfläche nach Nutzungsarten, {lvl}, {year}",
        ],
        [
            "Gebietsfläche in Hektar nach Nutzungsarten (Wohnbau, Gewerbe, Verkehr, Landwirtschaft, "
            "Wald, Wasser) des Liegenschaftskatasters, {year}."
        ],
        ["Fläche", "Flächennutzung", "Kataster", "Umwelt"],
    ),
    (
        "households",
        "size",
        ["households"],
        ["household_size"],
        True,
        [
            "Privathaushalte nach Haushaltsgröße {year}",
            "Haushalte nach Zahl der Personen in den {lvl_dat} {year}",
            "Ein- und Mehrpersonenhaushalte {year}",
            "Haushaltsstruktur {year} nach {lvl_dat}",
        ],
        [
            "Privathaushalte nach Zahl der Personen (Haushaltegenerierung aus dem Melderegister) je "
            "{lvl_sg}, 31.12.{year}. {office}.",
            "Zahl der Haushalte mit einer, zwei, drei, vier und mehr Personen in {stadt}, {year}.",
        ],
        ["Haushalte", "Wohnen", "Demografie"],
    ),
    (
        "births",
        "",
        ["births"],
        ["sex"],
        True,
        [
            "Lebendgeborene nach {lvl_dat} {year}",
            "Geburten {year} nach Geschlecht und {lvl_sg}",
            "Geborene in {stadt} {year}",
        ],
        [
            "Lebendgeborene Kinder von Müttern mit Hauptwohnsitz in {stadt} im Jahr {year}, nach "
            "Geschlecht und {lvl_sg}."
        ],
        ["Geburten", "Natürliche Bevölkerungsbewegung", "Demografie"],
    ),
    (
        "deaths",
        "",
        ["deaths"],
        ["age"],
        True,
        ["Gestorbene nach Altersgruppen {year}", "Sterbefälle {year} nach {lvl_dat}"],
        [
            "Gestorbene Einwohnerinnen und Einwohner im Jahr {year} nach Alter und {lvl_sg}. "
            "{office}."
        ],
        ["Sterbefälle", "Natürliche Bevölkerungsbewegung"],
    ),
    (
        "natural",
        "",
        ["births", "deaths"],
        [],
        False,
        [
            "Natürliche Bevölkerungsbewegung {year}: Geburten und Sterbefälle",
            "Geborene und Gestorbene {year}",
        ],
        ["Lebendgeborene und Gestorbene mit Hauptwohnsitz in {stadt}, Jahressumme {year}."],
        ["Demografie"],
    ),
    (
        "migration",
        "in_out",
        ["moves_in", "moves_out"],
        [],
        True,
        [
            "Wanderungen {year}: Zu- und Fortzüge nach {lvl_dat}",
            "Zuzüge und Wegzüge {year}",
            "Wanderungsbewegungen über die Stadtgrenze {year}",
        ],
        ["Zuzüge nach und Fortzüge aus {stadt} über die Stadtgrenze im Jahr {year}, je {lvl_sg}."],
        ["Wanderungen", "Migration", "Demografie"],
    ),
    (
        "migration",
        "within",
        ["moves_within"],
        [],
        True,
        ["Umzüge innerhalb der Stadt {year}", "Innerstädtische Umzüge nach {lvl_dat} {year}"],
        ["Umzüge innerhalb von {stadt} im Jahr {year} nach Zielgebiet ({lvl_sg})."],
        ["Umzüge", "Wanderungen"],
    ),
    (
        "unemployment",
        "sgb",
        ["unemployed"],
        ["sgb"],
        True,
        [
            "Arbeitslose nach SGB II und SGB III, {lvl}, Dezember {year}",
            "Arbeitslose nach Rechtskreisen (SGB II/SGB III) {year}",
            "Arbeitslosigkeit in den {lvl_dat} {year}",
        ],
        [
            "Arbeitslose nach Rechtskreis (SGB III: Agentur für Arbeit, SGB II: Jobcenter) je "
            "{lvl_sg}, Stichtag Dezember {year}. Quelle: Statistik der Bundesagentur für Arbeit."
        ],
        ["Arbeitsmarkt", "Arbeitslosigkeit", "SGB II"],
    ),
    (
        "unemployment",
        "rate",
        ["unemployment_rate", "unemployed"],
        [],
        False,
        [
            "Arbeitslosenquote {year}",
            "Arbeitslosenquote und Arbeitslose im Jahresdurchschnitt {year}",
            "Arbeitsmarkt {year}: Arbeitslosenquote",
        ],
        [
            "Arbeitslose und Arbeitslosenquote bezogen auf alle zivilen Erwerbspersonen, "
            "Jahresdurchschnitt {year}, {stadt}. Quelle: Bundesagentur für Arbeit."
        ],
        ["Arbeitsmarkt", "Quote"],
    ),
    (
        "employment",
        "",
        ["employees_social_insurance"],
        ["sex"],
        False,
        [
            "Sozialversicherungspflichtig Beschäftigte am Wohnort {year}",
            "SV-Beschäftigte am Arbeitsort {year}",
            "Beschäftigte nach Geschlecht {year}",
        ],
        [
            "Sozialversicherungspflichtig Beschäftigte (30.06.{year}) nach Geschlecht. Quelle: "
            "Beschäftigungsstatistik der Bundesagentur für Arbeit."
        ],
        ["Arbeitsmarkt", "Beschäftigung", "Wirtschaft"],
    ),
]
BUDGET = [
    (
        "ergebnis",
        [
            "Haushaltsplan {year} – Ergebnishaushalt",
            "Ergebnishaushalt {year}: Erträge und Aufwendungen",
            "Haushaltsplan {year}: Teilergebnishaushalte nach Produktbereichen",
        ],
    ),
    (
        "finanz",
        ["Haushaltsplan {year} – Finanzhaushalt", "Finanzhaushalt {year}: Ein- und Auszahlungen"],
    ),
]
BUDGET_ITEMS = (
    "Steuern und ähnliche Abgaben",
    "Zuwendungen und allgemeine Umlagen",
    "Personalaufwendungen",
    "Sozialtransferaufwendungen",
    "Sach- und Dienstleistungen",
)
LAND_USE = (
    "Wohnbaufläche",
    "Industrie- und Gewerbefläche",
    "Verkehrsfläche",
    "Landwirtschaft",
    "Wald",
    "Gewässer",
)
HOUSEHOLD_SIZES = ("1 Person", "2 Personen", "3 Personen", "4 Personen", "5 und mehr Personen")

# --- the kinds of document (links only): topic, sub, years or None, titles, notes, tags ------
DOCS = [
    (
        "kita",
        "",
        None,
        [
            "Kindertagesstätten – Standorte",
            "Kitas in {stadt}",
            "Kindertageseinrichtungen: Standorte und Plätze",
        ],
        "Standorte, Träger und Platzzahlen der Kindertageseinrichtungen in {stadt}.",
        ["Kinderbetreuung", "Bildung"],
    ),
    (
        "kita",
        "plan",
        YEARS,
        ["Kita-Bedarfsplanung {year}", "Bedarfsplan Kindertagesbetreuung {year}"],
        "Bedarfsplanung der Kindertagesbetreuung {year} (PDF).",
        ["Kinderbetreuung"],
    ),
    (
        "playground",
        "",
        None,
        ["Spielplätze", "Spiel- und Bolzplätze in {stadt}"],
        "Lage und Ausstattung der öffentlichen Spielplätze (GeoJSON).",
        ["Freizeit", "Kinder"],
    ),
    (
        "trees",
        "",
        None,
        ["Baumkataster", "Straßenbäume im Stadtgebiet", "Baumstandorte"],
        "Standorte, Art und Pflanzjahr der städtischen Bäume.",
        ["Umwelt", "Grünflächen"],
    ),
    (
        "transit",
        "",
        None,
        ["Haltestellen des ÖPNV", "Bushaltestellen", "Fahrplandaten (GTFS)"],
        "Haltestellen und Linien des öffentlichen Nahverkehrs in {stadt}.",
        ["Verkehr", "Mobilität"],
    ),
    (
        "parking",
        "",
        None,
        ["Parkhäuser und Parkplätze", "Parkhausbelegung (Echtzeit)", "Parkscheinautomaten"],
        "Parkhäuser, Parkplätze und Parkscheinautomaten mit Kapazität.",
        ["Verkehr", "Parken"],
    ),
    (
        "cycling",
        "",
        None,
        ["Radverkehrsnetz", "Radwege im Stadtgebiet", "Fahrradabstellanlagen"],
        "Radwege, Radfahrstreifen und Abstellanlagen (GeoJSON).",
        ["Verkehr", "Fahrrad"],
    ),
    (
        "schools",
        "",
        None,
        ["Schulen in {stadt}", "Allgemeinbildende Schulen – Standorte"],
        "Standorte der allgemeinbildenden und berufsbildenden Schulen.",
        ["Bildung", "Schule"],
    ),
    (
        "schools",
        "pupils",
        YEARS[::2],
        ["Schülerzahlen {year}", "Schülerinnen und Schüler nach Schularten {year}"],
        "Schülerinnen und Schüler an den Schulen in {stadt}, Schuljahr {year}/{next} (PDF).",
        ["Bildung", "Schule"],
    ),
    (
        "cemeteries",
        "",
        None,
        ["Friedhöfe", "Friedhöfe und Grabfelder"],
        "Lage und Öffnungszeiten der städtischen Friedhöfe.",
        ["Friedhof"],
    ),
    (
        "council",
        "",
        YEARS[4:],
        ["Sitzungskalender des Stadtrats {year}", "Ratsinformationssystem: Beschlüsse {year}"],
        "Sitzungstermine und Beschlüsse des Stadtrates und der Ausschüsse {year}.",
        ["Politik", "Stadtrat"],
    ),
    (
        "rent",
        "",
        YEARS[::2],
        ["Mietspiegel {year}", "Qualifizierter Mietspiegel {year}"],
        "Ortsübliche Vergleichsmieten für nicht preisgebundenen Wohnraum in {stadt}, {year} (PDF).",
        ["Wohnen", "Miete"],
    ),
    (
        "air",
        "",
        YEARS,
        ["Luftqualität: Messwerte {year}", "Stickstoffdioxid-Messungen {year}"],
        "Tagesmittelwerte der Luftschadstoffe an den Messstationen in {stadt}, {year}.",
        ["Umwelt", "Luft"],
    ),
    (
        "traffic",
        "",
        YEARS,
        ["Verkehrszählungen {year}", "Verkehrsmengenkarte {year}"],
        "Ergebnisse der Verkehrszählungen an Knotenpunkten, {year}.",
        ["Verkehr"],
    ),
    (
        "tourism",
        "",
        YEARS,
        ["Gästeankünfte und Übernachtungen {year}", "Tourismusstatistik {year}"],
        "Ankünfte und Übernachtungen in Beherbergungsbetrieben mit zehn und mehr Betten, {year}.",
        ["Tourismus", "Wirtschaft"],
    ),
    (
        "building",
        "",
        YEARS,
        ["Baugenehmigungen und Baufertigstellungen {year}", "Bautätigkeit {year}"],
        "Genehmigte und fertiggestellte Wohngebäude und Wohnungen in {stadt}, {year}.",
        ["Bauen", "Wohnen"],
    ),
    (
        "vehicles",
        "",
        YEARS,
        ["Kfz-Bestand {year}", "Kraftfahrzeugbestand nach Fahrzeugarten {year}"],
        "Zugelassene Kraftfahrzeuge am 1. Januar {year} nach Fahrzeugart.",
        ["Verkehr"],
    ),
    (
        "map",
        "",
        YEARS[::3],
        ["Luftbilder {year}", "Digitale Orthophotos {year}"],
        "Luftbilder des Stadtgebiets (WMS), Befliegung {year}.",
        ["Geodaten", "Karte"],
    ),
    (
        "map",
        "plan",
        None,
        ["Stadtplan (WMS)", "Bebauungspläne", "Flächennutzungsplan"],
        "Kartendienst der Stadtverwaltung {stadt}.",
        ["Geodaten", "Planung"],
    ),
    (
        "monuments",
        "",
        None,
        ["Denkmalliste", "Kulturdenkmäler"],
        "Verzeichnis der Kulturdenkmäler in {stadt}.",
        ["Kultur"],
    ),
    (
        "social",
        "",
        YEARS,
        [
            "Leistungsberechtigte nach dem SGB II {year}",
            "Grundsicherung im Alter und bei Erwerbsminderung (SGB XII) {year}",
        ],
        "Empfängerinnen und Empfänger von Sozialleistungen in {stadt}, Dezember {year}.",
        ["Soziales"],
    ),
    (
        "survey",
        "",
        YEARS[::3],
        ["Bürgerumfrage {year}", "Bürgerbefragung {year}: Ergebnisbericht"],
        "Ergebnisse der repräsentativen Befragung der Bürgerinnen und Bürger {year} (PDF).",
        ["Befragung"],
    ),
    (
        "waste",
        "",
        YEARS[6:],
        ["Abfallkalender {year}", "Müllabfuhrtermine {year}"],
        "Abfuhrtermine für Restmüll, Bioabfall, Papier und Gelbe Säcke {year}.",
        ["Abfall"],
    ),
    (
        "energy",
        "",
        YEARS[4:],
        ["Energieverbrauch städtischer Gebäude {year}", "Energiebericht {year}"],
        "Strom-, Wärme- und Wasserverbrauch der städtischen Liegenschaften {year}.",
        ["Energie", "Umwelt"],
    ),
    (
        "library",
        "",
        YEARS[4:],
        [
            "Stadtbibliothek: Ausleihen {year}",
            "Medienbestand und Ausleihen der Stadtbibliothek {year}",
        ],
        "Jahresstatistik der Stadtbibliothek {year}.",
        ["Kultur", "Bildung"],
    ),
    (
        "events",
        "",
        YEARS,
        ["Veranstaltungskalender {year}", "Märkte und Feste {year}"],
        "Termine der Märkte, Feste und Veranstaltungen in {stadt} {year}.",
        ["Freizeit", "Kultur"],
    ),
    (
        "fire",
        "",
        YEARS,
        ["Einsätze der Berufsfeuerwehr {year}", "Feuerwehr: Einsatzstatistik {year}"],
        "Brände, technische Hilfeleistungen und Rettungsdiensteinsätze {year}.",
        ["Sicherheit"],
    ),
    (
        "water",
        "",
        YEARS,
        ["Pegelstände {year}", "Hochwassermeldungen {year}"],
        "Tageswerte der Wasserstände am Pegel {stadt}, {year}.",
        ["Umwelt", "Wasser"],
    ),
    (
        "weather",
        "",
        YEARS,
        ["Wetterdaten {year}", "Niederschlag und Temperatur {year}"],
        "Stundenwerte der städtischen Wetterstation, {year}.",
        ["Klima", "Umwelt"],
    ),
    (
        "culture",
        "",
        YEARS,
        ["Museen: Besucherzahlen {year}", "Besucherzahlen der städtischen Museen {year}"],
        "Besucherinnen und Besucher der städtischen Museen und Ausstellungen {year}.",
        ["Kultur"],
    ),
    (
        "sport",
        "",
        None,
        ["Sportstätten", "Schwimmbäder und Sporthallen"],
        "Städtische Sportanlagen, Hallen und Bäder mit Adressen.",
        ["Sport", "Freizeit"],
    ),
    (
        "citizens",
        "",
        YEARS[4:],
        ["Bürgerbüro: Wartezeiten und Vorgänge {year}", "Bürgeramt – Kennzahlen {year}"],
        "Vorgänge und mittlere Wartezeiten im Bürgerbüro {year}.",
        ["Verwaltung"],
    ),
    (
        "population",
        "forecast",
        YEARS[2::4],
        [
            "Bevölkerungsprognose {year} bis 2040",
            "Kleinräumige Bevölkerungsvorausberechnung {year}",
        ],
        "Vorausberechnung der Einwohnerzahl bis 2040 nach Altersgruppen (Bericht, PDF), {year}.",
        ["Bevölkerung", "Prognose"],
    ),
    (
        "budget",
        "statute",
        YEARS[5:],
        ["Haushaltssatzung {year}", "Haushaltssatzung und Haushaltsplan {year} (PDF)"],
        "Haushaltssatzung der Stadt {stadt} für das Haushaltsjahr {year} mit Anlagen.",
        ["Finanzen", "Haushalt"],
    ),
    (
        "budget",
        "accounts",
        YEARS[5:-1],
        ["Jahresabschluss {year}", "Gesamtabschluss {year}"],
        "Jahresabschluss der Stadt {stadt} für {year}: Ergebnis- und Finanzrechnung (PDF).",
        ["Finanzen"],
    ),
    (
        "election",
        "polling",
        None,
        ["Wahllokale", "Wahlräume und Briefwahlbezirke"],
        "Standorte der Wahllokale (Wahlräume) und Zuordnung der Wahlbezirke (GeoJSON).",
        ["Wahlen"],
    ),
]

# The demo data (demo/payloads): what its source files hold, written down by hand.
DEMO = [
    Spec(
        "mainz-einwohner-ortsbezirke-mainz-80de10f0",
        "mainz",
        "table",
        "population",
        "",
        years=[2021, 2022, 2023],
        indicators=["population_total"],
        level="ortsbezirk",
        areas=["Mainz", "Altstadt", "Gonsenheim", "Hartenberg-Münchfeld", "Neustadt", "Oberstadt"],
        demo=True,
    ),
    Spec(
        "mainz-stadtratswahl-2024-mainz-d7ace25b",
        "mainz",
        "table",
        "election",
        "results",
        years=[2024],
        election="stadtrat",
        level="ortsbezirk",
        indicators=[
            "election_turnout",
            "eligible_voters",
            "vote_share_by_party",
            "voters",
            "votes_by_party",
        ],
        parties=["CDU", "DIE LINKE", "GRÜNE", "SPD"],
        areas=["Altstadt", "Gonsenheim", "Weisenau"],
        demo=True,
    ),
    Spec("mainz-stadtplan-mainz-wms-e2398f76", "mainz", "doc", "map", "plan", demo=True),
    Spec(
        "trier-bevoelkerung-alter-trier-2023-a7608d66",
        "trier",
        "table",
        "population",
        "age",
        years=[2023],
        indicators=["population_share", "population_total"],
        breakdown=["age", "sex"],
        areas=["Trier"],
        demo=True,
    ),
    Spec("trier-ortsbeiraete-trier-32825299", "trier", "doc", "council", "", demo=True),
    Spec(
        "koblenz-einwohner-stadtteile-aabcdfce",
        "koblenz",
        "table",
        "population",
        "sex",
        years=[2023],
        indicators=["population_total"],
        breakdown=["sex"],
        level="stadtteil",
        areas=["Koblenz", "Altstadt", "Güls", "Karthause Flugfeld", "Lützel", "Metternich"],
        demo=True,
    ),
    Spec(
        "ludwigshafen-haushalte-stadtteile-25cf1507",
        "ludwigshafen",
        "table",
        "households",
        "",
        years=[2022, 2023],
        indicators=["households"],
        level="stadtteil",
        areas=["Friesenheim", "Mitte", "Nord/Hemshof", "Oggersheim", "Rheingönheim"],
        demo=True,
    ),
]


def _words(city: str, rng: random.Random) -> dict[str, str]:
    nom, dat, sg = rng.choice(LEVEL_WORDS[level(city)])
    member = cities.get(city)
    return {
        "stadt": member.short_title.replace(" am Rhein", ""),
        "lvl": nom,
        "lvl_dat": dat,
        "lvl_sg": sg,
        "office": OFFICE[city],
    }


def _area_list(city: str, district: bool) -> tuple[list[tuple[str, str, str]], str]:
    """(level, code, name) of a table's areas: the city, and its districts for a district table."""
    found = [(a.level, a.code, a.name) for a in areas.areas(city)]
    if not district:
        return found[:1], "stadt"
    return found, level(city)


def _table_blocks(
    topic: str, indicators: list[str], breakdown: list[str], party_list: list[str]
) -> list[dict]:
    """The row blocks of a table: indicators × breakdown × dimension values (× areas × periods)."""
    cuts = [("total", "total", "total")]
    if "age" in breakdown:
        cuts += [("total", age, "total") for age in AGES]
    if "sex" in breakdown:
        cuts += [("female", "total", "total"), ("male", "total", "total")]
    if "nationality" in breakdown:
        cuts += [("total", "total", "german"), ("total", "total", "foreign")]
    dims = [("none", "total")]
    if "sgb" in breakdown:
        dims += [("rechtskreis", "SGB II"), ("rechtskreis", "SGB III")]
    if "household_size" in breakdown:
        dims += [("household_size", s) for s in HOUSEHOLD_SIZES]
    if "land_use" in breakdown:
        dims = [("land_use", u) for u in LAND_USE]
    if topic == "budget":
        dims = [("budget_item", i) for i in BUDGET_ITEMS]
    blocks = []
    party_indicators = {"votes_by_party", "vote_share_by_party"}
    plain = [i for i in indicators if i not in party_indicators]
    if plain:
        blocks.append({"indicators": plain, "cuts": cuts, "dims": dims})
    if party_indicators & set(indicators):
        blocks.append(
            {
                "indicators": [i for i in indicators if i in party_indicators],
                "cuts": cuts,
                "dims": [("party", p) for p in party_list],
            }
        )
    return blocks


def generate(per_city_docs: int | None = None, seed: int = SEED) -> list[Spec]:
    """The synthetic catalogue, the same for the same seed (names unique, sorted by city)."""
    rng = random.Random(seed)
    specs: list[Spec] = []
    used: set[str] = set()

    def add(spec: Spec, stem: str) -> None:
        name, n = f"{spec.city}-{slug(stem)}"[:90], 2
        candidate = name
        while candidate in used:
            candidate, n = f"{name}-{n}", n + 1
        used.add(candidate)
        spec.name = candidate
        specs.append(spec)

    def text(template: str, year: int | None, words: dict) -> str:
        return template.format(year=year or "", next=(year or 0) + 1, **words).strip()

    for city in CITIES:
        for topic, sub, indicators, breakdown, district, titles, notes, tags in TABLES:
            for year in YEARS:
                words = _words(city, rng)
                area_list, lvl = _area_list(city, district)
                period = {
                    "population": f"{year}-12-31",
                    "age": f"{year}-12-31",
                    "density": f"{year}-12-31",
                    "unemployment": f"{year}-12",
                }.get(topic, str(year))
                if sub == "midyear":
                    period = f"{year}-06-30"
                spec = Spec(
                    "",
                    city,
                    "table",
                    topic,
                    sub,
                    title=text(rng.choice(titles), year, words),
                    notes=text(rng.choice(notes), year, words),
                    tags=rng.sample(tags, rng.randint(0, min(3, len(tags)))),
                    years=[year],
                    indicators=list(indicators),
                    breakdown=list(breakdown),
                    areas=[a[2] for a in area_list],
                    level=lvl,
                    granularity=lvl,
                )
                spec.blocks = _table_blocks(topic, indicators, breakdown, [])
                spec.rows_areas, spec.periods = area_list, [period]
                add(spec, f"{topic}-{sub}-{year}")
        # population development over all years: one per city, whole city and districts
        words = _words(city, rng)
        area_list, lvl = _area_list(city, True)
        spec = Spec(
            "",
            city,
            "table",
            "population",
            "development",
            title=rng.choice(
                ["Bevölkerungsentwicklung {a}–{b}", "Einwohnerentwicklung seit {a}"]
            ).format(a=YEARS[0], b=YEARS[-1]),
            notes=f"Einwohner mit Hauptwohnsitz am Jahresende {YEARS[0]} bis {YEARS[-1]} "
            f"je {words['lvl_sg']}. {OFFICE[city]}.",
            tags=["Bevölkerung", "Zeitreihe"],
            years=list(YEARS),
            indicators=["population_total"],
            areas=[a[2] for a in area_list],
            level=lvl,
            granularity=lvl,
        )
        spec.blocks = _table_blocks("population", ["population_total"], [], [])
        spec.rows_areas, spec.periods = area_list, [f"{y}-12-31" for y in YEARS]
        add(spec, "bevoelkerungsentwicklung")
        # elections
        for kind, dates in ELECTIONS.items():
            word, dative = ELECTION_NAMES[kind]
            for year, date in dates.items():
                words = _words(city, rng)
                area_list, lvl = _area_list(city, True)
                party_list = parties(kind, year)
                titles = {
                    "stadtrat": [
                        "Ergebnisse der Kommunalwahl {year} – Stadtratswahl nach {lvl_dat}",
                        "Stadtratswahl {year}: Stimmen nach Parteien und {lvl_dat}",
                        "Kommunalwahl {year}: Wahl des Stadtrates – Ergebnisse",
                        "Wahl zum Stadtrat {year}",
                    ],
                    "ortsbeirat": [
                        "Ortsbeiratswahlen {year} – Ergebnisse",
                        "Kommunalwahl {year}: Ortsbeiratswahlen nach {lvl_dat}",
                    ],
                    "bundestag": [
                        "Bundestagswahl {year}: Zweitstimmen nach {lvl_dat}",
                        "Ergebnisse der Bundestagswahl {year}",
                    ],
                    "landtag": [
                        "Landtagswahl {year} – Landesstimmen nach {lvl_dat}",
                        "Ergebnisse der Landtagswahl Rheinland-Pfalz {year}",
                    ],
                    "europa": [
                        "Europawahl {year}: Ergebnisse nach {lvl_dat}",
                        "Wahl zum Europäischen Parlament {year}",
                    ],
                }[kind]
                indicators = [
                    "eligible_voters",
                    "voters",
                    "election_turnout",
                    "valid_votes",
                    "votes_by_party",
                    "vote_share_by_party",
                ]
                spec = Spec(
                    "",
                    city,
                    "table",
                    "election",
                    "results",
                    title=text(rng.choice(titles), year, words),
                    notes=text(
                        "Wahlberechtigte, Wählerinnen und Wähler, Wahlbeteiligung, "
                        "gültige Stimmen und Stimmen je Partei bei "
                        + dative
                        + " am "
                        + _german_date(date)
                        + ", je {lvl_sg}. "
                        "Amtliches Endergebnis; {office}.",
                        year,
                        words,
                    ),
                    tags=rng.sample(["Wahlen", "Politik", "Wahlergebnisse", word], 2),
                    years=[year],
                    indicators=indicators,
                    election=kind,
                    parties=party_list,
                    areas=[a[2] for a in area_list],
                    level=lvl,
                    granularity=lvl,
                )
                spec.blocks = _table_blocks("election", indicators, [], party_list)
                spec.rows_areas, spec.periods = area_list, [date]
                add(spec, f"{word}-{year}-ergebnisse")
                if kind in ("stadtrat", "bundestag"):
                    indicators = ["eligible_voters", "voters", "election_turnout"]
                    spec = Spec(
                        "",
                        city,
                        "table",
                        "election",
                        "turnout",
                        title=text(
                            f"Wahlbeteiligung bei {dative} {{year}} nach {{lvl_dat}}", year, words
                        ),
                        notes=text(
                            "Wahlberechtigte, Wähler und Wahlbeteiligung in Prozent "
                            "je {lvl_sg}, " + word + " {year}.",
                            year,
                            words,
                        ),
                        tags=["Wahlen"],
                        years=[year],
                        indicators=indicators,
                        election=kind,
                        areas=[a[2] for a in area_list],
                        level=lvl,
                        granularity=lvl,
                    )
                    spec.blocks = _table_blocks("election", indicators, [], [])
                    spec.rows_areas, spec.periods = area_list, [date]
                    add(spec, f"wahlbeteiligung-{word}-{year}")
        for year, date in MAYOR[city].items():
            words = _words(city, rng)
            area_list, lvl = _area_list(city, True)
            indicators = ["eligible_voters", "voters", "election_turnout", "valid_votes"]
            spec = Spec(
                "",
                city,
                "table",
                "election",
                "mayor",
                title=text(
                    rng.choice(
                        [
                            "Oberbürgermeisterwahl {year} – Ergebnisse",
                            "OB-Wahl {year}: Wahlbeteiligung nach {lvl_dat}",
                        ]
                    ),
                    year,
                    words,
                ),
                notes=text(
                    "Direktwahl der Oberbürgermeisterin / des Oberbürgermeisters "
                    "am " + _german_date(date) + ": Wahlberechtigte, Wähler, "
                    "gültige Stimmen je {lvl_sg}.",
                    year,
                    words,
                ),
                tags=["Wahlen", "Oberbürgermeister"],
                years=[year],
                indicators=indicators,
                election="mayor",
                areas=[a[2] for a in area_list],
                level=lvl,
                granularity=lvl,
            )
            spec.blocks = _table_blocks("election", indicators, [], [])
            spec.rows_areas, spec.periods = area_list, [date]
            add(spec, f"oberbuergermeisterwahl-{year}")
        for sub, titles in BUDGET:
            for year in YEARS[5:]:
                words = _words(city, rng)
                area_list, lvl = _area_list(city, False)
                indicators = ["budget_income", "budget_expenditure"]
                spec = Spec(
                    "",
                    city,
                    "table",
                    "budget",
                    sub,
                    title=text(rng.choice(titles), year, words),
                    notes=text(
                        "Erträge und Aufwendungen (Plan) des Haushaltsjahres {year} "
                        "nach Ertrags- und Aufwandsarten, Stadt {stadt}. Quelle: "
                        "Haushaltsplan, Kämmerei.",
                        year,
                        words,
                    ),
                    tags=rng.sample(["Finanzen", "Haushalt", "Kämmerei"], 2),
                    years=[year],
                    indicators=indicators,
                    areas=[a[2] for a in area_list],
                    level=lvl,
                    granularity=lvl,
                )
                spec.blocks = _table_blocks("budget", indicators, [], [])
                spec.rows_areas, spec.periods = area_list, [str(year)]
                add(spec, f"haushaltsplan-{year}-{sub}")
        docs = 0
        for topic, sub, years, titles, notes, tags in DOCS:
            for year in years or [None]:
                if per_city_docs is not None and docs >= per_city_docs:
                    break
                words = _words(city, rng)
                spec = Spec(
                    "",
                    city,
                    "doc",
                    topic,
                    sub,
                    title=text(rng.choice(titles), year, words),
                    notes=text(notes, year, words),
                    tags=rng.sample(tags, rng.randint(0, len(tags))),
                    years=[year] if year else [],
                )
                add(spec, f"{topic}-{sub}-{year or ''}")
                docs += 1
    return specs


def _german_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{int(d)}.{int(m)}.{y}"


def tiny() -> list[Spec]:
    """A handful of datasets for the tests: two tables of Mainz and one document."""
    everything = generate()
    pick = ["mainz-population-age-2019", "mainz-stadtratswahl-2019-ergebnisse", "mainz-rent-2018"]
    found = [s for s in everything if s.name in pick]
    assert len(found) == len(pick), [s.name for s in found]
    return found


# --- relevance ---------------------------------------------------------------------------------


def _aliases(city: str, name: str) -> set[str]:
    for area in areas.areas(city):
        if area.name == name:
            return {area.name, *area.aliases}
    return {name}


def matches(rule: dict, spec: Spec) -> bool:
    """Does a query's rule hold for a dataset? Keys AND, a list value ANY, ``any`` ORs rules."""
    for key, want in rule.items():
        if key == "any":
            if not any(matches(r, spec) for r in want):
                return False
            continue
        wanted = want if isinstance(want, list) else [want]
        have: list = {
            "city": [spec.city],
            "kind": [spec.kind],
            "topic": [spec.topic],
            "sub": [f"{spec.topic}.{spec.sub}"],
            "year": spec.years,
            "indicator": spec.indicators,
            "breakdown": spec.breakdown,
            "election": [spec.election],
            "party": spec.parties,
            "area": spec.areas,
            "level": [spec.level],
        }[key]
        if not set(wanted) & set(have):
            return False
    return True


def relevant(rule: dict, specs: list[Spec]) -> list[str]:
    return sorted(s.name for s in specs if matches(rule, s))


def digest(specs: list[Spec]) -> str:
    """A fingerprint of the catalogue (names, titles, tables): the load is reused while it holds."""
    text = "\n".join(f"{s.name}|{s.title}|{s.notes}|{s.tags}|{s.blocks}|{s.periods}" for s in specs)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
