"""The portal's own pages: legal pages, "Über", the developers' page; groups kept private.

German public websites must have an Impressum, a privacy statement (Datenschutz), an
accessibility statement (Barrierefreiheit) and a contact page. Their texts are the operator's,
not ours: each comes from ckan.ini (``ckanext.vierstaedte.pages.<page>``, Markdown) or from a
Markdown file (``…_file``), read on every request so an edit shows without a restart. A page
without text shows a clearly marked placeholder (never an error), so a forgotten setting is
visible instead of breaking the footer's links.

Groups and followers are CKAN features the portal does not use: their pages are for the
portal's staff only. Anonymous visitors get the dataset search instead of an empty, English
"Gruppen" page.
"""

from __future__ import annotations

import logging
from pathlib import Path

import ckan.plugins.toolkit as tk
from flask import Blueprint

log = logging.getLogger(__name__)

blueprint = Blueprint("vierstaedte_pages", __name__)

# URL slug → config name; the titles are in TITLES (translated at request time)
LEGAL_PAGES = {
    "impressum": "impressum",
    "datenschutz": "datenschutz",
    "barrierefreiheit": "barrierefreiheit",
    "kontakt": "kontakt",
}
PAGE_KEY = "ckanext.vierstaedte.pages.{page}"
FILE_KEY = "ckanext.vierstaedte.pages.{page}_file"

# views of CKAN's groups, follower lists, member lists and its organisation pages (with CKAN's
# own marketing text and member counts); anonymous visitors are sent to the public page
PRIVATE_ENDPOINTS = {
    "group.index": "dataset.search",
    "group.read": "dataset.search",
    "group.about": "dataset.search",
    "group.followers": "dataset.search",
    "dataset.groups": "dataset.read",
    "dataset.followers": "dataset.read",
    "organization.index": "vierstaedte.cities",
    "organization.about": "vierstaedte.city",
    "organization.followers": "vierstaedte.city",
    "organization.members": "vierstaedte.city",
    "activity.organization_activity": "vierstaedte.city",
}


def _titles() -> dict[str, str]:
    return {
        "impressum": tk._("Impressum"),
        "datenschutz": tk._("Datenschutz"),
        "barrierefreiheit": tk._("Erklärung zur Barrierefreiheit"),
        "kontakt": tk._("Kontakt"),
    }


def page_text(page: str) -> str | None:
    """The operator's Markdown text of a legal page, or None when none is configured.

    The file (``…_file``) wins over the ini text; an unreadable file is logged and the page
    shows its placeholder, so the footer's link never leads to an error.
    """
    path = tk.config.get(FILE_KEY.format(page=page))
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            log.error("%s: cannot read %s (%s)", FILE_KEY.format(page=page), path, error)
        else:
            return text if text.strip() else None
    text = tk.config.get(PAGE_KEY.format(page=page))
    return text if text and text.strip() else None


def legal(page: str):
    text = page_text(page)
    return tk.render(
        "vierstaedte/legal_page.html",
        {
            "page": page,
            "title": _titles()[page],
            "text": text,
            "config_key": PAGE_KEY.format(page=page),
            "file_key": FILE_KEY.format(page=page),
        },
    )


for _slug, _page in LEGAL_PAGES.items():
    blueprint.add_url_rule(f"/{_slug}", endpoint=_page, view_func=legal, defaults={"page": _page})


def developers():
    """What developers can use: the Action API, the DataStore, the catalogues, MCP."""
    return tk.render("vierstaedte/developers.html", {"site_url": tk.config.get("ckan.site_url")})


blueprint.add_url_rule("/entwickler", endpoint="developers", view_func=developers)


@blueprint.before_app_request
def keep_groups_private():
    """Anonymous visitors of a group, follower or member page go to the matching public page."""
    target = PRIVATE_ENDPOINTS.get(tk.request.endpoint or "")
    if target is None or tk.current_user.is_authenticated:
        return None
    args = tk.request.view_args or {}
    if target == "vierstaedte.city" and "id" in args:
        return tk.redirect_to(target, city=args["id"])
    if target == "vierstaedte.cities":
        return tk.redirect_to(target)
    if target == "dataset.search" or "id" not in args:
        return tk.redirect_to("dataset.search")
    return tk.redirect_to(target, id=args["id"])


# the main navigation: (endpoint, label, blueprints or endpoints that mark it as the current one)
NAVIGATION = (
    ("dataset.search", "Daten", ("dataset", "dataset_resource", "resource")),
    (
        "vierstaedte.cities",
        "Städte",
        ("vierstaedte.cities", "vierstaedte.city", "vierstaedte.harvest_runs", "organization"),
    ),
    ("vierstaedte_compare.page", "Vergleich", ("vierstaedte_compare",)),
    ("vierstaedte_pages.developers", "API", ("vierstaedte_pages.developers",)),
    ("vierstaedte_council.search", "Rat", ("vierstaedte_council",)),
)


