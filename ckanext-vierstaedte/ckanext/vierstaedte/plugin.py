"""The Vier Städte Open Data CKAN plugin. Thin: every interface delegates."""

from __future__ import annotations

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultTranslation

from ckanext.vierstaedte import cli, headers, helpers, search, solr, uploads, views
from ckanext.vierstaedte.logic import action, auth, harvest_runs, validators
from ckanext.vierstaedte.observations import actions as observations


@tk.blanket.config_declarations
class VierstaedtePlugin(p.SingletonPlugin, DefaultTranslation):
    p.implements(p.IConfigurer)
    p.implements(p.ITranslation)  # i18n/: German is the source language, English is translated
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.IValidators)
    p.implements(p.ITemplateHelpers)
    p.implements(p.IBlueprint)
    p.implements(p.IClick)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IUploader, inherit=True)  # uploads.py: data files only, of the verified type
    p.implements(p.IMiddleware, inherit=True)  # headers.py: CSP, nosniff, downloads as attachments

    # IConfigurer
    def update_config(self, config_):
        tk.add_template_directory(config_, "templates")
        tk.add_public_directory(config_, "public")
        tk.add_resource("assets", "vierstaedte")
        solr.install()  # the Solr password as Basic auth, never in URLs and errors (CKAN 2.12.0 bug)
        search.query.install()  # German search: CKAN passes ``pf`` to Solr

    # IActions / IAuthFunctions / IValidators / ITemplateHelpers / IBlueprint / IClick
    def get_actions(self):
        return action.documented({**action.get_actions(), **search.get_actions()})

    def get_auth_functions(self):
        return auth.get_auth_functions()

    def get_validators(self):
        return {**validators.get_validators(), **harvest_runs.get_validators()}

    def get_helpers(self):
        return helpers.get_helpers()

    def get_blueprint(self):
        return views.get_blueprints()

    def get_commands(self):
        return cli.get_commands()

    # IFacets
    def dataset_facets(self, facets_dict, package_type):
        return search.dataset_facets(facets_dict)

    def organization_facets(self, facets_dict, organization_type, package_type):
        return search.dataset_facets(facets_dict)

    # IPackageController
    def before_dataset_index(self, pkg_dict):
        return search.index_dataset(pkg_dict)

    def before_dataset_search(self, search_params):
        return search.query.search_params(search_params)

    def after_dataset_search(self, search_results, search_params):
        return search.after_search(search_results, search_params)

    # the observation store follows a dataset's visibility and validity (a deleted resource
    # updates its dataset); its rows follow the DataStore writes, chained in observations.actions
    def after_dataset_create(self, context, pkg_dict):
        observations.dataset_changed(pkg_dict)

    def after_dataset_update(self, context, pkg_dict):
        observations.dataset_changed(pkg_dict)

    def after_dataset_delete(self, context, pkg_dict):
        observations.dataset_deleted(pkg_dict)

    # IUploader (resources only: CKAN checks pictures itself, PNG/GIF/JPEG by content)
    def get_resource_uploader(self, data_dict):
        return uploads.resource_uploader(data_dict)

    # IMiddleware
    def make_middleware(self, app, config):
        return headers.install(app)
