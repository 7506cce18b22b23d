"""One certification: the plan, the pytest run and its plugin, the evidence recorded, the
verdicts, the baseline, latency, the harness simulators and the selftest against defects."""