def _nav_labels() -> dict[str, str]:
    # literal tk._ calls, so the translation tools find every label
    return {
        "Daten": tk._("Daten"),
        "Städte": tk._("Städte"),
        "Vergleich": tk._("Vergleich"),
        "API": tk._("API"),
        "Rat": tk._("Rat"),
    }


def vierstaedte_navigation() -> list[dict[str, object]]:
    """The main navigation's links; a page whose view is not installed is left out.

    "Rat" (the council search) comes from another part of the portal; without its
    blueprint the header still renders, with the other four links.
    """
    from flask import current_app

    endpoint = tk.request.endpoint or ""
    current = (endpoint, endpoint.split(".", 1)[0])
    labels = _nav_labels()
    items = []
    for target, label, marks in NAVIGATION:
        if target not in current_app.view_functions:
            continue
        items.append(
            {
                "url": tk.h.url_for(target),
                "label": labels[label],
                "active": any(mark in current for mark in marks),
            }
        )
    return items


def vierstaedte_demo() -> bool:
    """Whether the portal shows the bundled demo data (``ckanext.vierstaedte.demo``)."""
    return tk.asbool(tk.config.get("ckanext.vierstaedte.demo"))


def vierstaedte_footer_links() -> list[dict[str, str]]:
    """The footer's links: about the portal, the legal pages, the developers' page."""
    titles = _titles()
    links = [{"url": tk.h.url_for("home.about"), "label": tk._("Über das Portal")}]
    links += [
        {"url": tk.h.url_for(f"vierstaedte_pages.{page}"), "label": titles[page]}
        for page in LEGAL_PAGES.values()
    ]
    return links


def vierstaedte_dictionary_in_language(ddict: list[dict]) -> list[dict]:
    """A DataStore data dictionary with its bilingual labels and notes (``Stadt / City``, as the
    harvester stores them) in the visitor's language, for the resource page."""
    from ckanext.vierstaedte.logic.data_dictionary import _in_language
    from ckanext.vierstaedte.search import ui_lang

    lang = ui_lang()
    fields = []
    for field in ddict or []:
        info = dict(field.get("info") or {})
        if info.get("label"):
            info["label"] = _in_language(info["label"], " / ", lang)
        if info.get("notes"):
            info["notes"] = _in_language(info["notes"], " — ", lang)
        fields.append({**field, "info": info})
    return fields


def vierstaedte_error(code, content) -> dict[str, str]:
    """Heading and text of an error page in the page's language.

    CKAN's error page shows Werkzeug's English name ("404 Not Found") and, where a view gave no
    reason, Werkzeug's English description; a reason a view gave (already translated) is kept.
    A crash passes ``code`` as ``[500]``.
    """
    from werkzeug.exceptions import default_exceptions

    code = code[0] if isinstance(code, list) else code
    headings = {
        400: tk._("Ungültige Anfrage"),
        401: tk._("Anmeldung erforderlich"),
        403: tk._("Zugriff verweigert"),
        404: tk._("Seite nicht gefunden"),
        405: tk._("Methode nicht erlaubt"),
        500: tk._("Interner Fehler"),
    }
    texts = {
        400: tk._("Die Anfrage enthält Angaben, die diese Seite nicht verarbeiten kann."),
        401: tk._("Bitte melden Sie sich an, um diese Seite zu sehen."),
        403: tk._("Sie haben keine Berechtigung, diese Seite zu sehen."),
        404: tk._(
            "Diese Seite gibt es nicht. Bitte prüfen Sie die Adresse oder suchen Sie über die "
            "Navigation oben."
        ),
        405: tk._("Diese Seite kann so nicht aufgerufen werden."),
        500: tk._(
            "Bei der Bearbeitung ist ein Fehler aufgetreten. Bitte versuchen Sie es später erneut."
        ),
    }
    werkzeug = default_exceptions.get(code)
    stock = {"Internal server error", getattr(werkzeug, "description", None)}
    text = str(content or "")
    if not text or text in stock:
        text = texts.get(code, "")
    return {"heading": headings.get(code, tk._("Fehler {code}").format(code=code)), "text": text}


def get_helpers() -> dict[str, object]:
    return {
        "vierstaedte_error": vierstaedte_error,
        "vierstaedte_dictionary_in_language": vierstaedte_dictionary_in_language,
        "vierstaedte_navigation": vierstaedte_navigation,
        "vierstaedte_demo": vierstaedte_demo,
        "vierstaedte_footer_links": vierstaedte_footer_links,
    }
