"""Locustfiles of the load scenarios (see README.md here); run only in Locust's own process."""
