"""The suite's warning policy (pyproject.toml): our deprecated calls fail, libraries' are sorted.

Each warning is issued as if from the module named, the way ``warnings.warn`` attributes one to
its caller, under the filters pytest applies to every test.
"""

from __future__ import annotations

import warnings

import pytest


def _warn(message: str, module: str) -> None:
    path = module.replace(".", "/") + ".py"
    warnings.warn_explicit(message, DeprecationWarning, path, 1, module=module, registry={})


@pytest.mark.parametrize(
    "module",
    ["ckanext.vierstaedte.logic.tables", "vierstaedte_harvest.normalise", "vierstaedte_contract"],
)
def test_a_deprecated_call_in_our_code_fails_the_test(module):
    with pytest.raises(DeprecationWarning, match="old spelling"):
        _warn("old spelling, use the new one", module)


def test_a_library_deprecation_we_know_is_ignored_and_a_new_one_shows():
    with warnings.catch_warnings(record=True) as shown:
        _warn("ConjunctiveGraph is deprecated, use Dataset instead.", "ckanext.dcat.processors")
        _warn("distutils Version classes are deprecated.", "ckanext.datastore.backend.postgres")
        _warn("SomethingElse is deprecated", "ckanext.dcat.processors")
    assert [str(warning.message) for warning in shown] == ["SomethingElse is deprecated"]
