"""Harvest runs: each city's harvester records every run, the portal shows them.

ckanext-harvest keeps jobs, objects and errors in five tables, grows them
without bound and needs a cron job before a job counts as finished. Our
harvesters run outside CKAN, so they send one finished run report instead
(``vierstaedte_harvest_run_create``); CKAN stores it as sent, keeps only the
newest ``ckanext.vierstaedte.harvest_runs_kept`` runs per city and answers
"how did the last harvest of Mainz go, and which datasets failed?"

Reports are written by harvesters, i.e. untrusted: the validators below only
check their shape and size, and ``report_problems`` turns them into plain
strings for the (auto-escaping) templates.
"""
from __future__ import annotations

import datetime
import json
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import defer

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.vierstaedte.logic import schema
from ckanext.vierstaedte.model import COUNT_KEYS, RUN_STATUSES, HarvestRun

Invalid = tk.Invalid
_ = tk._

DATASET_STATUSES = ("added", "updated", "unchanged", "withdrawn", "rejected", "errored")
PROBLEM_STATUSES = ("rejected", "errored")
MAX_LIMIT = 100
MAX_MESSAGE_CHARS = 2000
# a JSON-escaped NUL character (an odd number of backslashes before u0000):
# PostgreSQL's jsonb refuses it, so it must be a validation error, not a 500
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


# Validators (registered through IValidators, used by logic/schema.py)

def vierstaedte_organization_id(value: Any, context: dict) -> Any:
    """An active organisation by name or id; stored as its id."""
    group = model.Group.get(str(value))
    if group is None or not group.is_organization or group.state != "active":
        raise Invalid(_("Unbekannte Organisation: {value}").format(value=value))
    return group.id


def vierstaedte_utc_datetime(value: Any, context: dict) -> Any:
    """An ISO 8601 time, as an aware UTC datetime; a time without offset counts as UTC."""
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise Invalid(
                _("Kein gültiger ISO-8601-Zeitpunkt: {value} (erwartet z. B. 2026-11-21T03:00:00Z)").format(value=value)
            )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def vierstaedte_harvest_run_status(value: Any, context: dict) -> Any:
    if value not in RUN_STATUSES:
        raise Invalid(
            _("Unbekannter Status: {value}. Erlaubt sind: {allowed}").format(value=value, allowed=", ".join(RUN_STATUSES))
        )
    return value


def _json_object(value: Any, what: str) -> dict[str, Any]:
    """A dict, or a JSON text of one (form posts and query strings send text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise Invalid(_("{what} ist kein gültiges JSON: {error}").format(what=what, error=error))
    if not isinstance(value, dict):
        raise Invalid(_("{what} muss ein JSON-Objekt sein.").format(what=what))
    return value


def vierstaedte_harvest_counts(value: Any, context: dict) -> Any:
    """The six counts of a run, each a whole number ≥ 0; missing counts are 0."""
    counts = _json_object(value, _("Die Zählung"))
    unknown = sorted(set(counts) - set(COUNT_KEYS))
    if unknown:
        raise Invalid(
            _("Unbekannte Zählung: {unknown}. Erlaubt sind: {allowed}").format(
                unknown=", ".join(map(str, unknown)), allowed=", ".join(COUNT_KEYS)
            )
        )
    result = {}
    for key in COUNT_KEYS:
        number = counts.get(key, 0)
        if isinstance(number, str) and number.strip().isdigit():
            number = int(number)
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise Invalid(_("{key} muss eine ganze Zahl ≥ 0 sein, nicht: {value}").format(key=key, value=number))
        result[key] = number
    return result


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".replace(".", ",") + " MB"


def vierstaedte_harvest_report(value: Any, context: dict) -> Any:
    """The run report: a JSON object no larger than the configured maximum.

    Only the parts the portal reads are checked (``datasets`` entries and
    ``source_errors``); anything else the harvester adds is kept as sent.
    """
    report = _json_object(value, _("Der Bericht"))
    try:
        text = json.dumps(report, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise Invalid(_("Der Bericht lässt sich nicht als JSON speichern: {error}").format(error=error))
    size = len(text.encode("utf-8"))
    limit = tk.asint(tk.config.get("ckanext.vierstaedte.harvest_report_max_bytes"))
    if size > limit:
        raise Invalid(
            _("Der Bericht ist zu groß: {size} ({bytes} Bytes); erlaubt sind höchstens {limit}.").format(
                size=_megabytes(size), bytes=size, limit=_megabytes(limit)
            )
        )
    if _ESCAPED_NUL.search(text):
        raise Invalid(_("Der Bericht enthält ein NUL-Zeichen (\\u0000); das kann nicht gespeichert werden."))
    datasets = report.get("datasets", [])
    if not isinstance(datasets, list):
        raise Invalid(_("„datasets“ im Bericht muss eine Liste sein."))
    for index, entry in enumerate(datasets):
        if not isinstance(entry, dict):
            raise Invalid(_("datasets[{index}] im Bericht muss ein JSON-Objekt sein.").format(index=index))
        if entry.get("status") not in DATASET_STATUSES:
            raise Invalid(
                _("datasets[{index}].status im Bericht ist unbekannt: {value}. Erlaubt sind: {allowed}").format(
                    index=index, value=entry.get("status"), allowed=", ".join(DATASET_STATUSES)
                )
            )
        if not isinstance(entry.get("errors", []), list):
            raise Invalid(_("datasets[{index}].errors im Bericht muss eine Liste sein.").format(index=index))
    if not isinstance(report.get("source_errors", []), list):
        raise Invalid(_("„source_errors“ im Bericht muss eine Liste sein."))
    return report


def vierstaedte_harvester_version(value: Any, context: dict) -> Any:
    value = str(value).strip()
    if len(value) > 100:
        raise Invalid(_("Die Harvester-Version darf höchstens 100 Zeichen lang sein."))
    return value


def vierstaedte_harvest_run_limit(value: Any, context: dict) -> Any:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        return value  # not a whole number: int_validator has said so already
    if value is None or not 1 <= value <= MAX_LIMIT:
        raise Invalid(_("Muss zwischen 1 und {max} liegen, nicht: {value}").format(max=MAX_LIMIT, value=value))
    return value


def get_validators() -> dict[str, Any]:
    return {
        "vierstaedte_organization_id": vierstaedte_organization_id,
        "vierstaedte_utc_datetime": vierstaedte_utc_datetime,
        "vierstaedte_harvest_run_status": vierstaedte_harvest_run_status,
        "vierstaedte_harvest_counts": vierstaedte_harvest_counts,
        "vierstaedte_harvest_report": vierstaedte_harvest_report,
        "vierstaedte_harvester_version": vierstaedte_harvester_version,
        "vierstaedte_harvest_run_limit": vierstaedte_harvest_run_limit,
    }


# Actions

def _newest_first(query):
    return query.order_by(HarvestRun.started.desc(), HarvestRun.created.desc(), HarvestRun.id.desc())


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


def _drop_old_runs(organization_id: str) -> None:
    """Keep only the newest runs of a city: a bounded history, unlike ckanext-harvest's."""
    kept = tk.asint(tk.config.get("ckanext.vierstaedte.harvest_runs_kept"))
    stale = _newest_first(
        sa.select(HarvestRun.id).where(HarvestRun.organization_id == organization_id)
    ).offset(kept)
    model.Session.execute(sa.delete(HarvestRun).where(HarvestRun.id.in_(stale)))


