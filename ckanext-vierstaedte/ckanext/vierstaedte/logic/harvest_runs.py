"""Harvest runs: each city's harvester records every run, the portal shows them.

ckanext-harvest keeps jobs, objects and errors in five tables, grows them
without bound and needs a cron job before a job counts as finished. Our
harvesters run outside CKAN, so they send one finished run report instead
(``vierstaedte_harvest_run_create``); CKAN stores it as sent, keeps only the
newest ``ckanext.vierstaedte.harvest_runs_kept`` runs per city and answers
"how did the last harvest of Mainz go, and which datasets failed?"

A run has a kind (``vierstaedte_contract.runs.RUN_KINDS``): ``catalogue`` (the statistics
datasets, the default) or ``council`` (the OParl council information). Each kind keeps its
own history, and a council run counts what it wrote under keys of its own (``written``,
``unchanged``…: short names, whole numbers), not the six dataset statuses.

Reports are written by harvesters, i.e. untrusted: the validators below only
check their shape and size, and ``report_problems`` turns them into plain
strings for the (auto-escaping) templates.

What a run record may hold is bounded, because the portal shows it to anyone:
at most ``ckanext.vierstaedte.harvest_report_max_problems`` problem datasets and
as many source errors are stored (the rest are counted in ``report["omitted"]``,
so a big run is still recorded), the whole report at most
``ckanext.vierstaedte.harvest_report_max_bytes``, and the harvest page shows the
problems a page at a time. Times are checked against the server's clock: a run
dated in the future would otherwise sort first and hide every later run.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan import model
from sqlalchemy.orm import defer

from ckanext.vierstaedte.logic import schema
from ckanext.vierstaedte.model import HarvestRun
from vierstaedte_contract.runs import (
    CATALOGUE,
    COUNT_KEYS,
    DATASET_STATUSES,
    PROBLEM_STATUSES,
    RUN_KINDS,
    RUN_STATUSES,
)

Invalid = tk.Invalid
_ = tk._

OMITTED_KEYS = (*DATASET_STATUSES, "source_errors")  # what a trimmed report counts as left out
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
MAX_CLOCK_SKEW = datetime.timedelta(minutes=5)  # a harvester's clock may run this far ahead of ours
# what the harvest page shows of a report: a page of problems, each cut to size (the API has it all)
PROBLEMS_PER_PAGE = 20
ERRORS_SHOWN = 5
SOURCE_ERRORS_SHOWN = 20
NOTICES_SHOWN = 20  # kinds of defaulted fields and of warnings summed up on the page
MAX_NAME_CHARS = 300
MAX_MESSAGE_CHARS = 500
MAX_COUNT_KEYS = 30  # counts a council run may report
_COUNT_KEY = re.compile(r"[a-z][a-z0-9_-]{0,39}")
# a JSON-escaped NUL character (an odd number of backslashes before u0000):
# PostgreSQL's jsonb refuses it, so it must be a validation error, not a 500
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


# Validators (registered through IValidators, used by logic/schema.py)


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def vierstaedte_organization_id(value: Any, context: dict) -> Any:
    """An active organisation by name or id; stored as its id."""
    group = model.Group.get(str(value))
    if group is None or not group.is_organization or group.state != "active":
        raise Invalid(_("Unbekannte Organisation: {value}").format(value=_shown(value)))
    return group.id


def vierstaedte_utc_datetime(value: Any, context: dict) -> Any:
    """An ISO 8601 time of a harvest run as an aware UTC datetime (without an offset: UTC).

    It must lie between 2000 and a few minutes from now (by the server's clock).
    """
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise Invalid(
                _(
                    "Kein gültiger ISO-8601-Zeitpunkt: {value} (erwartet z. B. "
                    "2026-11-21T03:00:00Z)"
                ).format(value=_shown(value))
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    now = datetime.datetime.now(datetime.UTC)
    try:
        moment = moment.astimezone(datetime.UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 lies before the year 1 in UTC
        moment = None
    if moment is None or not EARLIEST <= moment <= now + MAX_CLOCK_SKEW:
        raise Invalid(
            _(
                "Der Zeitpunkt {value} liegt nicht zwischen {earliest} und {minutes} "
                "Minuten nach der Uhrzeit des Portals ({now})."
            ).format(
                value=_shown(value),
                earliest=EARLIEST.date().isoformat(),
                minutes=MAX_CLOCK_SKEW // datetime.timedelta(minutes=1),
                now=now.isoformat(timespec="seconds"),
            )
        )
    return moment


def vierstaedte_harvest_run_status(value: Any, context: dict) -> Any:
    if value not in RUN_STATUSES:
        raise Invalid(
            _("Unbekannter Status: {value}. Erlaubt sind: {allowed}").format(
                value=value, allowed=", ".join(RUN_STATUSES)
            )
        )
    return value


def vierstaedte_harvest_run_kind(value: Any, context: dict) -> Any:
    if value not in RUN_KINDS:
        raise Invalid(
            _("Unbekannte Art: {value}. Erlaubt sind: {allowed}").format(
                value=_shown(value), allowed=", ".join(RUN_KINDS)
            )
        )
    return value


def _json_object(value: Any, what: str) -> dict[str, Any]:
    """A dict, or a JSON text of one, nested at most MAX_JSON_DEPTH deep.

    Form posts and query strings send the object as text.
    """
    too_deep = _("{what} ist zu tief verschachtelt (mehr als {max} Ebenen).").format(
        what=what, max=schema.MAX_JSON_DEPTH
    )
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise Invalid(
                _("{what} ist kein gültiges JSON: {error}").format(what=what, error=error)
            ) from None
        except RecursionError:
            raise Invalid(too_deep) from None
    if not isinstance(value, dict):
        raise Invalid(_("{what} muss ein JSON-Objekt sein.").format(what=what))
    if schema.json_depth(value, schema.MAX_JSON_DEPTH) > schema.MAX_JSON_DEPTH:
        raise Invalid(too_deep)
    return value


def _number(key: str, number: Any) -> int:
    if isinstance(number, str) and number.strip().isdigit():
        number = int(number)
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < 2**63:
        raise Invalid(
            _("{key} muss eine ganze Zahl ≥ 0 sein, nicht: {value}").format(
                key=key, value=_shown(number)
            )
        )
    return number


def _council_counts(counts: dict[str, Any]) -> dict[str, int]:
    """A council run's counts: at most MAX_COUNT_KEYS short lower-case names, each a number."""
    if len(counts) > MAX_COUNT_KEYS or not all(
        isinstance(key, str) and _COUNT_KEY.fullmatch(key) for key in counts
    ):
        raise Invalid(
            _(
                "Die Zählung eines Ratslaufs hat höchstens {max} Namen aus Kleinbuchstaben, "
                "Ziffern, - und _ (bis 40 Zeichen)."
            ).format(max=MAX_COUNT_KEYS)
        )
    return {key: _number(key, number) for key, number in counts.items()}


def vierstaedte_harvest_counts(value: Any, context: dict) -> Any:
    """The six counts of a catalogue run, each a whole number ≥ 0 (missing counts are 0);
    a council run's own counts."""
    counts = _json_object(value, _("Die Zählung"))
    if context.get("vierstaedte_run_kind") not in (None, CATALOGUE):
        return _council_counts(counts)
    unknown = sorted(set(counts) - set(COUNT_KEYS))
    if unknown:
        raise Invalid(
            _("Unbekannte Zählung: {unknown}. Erlaubt sind: {allowed}").format(
                unknown=", ".join(map(str, unknown)), allowed=", ".join(COUNT_KEYS)
            )
        )
    return {key: _number(key, counts.get(key, 0)) for key in COUNT_KEYS}


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".replace(".", ",") + " MB"


def _check_report_shape(report: dict[str, Any]) -> None:
    """Only the parts the portal reads: ``datasets`` entries, ``source_errors`` and ``omitted``."""
    datasets = report.get("datasets", [])
    if not isinstance(datasets, list):
        raise Invalid(_("„datasets“ im Bericht muss eine Liste sein."))
    for index, entry in enumerate(datasets):
        if not isinstance(entry, dict):
            raise Invalid(
                _("datasets[{index}] im Bericht muss ein JSON-Objekt sein.").format(index=index)
            )
        if entry.get("status") not in DATASET_STATUSES:
            raise Invalid(
                _(
                    "datasets[{index}].status im Bericht ist unbekannt: {value}. Erlaubt sind: {allowed}"
                ).format(
                    index=index,
                    value=_shown(entry.get("status")),
                    allowed=", ".join(DATASET_STATUSES),
                )
            )
        if not isinstance(entry.get("errors", []), list):
            raise Invalid(
                _("datasets[{index}].errors im Bericht muss eine Liste sein.").format(index=index)
            )
    if not isinstance(report.get("source_errors", []), list):
        raise Invalid(_("„source_errors“ im Bericht muss eine Liste sein."))
    omitted = report.get("omitted", {})
    counts = omitted.items() if isinstance(omitted, dict) else [(None, None)]
    if any(key not in OMITTED_KEYS or _count(number) != number for key, number in counts):
        raise Invalid(
            _("„omitted“ im Bericht muss Zahlen ≥ 0 für {keys} enthalten.").format(
                keys=", ".join(OMITTED_KEYS)
            )
        )


def _cap_problems(report: dict[str, Any], most: int) -> dict[str, Any]:
    """The report with at most ``most`` problem datasets and source errors; ``omitted`` counts the rest."""
    omitted = {key: report.get("omitted", {}).get(key, 0) for key in OMITTED_KEYS}
    datasets, problems = [], 0
    for entry in report.get("datasets", []):
        if entry["status"] in PROBLEM_STATUSES:
            problems += 1
            if problems > most:
                omitted[entry["status"]] += 1
                continue
        datasets.append(entry)
    source_errors = report.get("source_errors", [])
    omitted["source_errors"] += max(len(source_errors) - most, 0)
    if not any(omitted.values()):
        return report
    capped = dict(report, omitted={key: number for key, number in omitted.items() if number})
    if "datasets" in report:
        capped["datasets"] = datasets
    if "source_errors" in report:
        capped["source_errors"] = source_errors[:most]
    return capped


def vierstaedte_harvest_report(value: Any, context: dict) -> Any:
    """The run report: a JSON object, its problems capped, no larger than the configured maximum.

    Anything the harvester adds beyond what the portal reads is kept as sent.
    """
    report = _json_object(value, _("Der Bericht"))
    _check_report_shape(report)
    most = tk.asint(tk.config.get("ckanext.vierstaedte.harvest_report_max_problems"))
    report = _cap_problems(report, most)
    try:
        text = json.dumps(report, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        size = len(text.encode("utf-8"))
    except (TypeError, ValueError) as error:  # NaN, a lone surrogate (UnicodeEncodeError)
        raise Invalid(
            _("Der Bericht lässt sich nicht als JSON speichern: {error}").format(error=error)
        ) from None
    limit = tk.asint(tk.config.get("ckanext.vierstaedte.harvest_report_max_bytes"))
    if size > limit:
        raise Invalid(
            _(
                "Der Bericht ist zu groß: {size} ({bytes} Bytes); erlaubt sind höchstens {limit}."
            ).format(size=_megabytes(size), bytes=size, limit=_megabytes(limit))
        )
    if _ESCAPED_NUL.search(text):
        raise Invalid(
            _("Der Bericht enthält ein NUL-Zeichen (\\u0000); das kann nicht gespeichert werden.")
        )
    return report


def vierstaedte_harvester_version(value: Any, context: dict) -> Any:
    value = str(value).strip()
    if len(value) > 100:
        raise Invalid(_("Die Harvester-Version darf höchstens 100 Zeichen lang sein."))
    return value


def get_validators() -> dict[str, Any]:
    return {
        "vierstaedte_organization_id": vierstaedte_organization_id,
        "vierstaedte_utc_datetime": vierstaedte_utc_datetime,
        "vierstaedte_harvest_run_status": vierstaedte_harvest_run_status,
        "vierstaedte_harvest_run_kind": vierstaedte_harvest_run_kind,
        "vierstaedte_harvest_counts": vierstaedte_harvest_counts,
        "vierstaedte_harvest_report": vierstaedte_harvest_report,
        "vierstaedte_harvester_version": vierstaedte_harvester_version,
    }


# Actions


def _newest_first(query):
    """Newest first by start, but never later than CKAN recorded the run.

    ``started`` is the harvester's clock; a run dated ahead of its recording
    (a clock running fast, or one stored before times were checked) counts
    from when it was recorded, so it cannot stay "the newest" and hide later runs.
    """
    return query.order_by(
        sa.func.least(HarvestRun.started, HarvestRun.created).desc(),
        HarvestRun.created.desc(),
        HarvestRun.id.desc(),
    )


def _cross_field_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data["finished"] < data["started"]:
        errors["finished"] = [
            _("Das Ende ({finished}) liegt vor dem Beginn ({started}).").format(
                finished=data["finished"].isoformat(), started=data["started"].isoformat()
            )
        ]
    city = data["report"].get("city")
    org = model.Group.get(data["organization"])
    if city is not None and city not in (org.name, org.id):
        errors["report"] = [
            _("Der Bericht gehört zu „{city}“, nicht zu „{org}“.").format(city=city, org=org.name)
        ]
    return errors


def _drop_old_runs(organization_id: str, kind: str) -> None:
    """Keep only the newest runs of a city, per kind: a bounded history, unlike
    ckanext-harvest's, in which a daily council run never pushes out the catalogue's runs."""
    kept = tk.asint(tk.config.get("ckanext.vierstaedte.harvest_runs_kept"))
    stale = _newest_first(
        sa.select(HarvestRun.id).where(
            HarvestRun.organization_id == organization_id, HarvestRun.kind == kind
        )
    ).offset(kept)
    model.Session.execute(sa.delete(HarvestRun).where(HarvestRun.id.in_(stale)))


def vierstaedte_harvest_run_create(context, data_dict):
    """Record a finished harvest run of one city; returns the stored run.

    Allowed for whoever may publish datasets in that city (its editors and
    admins, sysadmins), so a city's harvester token records only its own runs.
    """
    tk.check_access("vierstaedte_harvest_run_create", context, data_dict)
    kind = (data_dict or {}).get("kind", CATALOGUE)
    # the counts' validator reads the kind (a valid one; an invalid kind fails on its own)
    counting = dict(context, vierstaedte_run_kind=kind if kind in RUN_KINDS else CATALOGUE)
    data = schema.validate(data_dict, schema.harvest_run_create(), counting)
    errors = _cross_field_errors(data)
    if errors:
        raise tk.ValidationError(errors)
    user = model.User.get(context.get("user") or "")
    run = HarvestRun(
        organization_id=data["organization"],
        started=data["started"],
        finished=data["finished"],
        status=data["status"],
        kind=data["kind"],
        counts=data["counts"],
        report=data["report"],
        harvester_version=data.get("harvester_version"),
        created_by=user.id if user else None,
    )
    model.Session.add(run)
    model.Session.flush()
    _drop_old_runs(run.organization_id, run.kind)
    result = run.as_dict()
    model.Session.commit()
    return result


@tk.side_effect_free
def vierstaedte_harvest_run_list(context, data_dict):
    """The runs of one city (of one ``kind``, if given), newest first:
    ``{"count": …, "results": […]}``.

    Without ``include_report`` the reports (up to megabytes each) are neither
    loaded nor returned.
    """
    tk.check_access("vierstaedte_harvest_run_list", context, data_dict)
    data = schema.validate(data_dict, schema.harvest_run_list(), context)
    query = model.Session.query(HarvestRun).filter(
        HarvestRun.organization_id == data["organization"]
    )
    if data.get("kind"):
        query = query.filter(HarvestRun.kind == data["kind"])
    count = query.count()
    if not data["include_report"]:
        query = query.options(defer(HarvestRun.report))
    runs = _newest_first(query).offset(data["offset"]).limit(data["limit"]).all()
    return {
        "count": count,
        "results": [run.as_dict(include_report=data["include_report"]) for run in runs],
    }


@tk.side_effect_free
def vierstaedte_harvest_run_show(context, data_dict):
    """One run with its full report."""
    tk.check_access("vierstaedte_harvest_run_show", context, data_dict)
    data = schema.validate(data_dict, schema.harvest_run_show(), context)
    run = model.Session.get(HarvestRun, data["id"])
    if run is None:
        raise tk.ObjectNotFound(_("Harvest-Lauf nicht gefunden: {id}").format(id=data["id"]))
    return run.as_dict()


def get_actions() -> dict[str, Any]:
    return {
        "vierstaedte_harvest_run_create": vierstaedte_harvest_run_create,
        "vierstaedte_harvest_run_list": vierstaedte_harvest_run_list,
        "vierstaedte_harvest_run_show": vierstaedte_harvest_run_show,
    }


# For the portal page


def _text(value: Any, limit: int = MAX_MESSAGE_CHARS) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def _error(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {
            "code": _text(value.get("code"), MAX_NAME_CHARS),
            "message": _text(value.get("message", value)),
        }
    return {"code": "", "message": _text(value)}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def report_problems(
    report: Any, page: int = 1, per_page: int = PROBLEMS_PER_PAGE
) -> dict[str, Any]:
    """A page of a report's rejected and errored datasets and its first source errors, as text,
    and a count of the fields defaults filled and of the warnings, by kind.

    Bounded whatever the report holds: ``per_page`` datasets with their first
    ``ERRORS_SHOWN`` errors, ``SOURCE_ERRORS_SHOWN`` source errors, every text cut
    to a maximum; the counts say what is left out (the API has the report whole).
    """
    report = report if isinstance(report, dict) else {}
    datasets = report.get("datasets")
    entries = [
        entry
        for entry in (datasets if isinstance(datasets, list) else [])
        if isinstance(entry, dict) and entry.get("status") in PROBLEM_STATUSES
    ]
    problems = []
    for entry in entries[(page - 1) * per_page : page * per_page]:
        errors = entry.get("errors") if isinstance(entry.get("errors"), list) else []
        problems.append(
            {
                "title": _text(entry.get("title"), MAX_NAME_CHARS),
                "ckan_name": _text(entry.get("ckan_name"), MAX_NAME_CHARS),
                "source_id": _text(entry.get("source_id"), MAX_NAME_CHARS),
                "status": entry["status"],
                "errors": [_error(error) for error in errors[:ERRORS_SHOWN]],
                "more_errors": max(len(errors) - ERRORS_SHOWN, 0),
            }
        )
    source_errors = report.get("source_errors")
    source_errors = source_errors if isinstance(source_errors, list) else []
    omitted = report.get("omitted") if isinstance(report.get("omitted"), dict) else {}
    defaulted, warnings = _notices(datasets if isinstance(datasets, list) else [])
    return {
        "datasets": problems,
        "dataset_count": len(entries),
        "page": page,
        "page_count": max(-(-len(entries) // per_page), 1),
        "source_errors": [_error(error) for error in source_errors[:SOURCE_ERRORS_SHOWN]],
        "more_source_errors": max(len(source_errors) - SOURCE_ERRORS_SHOWN, 0),
        "omitted_datasets": sum(_count(omitted.get(status)) for status in PROBLEM_STATUSES),
        "omitted_source_errors": _count(omitted.get("source_errors")),
        "defaulted": defaulted,
        "warnings": warnings,
    }


def _notices(entries: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """How many datasets had each field filled by a default (and by what), and each kind of
    warning: a run of thousands of datasets sums up in a few lines (the API has each one)."""
    defaulted: Counter = Counter()
    warnings: Counter = Counter()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for item in entry.get("defaulted") if isinstance(entry.get("defaulted"), list) else []:
            if isinstance(item, dict):
                defaulted[(_text(item.get("field"), 100), _text(item.get("by"), 100))] += 1
        for item in entry.get("warnings") if isinstance(entry.get("warnings"), list) else []:
            warnings[_error(item)["code"] or "-"] += 1
    return (
        [
            {"field": field, "by": by, "count": n}
            for (field, by), n in defaulted.most_common(NOTICES_SHOWN)
        ],
        [{"code": code, "count": n} for code, n in warnings.most_common(NOTICES_SHOWN)],
    )
