"""The text of a council file (PDF, DOCX, ODT), extracted in a child process with hard limits.

A council file is untrusted input: a PDF can be a decompression bomb, a DOCX a zip bomb, and a
parser bug must not take the harvester with it. So every extraction runs in its own process
with limits set by ``resource.setrlimit`` before it starts: CPU seconds, address space, the size
of the file it writes (the text), no core dumps; and a wall-clock timeout on top. PDFs go to
poppler's ``pdftotext`` (Debian ``poppler-utils``); DOCX and ODT to ``python-docx`` and ``odfdo``
in a Python child of this very module (``python -m vierstaedte_harvest.council.extract``).

The kind of a file is read from its first bytes, never taken from its name or ``mimeType``.
The outcome is one of the contract's ``FILE_TEXT_STATUSES``: ``ok``, ``empty`` (no text layer,
e.g. a scanned PDF), ``timeout``, ``failed`` (the tool failed or hit its CPU or memory limit),
``unsupported``; a text longer than ``TEXT_MAX_CHARS`` is cut there (``capped``).
"""

from __future__ import annotations

import dataclasses
import resource
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

from vierstaedte_contract.council import TEXT_MAX_CHARS

PDF, DOCX, ODT, TEXT = "pdf", "docx", "odt", "text"
MEDIA_TYPES = {
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ODT: "application/vnd.oasis.opendocument.text",
    TEXT: "text/plain",
}
OUTPUT_BYTES = 4 * TEXT_MAX_CHARS  # UTF-8: at most 4 bytes a character
CAPPED_EXIT = 3  # the Python child's exit code for "text cut at TEXT_MAX_CHARS"


@dataclasses.dataclass(frozen=True)
class Limits:
    seconds: float = 60.0  # wall clock, and CPU seconds
    memory: int = 512 * 1024 * 1024  # bytes of address space


@dataclasses.dataclass
class Extraction:
    status: str
    text: str = ""
    mime_type: str | None = None
    capped: bool = False
    message: str = ""


def kind_of(path: Path) -> str | None:
    """pdf, docx, odt or text from the file's content; None for anything else."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.lstrip()[:5] == b"%PDF-":
        return PDF
    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if "word/document.xml" in names:
                    return DOCX
                if "mimetype" in names and archive.read("mimetype").strip() == (
                    MEDIA_TYPES[ODT].encode()
                ):
                    return ODT
        except (zipfile.BadZipFile, OSError, KeyError):
            return None
        return None
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 4:  # not just a character cut at the block's end
                return None
        return TEXT
    return None


def _limit(limits: Limits):
    def apply() -> None:
        cpu = max(1, int(limits.seconds))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_BYTES, OUTPUT_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def extract(path: Path, limits: Limits) -> Extraction:
    """The text of the file at ``path``, as one of the contract's statuses."""
    kind = kind_of(path)
    if kind is None:
        return Extraction("unsupported", message="neither PDF, DOCX, ODT nor plain text")
    out = path.with_name(path.name + ".txt")
    if kind == PDF:
        argv = ["pdftotext", "-q", "-enc", "UTF-8", str(path), str(out)]
    elif kind == TEXT:
        argv = [sys.executable, "-m", __name__, TEXT, str(path), str(out)]
    else:
        argv = [sys.executable, "-m", __name__, kind, str(path), str(out)]
    try:
        done = subprocess.run(
            argv,
            preexec_fn=_limit(limits),  # the limits hold in the child only
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=limits.seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        out.unlink(missing_ok=True)
        return Extraction("timeout", mime_type=MEDIA_TYPES[kind], message=f"{limits.seconds:g} s")
    # pdftotext is killed at the output limit; the Python child cuts and says so itself
    capped = done.returncode in (-signal.SIGXFSZ, CAPPED_EXIT)
    if done.returncode and not capped:
        out.unlink(missing_ok=True)
        why = (
            "CPU limit"
            if done.returncode == -signal.SIGXCPU
            else done.stderr.decode(errors="replace").strip().splitlines()[-1:] or "no message"
        )
        return Extraction(
            "failed",
            mime_type=MEDIA_TYPES[kind],
            message=f"exit {done.returncode}: {why if isinstance(why, str) else why[0]}"[:500],
        )
    try:
        text = out.read_bytes().decode("utf-8", errors="replace") if out.exists() else ""
    finally:
        out.unlink(missing_ok=True)
    if len(text) > TEXT_MAX_CHARS:
        text, capped = text[:TEXT_MAX_CHARS], True
    text = text.replace("\x00", "")
    if not text.strip():
        return Extraction("empty", mime_type=MEDIA_TYPES[kind], capped=capped)
    return Extraction("ok", text, MEDIA_TYPES[kind], capped)


def _child(kind: str, path: Path, out: Path) -> None:
    """In the limited child: write the text of a DOCX, ODT or plain-text file to ``out``."""
    if kind == DOCX:
        import docx

        document = docx.Document(str(path))
        parts = [p.text for p in document.paragraphs]
        for table in document.tables:
            parts += ["\t".join(cell.text for cell in row.cells) for row in table.rows]
        text = "\n".join(parts)
    elif kind == ODT:
        from odfdo import Document

        text = Document(str(path)).get_formatted_text()
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
    out.write_text(text[:TEXT_MAX_CHARS], encoding="utf-8")
    if len(text) > TEXT_MAX_CHARS:
        sys.exit(CAPPED_EXIT)


if __name__ == "__main__":
    _child(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