def vierstaedte_harvest_run_create(context, data_dict):
    """Record a finished harvest run of one city; returns the stored run.

    Allowed for whoever may publish datasets in that city (its editors and
    admins, sysadmins), so a city's harvester token records only its own runs.
    """
    tk.check_access("vierstaedte_harvest_run_create", context, data_dict)
    data = schema.validate(data_dict, schema.harvest_run_create(), context)
    errors = _cross_field_errors(data)
    if errors:
        raise tk.ValidationError(errors)
    user = model.User.get(context.get("user") or "")
    run = HarvestRun(
        organization_id=data["organization"],
        started=data["started"],
        finished=data["finished"],
        status=data["status"],
        counts=data["counts"],
        report=data["report"],
        harvester_version=data.get("harvester_version"),
        created_by=user.id if user else None,
    )
    model.Session.add(run)
    model.Session.flush()
    _drop_old_runs(run.organization_id)
    result = run.as_dict()
    model.Session.commit()
    return result


@tk.side_effect_free
def vierstaedte_harvest_run_list(context, data_dict):
    """The runs of one city, newest first: ``{"count": …, "results": […]}``.

    Without ``include_report`` the reports (up to megabytes each) are neither
    loaded nor returned.
    """
    tk.check_access("vierstaedte_harvest_run_list", context, data_dict)
    data = schema.validate(data_dict, schema.harvest_run_list(), context)
    query = model.Session.query(HarvestRun).filter(HarvestRun.organization_id == data["organization"])
    count = query.count()
    if not data["include_report"]:
        query = query.options(defer(HarvestRun.report))
    runs = _newest_first(query).offset(data["offset"]).limit(data["limit"]).all()
    return {"count": count, "results": [run.as_dict(include_report=data["include_report"]) for run in runs]}


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

def _text(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "…"


def _error(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {"code": _text(value.get("code")), "message": _text(value.get("message", value))}
    return {"code": "", "message": _text(value)}


def report_problems(report: Any) -> dict[str, list[dict[str, Any]]]:
    """The rejected and errored datasets and the source errors of a report, as plain strings."""
    report = report if isinstance(report, dict) else {}
    datasets = report.get("datasets")
    problems = []
    for entry in datasets if isinstance(datasets, list) else []:
        if not isinstance(entry, dict) or entry.get("status") not in PROBLEM_STATUSES:
            continue
        errors = entry.get("errors")
        problems.append({
            "title": _text(entry.get("title")),
            "ckan_name": _text(entry.get("ckan_name")),
            "source_id": _text(entry.get("source_id")),
            "status": entry["status"],
            "errors": [_error(error) for error in (errors if isinstance(errors, list) else [])],
        })
    source_errors = report.get("source_errors")
    return {
        "datasets": problems,
        "source_errors": [_error(error) for error in (source_errors if isinstance(source_errors, list) else [])],
    }
