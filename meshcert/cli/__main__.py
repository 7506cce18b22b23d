"""``python -m meshcert.cli``."""

from meshcert.cli.app import main

main()
