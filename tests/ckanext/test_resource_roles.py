"""Resource roles come from the contract: the dataset schema takes exactly its roles."""

from __future__ import annotations

import pytest

from tests.factories import Metadata
from vierstaedte_contract.dataset import ROLE_FIELD, ROLE_LABELS, ROLES


def _post(app, action, data, token, status=200):
    headers = {"Authorization": token}
    return app.post(f"/api/3/action/{action}", json=data, headers=headers, status=status).json


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestRoles:
    @pytest.mark.parametrize("role", ROLES)
    def test_each_role_of_the_contract_is_accepted(self, app, city_editor, role):
        dataset = _post(app, "package_create", Metadata(), city_editor["token"])["result"]
        resource = _post(
            app,
            "resource_create",
            {
                "package_id": dataset["id"],
                "url": "https://www.mainz.de/a.csv",
                ROLE_FIELD: role,
            },
            city_editor["token"],
        )["result"]
        assert resource[ROLE_FIELD] == role

    def test_a_role_outside_the_contract_is_refused(self, app, city_editor):
        dataset = _post(app, "package_create", Metadata(), city_editor["token"])["result"]
        error = _post(
            app,
            "resource_create",
            {
                "package_id": dataset["id"],
                "url": "https://www.mainz.de/a.csv",
                ROLE_FIELD: "raw-ish",
            },
            city_editor["token"],
            status=409,
        )["error"]
        assert ROLE_FIELD in error

    def test_the_form_offers_the_contract_roles_with_their_labels(self, app):
        from ckan.plugins import toolkit as tk

        with app.flask_app.test_request_context():
            choices = tk.h.vierstaedte_role_choices({})
        assert [c["value"] for c in choices] == list(ROLES)
        assert all(c["label"] == ROLE_LABELS[c["value"]] for c in choices)
