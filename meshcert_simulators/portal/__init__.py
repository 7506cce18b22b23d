"""The portal simulator (a Mynaportal-like service): meshcert_simulators/portal/README.md."""
