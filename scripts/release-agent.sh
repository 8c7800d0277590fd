#!/usr/bin/env bash
# release-agent.sh VERSION [OUT]: build the branch agent for the platforms HQ
# releases (linux/amd64 and linux/arm64), version stamped, into OUT (default
# dist/agent-VERSION) as ticketero-agent-linux-<arch>. The agent needs cgo
# (mattn/go-sqlite3), so arm64 is cross-compiled with Debian's
# aarch64-linux-gnu-gcc (packages gcc-aarch64-linux-gnu libc6-dev-arm64-cross,
# installed by scripts/dev-services.sh); amd64 uses the host's gcc on amd64
# or x86_64-linux-gnu-gcc elsewhere. ARCHES="arm64" builds only some.
# The binaries link glibc dynamically: built on Debian 12, they run on boxes
# with glibc 2.36 or newer (Debian 12, Ubuntu 24.04).
# Then sign each one offline and publish it (docs/operations.md §6).
set -euo pipefail

VERSION=${1:?usage: release-agent.sh VERSION [OUT]}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${2:-$ROOT/dist/agent-$VERSION}
ARCHES=${ARCHES:-amd64 arm64}
mkdir -p "$OUT"

host=$(go env GOHOSTARCH)
for arch in $ARCHES; do
	case $arch in
	amd64) gnu=x86_64-linux-gnu ;;
	arm64) gnu=aarch64-linux-gnu ;;
	*)
		echo "release-agent: arch $arch is not amd64 or arm64" >&2
		exit 2
		;;
	esac
	cc=gcc
	if [ "$arch" != "$host" ]; then
		cc=$gnu-gcc
		if ! command -v "$cc" >/dev/null; then
			echo "release-agent: $cc not found: apt-get install gcc-$gnu libc6-dev-${arch}-cross (scripts/dev-services.sh does)" >&2
			exit 1
		fi
	fi
	bin=$OUT/ticketero-agent-linux-$arch
	echo "release-agent: $VERSION linux/$arch (CC=$cc) -> $bin" >&2
	(cd "$ROOT" && CGO_ENABLED=1 GOOS=linux GOARCH=$arch CC=$cc \
		go build -trimpath -ldflags "-X main.version=$VERSION" -o "$bin" ./agent/cmd/ticketero-agent)
done
