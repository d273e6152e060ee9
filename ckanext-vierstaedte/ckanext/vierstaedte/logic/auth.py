"""Auth functions: the city facts are public, like the organisations they describe.

The overrides of core auth functions keep the four cities apart (issue #12, point 5). Sysadmins
pass every auth function without calling it, so "refused" below means "left to the sysadmins":

* Groups are run by the sysadmins only. A group lists datasets of every city under its own title,
  so a user who could create one, or add to one, could present another city's data as an
  official list of theirs.
* A city admin cannot take a member of another city into their organisation: a harvester that
  can also write a second city is a risk for that city, and the harvester reports it in every run.
* Who belongs to a city, and in which role, is seen by that city's members only.
"""

from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan import authz, model
from ckan.logic.auth import get_group_object


@tk.auth_allow_anonymous_access
def vierstaedte_city_list(context, data_dict):
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_city_show(context, data_dict):
    return {"success": True}


def vierstaedte_harvest_run_create(context, data_dict):
    """Whoever may publish datasets in the city (its editors and admins) may record its runs."""
    org = (data_dict or {}).get("organization")
    if not org:
        return {"success": False, "msg": tk._("Keine Organisation angegeben.")}
    try:
        tk.check_access("package_create", context, {"owner_org": str(org)})
    except tk.NotAuthorized:
        return {
            "success": False,
            "msg": tk._("Keine Berechtigung, Harvest-Läufe für {org} zu erfassen.").format(org=org),
        }
    return {"success": True}


def vierstaedte_council_write(context, data_dict):
    """The council store's write and state actions: whoever may publish datasets in the city
    (its editors and admins, i.e. its harvester; sysadmins), so a city never writes another."""
    city = (data_dict or {}).get("city")
    if not city or not isinstance(city, str):
        return _refused(tk._("Keine Stadt angegeben."))
    try:
        tk.check_access("package_create", context, {"owner_org": city})
    except tk.NotAuthorized:
        return _refused(
            tk._("Keine Berechtigung, Ratsinformationen für {city} zu schreiben.").format(
                city=city[:100]
            )
        )
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_harvest_run_list(context, data_dict):
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_harvest_run_show(context, data_dict):
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_indicator_query(context, data_dict):
    """Public: it reads only public datasets, each DataStore search checks its own access."""
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_indicator_list(context, data_dict):
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_public_data(context, data_dict):
    """The export and the bot tools read public datasets only, so anyone may call them."""
    return {"success": True}


def _refused(message: str) -> dict:
    return {"success": False, "msg": message}


def _is_member(context, group: model.Group) -> bool:
    return authz.users_role_for_group_or_org(group.id, context.get("user")) is not None


def _in_other_organization(user: model.User, group: model.Group) -> bool:
    """Whether ``user`` belongs, in any role, to an active organisation other than ``group``."""
    return model.Session.query(
        model.Session.query(model.Member)
        .join(model.Group, model.Member.group_id == model.Group.id)
        .filter(
            model.Member.table_name == "user",
            model.Member.table_id == user.id,
            model.Member.state == "active",
            model.Group.state == "active",
            model.Group.is_organization.is_(True),
            model.Group.id != group.id,
        )
        .exists()
    ).scalar()


def _sysadmins_only(context, data_dict):
    return _refused(tk._("Gruppen verwalten nur die Systemadministratoren."))


@tk.chained_auth_function
def member_create(next_auth, context, data_dict):
    """Every membership change goes through here (also organization_/group_member_create)."""
    group = get_group_object(context, data_dict)
    if not group.is_organization:
        return _sysadmins_only(context, data_dict)
    object_type = data_dict.get("object_type")
    if object_type == "user":
        user = model.User.get(data_dict.get("object"))
        if user is not None and _in_other_organization(user, group):
            return _refused(
                tk._(
                    "{user} gehört zu einer anderen Stadt; nur Systemadministratoren "
                    "nehmen ihn hier auf."
                ).format(user=user.name)
            )
    elif object_type == "package":
        package = model.Package.get(data_dict.get("object"))
        if package and package.owner_org != group.id:
            return _refused(tk._("Der Datensatz gehört einer anderen Organisation."))
    return next_auth(context, data_dict)


