#!/usr/bin/env bash
# Release binaries: static (CGO_ENABLED=0), -trimpath, the version stamped
# into `gatehouse version`, and dist/SHA256SUMS.
#
#   scripts/release.sh                                  # every target, version from git describe
#   VERSION=v1.2.3 TARGETS="linux/amd64" scripts/release.sh
#
# Environment: VERSION (default: git describe --tags --always --dirty, or
# "dev" outside a git checkout), TARGETS (GOOS/GOARCH list), DIST (output
# folder, default dist).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
TARGETS=${TARGETS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"}
DIST=${DIST:-dist}

mkdir -p "$DIST"
rm -f "$DIST"/gatehouse_* "$DIST"/SHA256SUMS
names=()
for target in $TARGETS; do
  os=${target%/*} arch=${target#*/}
  name="gatehouse_${VERSION}_${os}_${arch}"
  [[ $os == windows ]] && name+=".exe"
  echo "building $name"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch \
    go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=${VERSION}" -o "$DIST/$name" ./cmd/gatehouse
  names+=("$name")
done

cd "$DIST"
if command -v sha256sum >/dev/null; then
  sha256sum "${names[@]}" > SHA256SUMS
else
  shasum -a 256 "${names[@]}" > SHA256SUMS   # macOS
fi
cat SHA256SUMS
