"""A Locust user that reads one path as fast as it can (no wait): bench/loadgen.py measures how
many requests Locust's FastHttpUser makes per CPU-second of its own process."""

from __future__ import annotations

from locust import FastHttpUser, task


class Reader(FastHttpUser):
    @task
    def read(self) -> None:
        self.client.get("/municipalities/131016/residents/0633853568", name="read")
