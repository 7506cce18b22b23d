"""Load and capacity runs: scenarios, the systems under load, statistics and their reports."""
