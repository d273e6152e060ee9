"""``ckan vierstaedte …``: seeding and maintenance commands."""

from __future__ import annotations

import ckan.plugins.toolkit as tk
import click

from ckanext.vierstaedte import seed as seeding
from ckanext.vierstaedte.logic import table_views


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


def get_commands():
    return [vierstaedte]
