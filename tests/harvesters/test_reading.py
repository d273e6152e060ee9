"""Reading raw tables: encodings, delimiters, title blocks, stacked headers, Excel, and every failure mode."""

from __future__ import annotations

import codecs

import pytest

from tests.harvesters.paths import FIXTURES
from vierstaedte_harvest.reading import ReadOptions, open_table
from vierstaedte_harvest.report import TableRejected

TABLE = "Ortsbezirk;Einwohner\nAltstadt;21.345\nNeustadt;29.111\n"


def read_all(path, **options):
    table = open_table(path, ReadOptions(**options))
    frames = list(table.chunks(2))
    return table, [row for frame in frames for row in frame.itertuples(index=True, name=None)]


@pytest.mark.parametrize(
    "encoding, bom", [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("cp1252", b""), ("latin-1", b"")]
)
def test_encodings(tmp_path, encoding, bom):
    path = tmp_path / "t.csv"
    path.write_bytes(
        bom + "Ortsbezirk;Einwohner\nHartenberg-Münchfeld;12.001\nWeißenau;9\n".encode(encoding)
    )
    table, rows = read_all(path)
    assert rows == [(1, "Hartenberg-Münchfeld", "12.001"), (2, "Weißenau", "9")]
    assert table.headers == ["Ortsbezirk", "Einwohner"]


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_delimiters(tmp_path, delimiter):
    path = tmp_path / "t.csv"
    path.write_text(
        f"Ortsbezirk{delimiter}Einwohner{delimiter}Jahr\nAltstadt{delimiter}21{delimiter}2023\n",
        encoding="utf-8",
    )
    table, rows = read_all(path)
    assert table.info["delimiter"] == delimiter
    assert rows == [(1, "Altstadt", "21", "2023")]


def test_title_block_and_footer_are_recognised_and_reported():
    table, rows = read_all(FIXTURES / "mainz_einwohner_ortsbezirke.csv")
    assert table.info["encoding"] == "cp1252"
    assert table.info["skipped_title_rows"] == 3
    assert table.info["title"][0] == "Landeshauptstadt Mainz - Hauptamt, Statistik"
    assert table.headers == ["Ortsbezirk", "2021", "2022", "2023"]
    assert [r[1] for r in rows][-1] == "Mainz insgesamt"
    assert table.info["footer_rows"] == ["© Landeshauptstadt Mainz, 2024", "Quelle: Melderegister"]


def test_genesis_stacked_header_is_combined():
    table, rows = read_all(FIXTURES / "trier_bevoelkerung_alter_genesis.csv")
    assert table.info["header_rows"] == 2
    assert table.headers == [
        "Altersgruppe",
        "Insgesamt Anzahl",
        "Insgesamt Anteil in %",
        "männlich Anzahl",
        "männlich Anteil in %",
        "weiblich Anzahl",
        "weiblich Anteil in %",
    ]
    assert rows[0][1:3] == ("0 - 2", "2.921")
    assert len(rows) == 8


def test_quoted_multiline_cell_stays_one_row():
    table, rows = read_all(FIXTURES / "mainz_wahl_ortsbezirke.csv")
    assert len(rows) == 3
    assert rows[1][-1] == "Briefwahl\nnachgezählt"


def test_real_koeln_election_file(real_fixture):
    """102 wide columns, empty 'Nr' cells on every data row, a trailing ';' on every line."""
    table, rows = read_all(real_fixture("csv_koeln_btw2013_ergebnis_stadtteil.csv"))
    assert table.info["skipped_title_rows"] == 0 and table.info["header_rows"] == 1
    assert (
        table.headers[:3] == ["Nr", "Name", "MaxSchnellmeldungen"] and "GRÜNE_Proz" in table.headers
    )
    assert len(rows) == 86
    assert rows[0][2] == "Altstadt/Nord" and rows[0][7] == "76,70"


def test_xlsx(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Stadt Koblenz – Arbeitsmarkt"])
    sheet.append([])
    sheet.append(["Stadtteil", "Arbeitslose", "Quote"])
    sheet.append(["Lützel", 512, 7.25])
    sheet.append(["Metternich", 301, 4.5])
    path = tmp_path / "t.xlsx"
    book.save(path)
    table, rows = read_all(path)
    assert table.info["format"] == "xlsx" and table.info["title"] == [
        "Stadt Koblenz – Arbeitsmarkt"
    ]
    assert rows == [(1, "Lützel", "512", "7,25"), (2, "Metternich", "301", "4,5")]


@pytest.mark.parametrize(
    "content, code",
    [
        (b"", "empty-file"),
        (b"   \n\n", "empty-file"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "html-instead-of-csv"),
        (b"\n\n<html><head><title>Anmeldung</title></head></html>", "html-instead-of-csv"),
        ("Ortsbezirk;Einwohner\n".encode("utf-16-le"), "encoding-error"),
        ("Ortsbezirk;Einwohner\nHartenberg-MÃ¼nchfeld;12\n".encode(), "encoding-error"),
        (b"Ortsbezirk;Einwohner;Einwohner\nAltstadt;1;2\n", "duplicate-header"),
        (b"Ortsbezirk;Einwohner;Jahr\nAltstadt;1;2023\nNeustadt;2;2023\nOberst", "truncated-file"),
        (b'Ortsbezirk;Einwohner\nAltstadt;1\n"Neustadt;2\n', "truncated-file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "unsupported-format"),
        (b"PK\x03\x04broken zip", "unreadable-excel"),
    ],
)
def test_failure_modes_have_specific_codes(tmp_path, content, code):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(TableRejected) as rejected:
        read_all(path)
    assert rejected.value.issue.code == code
    assert rejected.value.issue.message


def test_too_many_cells_in_a_row(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Ortsbezirk;Einwohner\nAltstadt;1\nNeustadt;2;3;4\n", encoding="utf-8")
    with pytest.raises(TableRejected) as rejected:
        read_all(path)
    assert rejected.value.issue.code == "malformed-row"