def member_delete(context, data_dict):
    """Core's rule for organisations (the right to update it), without going through member_create.

    Core's member_delete asks member_create, which would stop a city admin from removing a member
    who also belongs to another city; removing them is what must stay possible.
    """
    group = get_group_object(context, data_dict)
    if not group.is_organization:
        return _sysadmins_only(context, data_dict)
    if authz.has_user_permission_for_group_or_org(group.id, context.get("user"), "update"):
        return {"success": True}
    message = tk._("Keine Berechtigung, Mitglieder von {org} zu entfernen.")
    return _refused(message.format(org=group.name))


def member_list(context, data_dict):
    group = get_group_object(context, data_dict)
    if _is_member(context, group):
        return {"success": True}
    return _refused(tk._("Die Mitglieder sehen nur Mitglieder von {org}.").format(org=group.name))


@tk.auth_allow_anonymous_access
def organization_list_for_user(context, data_dict):
    """Anyone may ask about themselves (no ``id``: the caller); about others only sysadmins."""
    asked = (data_dict or {}).get("id")
    if not asked:
        return {"success": True}
    user, caller = model.User.get(asked), model.User.get(context.get("user") or "")
    if user is not None and caller is not None and user.id == caller.id:
        return {"success": True}
    return _refused(tk._("Nur Systemadministratoren sehen die Organisationen anderer Nutzer."))


@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def organization_show(next_auth, context, data_dict):
    """Also group_show: ``include_users`` lists the members with their roles."""
    if tk.asbool((data_dict or {}).get("include_users", False)) and not _is_member(
        context, get_group_object(context, data_dict)
    ):
        return _refused(tk._("Die Mitglieder sehen nur Mitglieder der Organisation."))
    return next_auth(context, data_dict)


def get_auth_functions():
    return {
        "vierstaedte_city_list": vierstaedte_city_list,
        "vierstaedte_city_show": vierstaedte_city_show,
        "vierstaedte_harvest_run_create": vierstaedte_harvest_run_create,
        "vierstaedte_harvest_run_list": vierstaedte_harvest_run_list,
        "vierstaedte_harvest_run_show": vierstaedte_harvest_run_show,
        "vierstaedte_indicator_query": vierstaedte_indicator_query,
        "vierstaedte_indicator_list": vierstaedte_indicator_list,
        "vierstaedte_catalogue_export": vierstaedte_public_data,
        "vierstaedte_tool_search_datasets": vierstaedte_public_data,
        "vierstaedte_tool_describe_dataset": vierstaedte_public_data,
        "vierstaedte_tool_query_indicator": vierstaedte_public_data,
        "vierstaedte_tool_list_indicators": vierstaedte_public_data,
        "vierstaedte_tool_compare_cities": vierstaedte_public_data,
        "vierstaedte_tool_read_rows": vierstaedte_public_data,
        "vierstaedte_tool_search_council": vierstaedte_public_data,
        "vierstaedte_council_search": vierstaedte_public_data,
        "vierstaedte_council_upsert": vierstaedte_council_write,
        "vierstaedte_council_file_text": vierstaedte_council_write,
        "vierstaedte_council_file_state": vierstaedte_council_write,
        "vierstaedte_council_sync_show": vierstaedte_council_write,
        "vierstaedte_council_sync_update": vierstaedte_council_write,
        "vierstaedte_council_paper_show": vierstaedte_public_data,
        "vierstaedte_council_meeting_show": vierstaedte_public_data,
        "vierstaedte_council_organization_show": vierstaedte_public_data,
        "vierstaedte_council_person_show": vierstaedte_public_data,
        "group_create": _sysadmins_only,
        "group_update": _sysadmins_only,
        "group_delete": _sysadmins_only,
        "member_create": member_create,
        "member_delete": member_delete,
        "member_list": member_list,
        "organization_list_for_user": organization_list_for_user,
        "organization_show": organization_show,
        "group_show": organization_show,
    }
