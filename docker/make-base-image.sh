#!/usr/bin/env bash
# Make an offline base image for docker/Dockerfile when no registry can be reached:
# debootstrap a minimal Debian of this machine's release (Python 3, venv, CA certificates),
# then `docker import` it. The Debian mirror is read from this machine's apt sources, so the
# script works wherever apt-get does (a local mirror of an air-gapped network included).
#
#   docker/make-base-image.sh [TAG]        # default meshcert-base:<codename>, e.g. bookworm
#
# Then: meshcert image build --base-image meshcert-base:bookworm
set -euo pipefail

. /etc/os-release
codename="${VERSION_CODENAME:?/etc/os-release names no VERSION_CODENAME}"
tag="${1:-meshcert-base:${codename}}"

if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "base image $tag is already present"
    exit 0
fi

# The first Debian archive URI of the apt sources (deb822 .sources files or one-line .list
# files), skipping the security archive: debootstrap needs the main one.
# (cat fails on the pattern that matches no file; that is fine.)
mirror="$(
    { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}'
      cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
          | sed -E 's/\[[^]]*\]//' | awk '$1 == "deb" {print $2}'
    } | awk '!/-security/ {print; exit}'
)" || true
if [ -z "$mirror" ]; then
    echo "make-base-image: no Debian mirror found in /etc/apt/sources.list*" >&2
    exit 2
fi
command -v debootstrap >/dev/null || {
    echo "make-base-image: debootstrap is not installed (apt-get install debootstrap)" >&2
    exit 2
}

root="$(mktemp -d /tmp/meshcert-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
echo "debootstrap $codename from $mirror"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$codename" "$root" "$mirror" >/tmp/meshcert-debootstrap.log 2>&1 || {
    tail -n 30 /tmp/meshcert-debootstrap.log >&2
    exit 1
}
# What an image does not need: apt lists and caches, docs and man pages (smaller import).
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* \
       "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
tar --numeric-owner -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
echo "made base image $tag"
