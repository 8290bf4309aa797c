#!/bin/sh
# Points apt at snapshot.debian.org at one moment (worker/Dockerfile: DEBIAN_SNAPSHOT, e.g.
# 20261201T000000Z), so the packages an image build installs do not change with the archive.
# The snapshot's Release files are old by design: their expiry is not checked; their signatures
# are (the image's debian-archive-keyring).
#   worker/ffmpeg/debian-snapshot.sh TIMESTAMP
set -eu
ts="$1"
rm -f /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list
cat > /etc/apt/sources.list.d/snapshot.sources <<SOURCES
Types: deb
URIs: http://snapshot.debian.org/archive/debian/${ts}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://snapshot.debian.org/archive/debian-security/${ts}
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
echo 'Acquire::Check-Valid-Until "false";' > /etc/apt/apt.conf.d/10snapshot
echo 'Acquire::Retries "5";' >> /etc/apt/apt.conf.d/10snapshot
