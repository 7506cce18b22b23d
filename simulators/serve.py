"""Run one simulator of a topology under uvicorn: ``python -m simulators.serve --name NAME``.

This is what every backend starts (a local process, or the command of a container).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from simulators.common.settings import Settings, SettingsError
from simulators.common.topology import TopologyError
from simulators.registry import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.serve", description=__doc__)
    parser.add_argument("--name", help="simulator name in the topology (default: the first)")
    parser.add_argument("--topology", type=Path, help="topology file (default: embedded)")
    parser.add_argument("--data-dir", type=Path, help="folder for the SQLite files")
    parser.add_argument("--host", help="override the topology's host")
    parser.add_argument("--port", type=int, help="override the topology's port")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(args.name, args.topology, args.data_dir)
    except (TopologyError, SettingsError) as exc:
        print(f"meshcert: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)
    uvicorn.run(app, host=args.host or settings.spec.host, port=args.port or settings.spec.port,
                log_level="warning", access_log=False, loop="uvloop", http="httptools")
    return 0


if __name__ == "__main__":
    sys.exit(main())
