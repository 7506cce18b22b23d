"""The one packaging rule pyproject.toml cannot state: the data folder fixtures/ (topologies,
keys, specs, catalogs, vendors' targets) is installed as ``meshcert_fixtures``, a name that
cannot collide with another distribution's, while a checkout keeps the short path users type
(``--target fixtures/vendors/...``). Code finds it through meshcert_simulators.fixtures."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["meshcert*"], exclude=["*__pycache__*"]),
        "meshcert_fixtures",
    ],
    package_dir={"meshcert_fixtures": "fixtures"},
    package_data={
        "": ["*.yaml", "*.json", "*.csv", "*.txt", "*.j2"],
        "meshcert_fixtures": [
            "**/*.yaml",
            "**/*.json",
            "**/*.csv",
            "**/*.txt",
            "**/*.pem",
            "**/*.md",
        ],
    },
)
