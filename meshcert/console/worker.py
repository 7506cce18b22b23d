"""One certification for the console, in a process of its own: ``python -m
meshcert.console.worker --target FILE --out DIR [--seed N]``.

It runs :func:`meshcert.certify.run.certify` and prints each of the runner's progress events
as the JSON line :meth:`~meshcert.certify.events._Event.to_line` makes (what ``meshcert
certify`` shows as its progress bar), then one last line ``{"event": "result", ...}`` (or
``{"event": "config-error", "text": ...}``). The console relays the lines as server-sent
events."""

from __future__ import annotations

import argparse
import json
import sys

from meshcert.certify.events import Event
from meshcert.certify.run import certify
from meshcert.errors import ConfigError, HarnessError


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m meshcert.console.worker")
    parser.add_argument("--target", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)

    def on_event(event: Event) -> None:
        _emit(event.to_line())
    try:
        result = certify(args.target, out_dir=args.out, seed=args.seed, progress=on_event)
    except (ConfigError, HarnessError) as exc:
        _emit(json.dumps({"event": "config-error", "text": str(exc)}, ensure_ascii=False))
        return 2
    verdict = "certified" if result.certified else "not certified"
    _emit(json.dumps({"event": "result", "text": f"exit {result.exit_code}: {verdict}",
                      "run_id": result.run_id,
                      "report_dir": str(result.report_dir), "exit_code": result.exit_code,
                      "certified": result.certified}))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
