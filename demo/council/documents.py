"""The bytes of the demo council's files: PDFs with a text layer, a scan without, DOCX and ODT.

Rendered when first asked for (not committed: binaries in git age badly and say nothing a
reviewer can read), with fpdf2 (pinned in setup.py's ``demo`` extra) for PDFs and the standard
library's ``zipfile`` for the two office formats. Every byte depends only on the Document, so a
file's ETag is stable across server restarts and changes exactly when an epoch revises it.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from xml.sax.saxutils import escape

from demo.council.generate import Document

_LATIN1 = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "„": '"',
        "“": '"',
        "”": '"',
        "‚": "'",
        "‘": "'",
        "’": "'",
        "…": "...",
        "€": "EUR",
    }
)
_ZIP_TIME = (2024, 7, 1, 0, 0, 0)


def _latin1(text: str) -> str:
    """The PDF core fonts speak Latin-1: typographic marks become plain ones, others lose accents."""
    text = text.translate(_LATIN1)
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        return "".join(c if ord(c) < 256 else unicodedata.normalize("NFKD", c)[0] for c in text)


def render(doc: Document) -> bytes:
    return {"pdf": _pdf, "scan": _scan, "docx": _docx, "odt": _odt}[doc.kind](doc)


def _new_pdf(doc: Document):
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(doc.modified)
    pdf.set_title(_latin1(doc.title))
    pdf.set_producer("Vier Staedte Open Data demo")
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    return pdf


def _pdf(doc: Document) -> bytes:
    pdf = _new_pdf(doc)
    pdf.set_font("Helvetica", size=9)
    for line in doc.lines:
        pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", style="B", size=13)
    pdf.multi_cell(0, 6, _latin1(doc.title), new_x="LMARGIN", new_y="NEXT")
    for heading, text in doc.sections:
        pdf.ln(3)
        pdf.set_font("Helvetica", style="B", size=11)
        pdf.cell(0, 6, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 5.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _scan(doc: Document) -> bytes:
    """A page of grey bars where lines of text were: what a scanner without OCR leaves."""
    pdf = _new_pdf(doc)
    pdf.set_fill_color(90, 90, 90)
    y = 30.0
    for row in range(28):
        width = 60 + (row * 37) % 110
        pdf.rect(20, y, width, 2.2, style="F")
        y += 8
    return bytes(pdf.output())


def _zip(members: list[tuple[str, str]], stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, (name, text) in enumerate(members):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            stored = stored_first and index == 0  # ODF: "mimetype" first and uncompressed
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()


def _paragraphs(doc: Document) -> list[str]:
    out = list(doc.lines) + [doc.title]
    for heading, text in doc.sections:
        out += [heading, text]
    return out


def _docx(doc: Document) -> bytes:
    body = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{escape(p)}</w:t></w:r></w:p>'
        for p in _paragraphs(doc)
    )
    word = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    package = "http://schemas.openxmlformats.org/package/2006"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
    return _zip(
        [
            (
                "[Content_Types].xml",
                f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{package}/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/word/document.xml" ContentType="application/vnd.'
                'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
            ),
            (
                "_rels/.rels",
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}/'
                f'relationships"><Relationship Id="rId1" Type="{office}" Target="word/document.xml"/>'
                "</Relationships>",
            ),
            (
                "word/document.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{word}"><w:body>{body}'
                "</w:body></w:document>",
            ),
        ]
    )


def _odt(doc: Document) -> bytes:
    body = "".join(f"<text:p>{escape(p)}</text:p>" for p in _paragraphs(doc))
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    manifest = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
    return _zip(
        [
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            (
                "META-INF/manifest.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                f'"{manifest}" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry '
                'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>',
            ),
            (
                "content.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
                f'office:version="1.2"><office:body><office:text>{body}</office:text></office:body>'
                "</office:document-content>",
            ),
        ],
        stored_first=True,
    )
