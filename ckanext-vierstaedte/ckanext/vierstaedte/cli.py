"""``ckan vierstaedte …``: seeding and maintenance commands."""

from __future__ import annotations

import ckan.plugins.toolkit as tk
import click

from ckanext.vierstaedte import seed as seeding
from ckanext.vierstaedte.council import index as council_index
from ckanext.vierstaedte.logic import table_views
from ckanext.vierstaedte.observations import sync as observation_store


def _sysadmin_context() -> dict:
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return {"user": site_user["name"], "ignore_auth": True}


@click.group(short_help="Vier Städte Open Data: Städte und Konten anlegen")
def vierstaedte():
    pass


@vierstaedte.command("init-cities")
def init_cities():
    """Create or update the four city organisations (name, AGS, regional key, geocoding URIs)."""
    seeding.ensure_cities(_sysadmin_context(), echo=click.echo)


@vierstaedte.command("ensure-sysadmin")
@click.argument("name")
@click.option("--email", required=True)
@click.option(
    "--token-file",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the API token (created with mode 600; never printed).",
)
def ensure_sysadmin(name: str, email: str, token_file: str):
    """Create the sysadmin NAME if needed and store a valid API token in a file."""
    seeding.ensure_sysadmin(name, email, token_file, echo=click.echo)


@vierstaedte.command("ensure-harvester")
@click.argument("city")
@click.option(
    "--token-file",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the harvester's API token (mode 600; never printed).",
)
def ensure_harvester(city: str, token_file: str):
    """Create the user harvester-CITY, editor of CITY only, and store its API token in a file."""
    try:
        seeding.ensure_harvester(city, token_file, echo=click.echo)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="CITY") from None


@vierstaedte.command("create-views")
def create_views():
    """Give every DataStore table without one its table view (``datatables_view``)."""
    created, kept = table_views.create_missing(_sysadmin_context())
    click.echo(f"Tabellenansichten: {created} angelegt, {kept} schon vorhanden")


@vierstaedte.group("council")
def council():
    """Council information (OParl): its Solr core."""


@council.command("reindex")
@click.option("--all", "everything", is_flag=True, help="rebuild every document of the core")
def council_reindex(everything: bool):
    """Index what a Solr outage left marked (all, if the core is empty); --all: rebuild."""
    try:
        done = council_index.rebuild() if everything else council_index.reindex()
    except council_index.SolrUnavailable as error:
        raise click.ClickException(f"Solr des Ratsinformationskerns: {error}") from None
    left = len(council_index.pending())
    click.echo(f"Ratsinformation: {done} Dokumente indexiert, {left} offen")


@vierstaedte.group("observations")
def observations():
    """The observation store: every valid public normalised row, behind the cross-city reads."""


@observations.command("rebuild")
def observations_rebuild():
    """Rebuild the store from the DataStore (idempotent; progress on stderr)."""
    done = observation_store.rebuild(echo=lambda line: click.echo(line, err=True))
    click.echo(
        f"Beobachtungen: {done['stored']} Tabellen gespeichert, {done['skipped']} übersprungen, "
        f"{done['removed']} Datensätze entfernt"
    )


@observations.command("check")
def observations_check():
    """Report where the store differs from the DataStore; exit code 1 if it does."""
    drift = observation_store.check(echo=lambda line: click.echo(line, err=True))
    for entry in drift:
        click.echo(str(entry))
    if drift:
        click.echo(
            f"Beobachtungen: {len(drift)} Abweichungen (ckan vierstaedte observations rebuild)"
        )
        raise SystemExit(1)
    click.echo("Beobachtungen: im Einklang mit dem DataStore")


def get_commands():
    return [vierstaedte]
