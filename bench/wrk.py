"""Running ``wrk`` (Debian package ``wrk``) from the benchmarks: Lua request scripts and the
figures it prints."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

THREADS, CONNECTIONS = 1, 16


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    return found


def get_script(paths: list[str], headers: dict[str, str]) -> str:
    return (f"local paths = {{{', '.join(json.dumps(p) for p in paths)}}}\n"
            + "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n"
                      for k, v in headers.items())
            + "local i = 0\nrequest = function()\n  i = i + 1\n"
              "  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n")


def inquiry_script(row: dict[str, str], codes: list[str], token: str) -> str:
    """POST /v1/inquiries with a new record id each time (the mesh never answers one twice)."""
    return (f"local codes = {{{', '.join(json.dumps(c) for c in codes)}}}\n"
            "wrk.method = 'POST'\n"
            "wrk.headers['Content-Type'] = 'application/json'\n"
            f"wrk.headers['Authorization'] = {json.dumps('Bearer ' + token)}\n"
            "local n = 0\nlocal prefix = nil\n"
            "request = function()\n"
            "  if prefix == nil then prefix = tostring(math.random(1, 1000000000)) .. "
            "tostring(os.time()) end\n"
            "  n = n + 1\n"
            "  local body = string.format('{\"record_id\":\"bench-%s-%d\",\"procedure_code\":"
            f"\"{row['procedure']}\",\"item_code\":\"{row['item']}\",\"provider\":"
            f"\"{row['provider']}\",\"code\":\"%s\"}}', prefix, n, codes[(n % #codes) + 1])\n"
            "  return wrk.format(nil, '/v1/inquiries', nil, body)\nend\n")


def run(base_url: str, script: str, seconds: float, threads: int = THREADS,
        connections: int = CONNECTIONS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "script.lua"
        path.write_text(script, encoding="utf-8")
        done = subprocess.run([require_wrk(), "-t", str(threads), "-c", str(connections),
                               "-d", f"{seconds:g}s", "--latency", "-s", str(path), base_url],
                              capture_output=True, text=True, check=False,
                              timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", done.stdout).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", done.stdout)
    errors = re.search(r"Socket errors: (.*)", done.stdout)
    return {"rps": rps, "requests": total, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1) if errors else None, "output": done.stdout}
