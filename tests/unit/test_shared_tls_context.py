"""One client TLS context per CA file and process (meshcert_simulators/common/tls.py): making
one per HTTP client parsed a CA bundle each time and held simulators' event loops for tens of
milliseconds per request."""

from __future__ import annotations

import os
import shutil
import ssl
from pathlib import Path

from meshcert_simulators.common.tls import (
    ensure_local_tls,
    shared_client_context,
    trust_for,
)


def test_the_same_ca_file_gives_the_same_context_and_a_remade_one_a_new_one(tmp_path: Path):
    tls = ensure_local_tls(tmp_path / "tls")
    first = trust_for(tls.folder)
    assert first is trust_for(tls.folder) is shared_client_context(tls.ca_cert)
    assert first.minimum_version == ssl.TLSVersion.TLSv1_2
    assert first.verify_mode == ssl.CERT_REQUIRED
    shutil.rmtree(tls.folder)
    remade = ensure_local_tls(tmp_path / "tls")
    stat = remade.ca_cert.stat()
    os.utime(remade.ca_cert, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    again = trust_for(remade.folder)
    assert again is not first  # the new CA is trusted, not the old one's context


def test_a_folder_without_a_ca_shares_the_systems_trust(tmp_path: Path):
    assert trust_for(tmp_path) is trust_for(None) is shared_client_context()
