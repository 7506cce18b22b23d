"""Root conftest: pytest loads meshcert's plugin for every run in this tree."""

pytest_plugins = ["meshcert.certify.plugin"]
