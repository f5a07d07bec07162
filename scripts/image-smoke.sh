#!/usr/bin/env bash
# Builds the Dockerfile with buildah and checks the image: the version is
# stamped, it runs as a non-root user, it has no shell, and `serve` answers
# /healthz. Needs root, buildah and (when the golang base image cannot be
# pulled, e.g. behind a registry-less network) debootstrap: then a stand-in
# golang:GO_VERSION-bookworm is made from Debian bookworm (minbase +
# ca-certificates, plus this machine's CA bundle for TLS-intercepting
# proxies) and this machine's Go. Not run by CI (no container builder there).
#
#   sudo scripts/image-smoke.sh            # apt-get install buildah debootstrap first
set -euo pipefail
cd "$(dirname "$0")/.."

GO_VERSION=${GO_VERSION:-1.26}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
IMAGE=${IMAGE:-ghcr.io/gatehouse/gatehouse}:smoke
BASE=docker.io/library/golang:${GO_VERSION}-bookworm
PORT=${PORT:-18099}

pull=missing
if ! buildah inspect --type image "$BASE" >/dev/null 2>&1 && ! buildah pull -q "$BASE" >/dev/null 2>&1; then
  echo "cannot pull $BASE: making a stand-in from Debian bookworm and $(go env GOROOT)"
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  ctr=$(buildah from scratch)
  buildah copy "$ctr" "$rootfs" / >/dev/null
  buildah copy "$ctr" "$(go env GOROOT)" /usr/local/go >/dev/null
  buildah config --env PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env GOTOOLCHAIN=local "$ctr"
  buildah commit -q "$ctr" "$BASE" >/dev/null
  buildah rm "$ctr" >/dev/null
  rm -rf "$rootfs"
  pull=never
fi

# chroot isolation: no cgroup or network namespace setup needed.
buildah bud --isolation chroot --pull=$pull --layers=false --build-arg GO_VERSION="$GO_VERSION" \
  --build-arg VERSION="$VERSION" -t "$IMAGE" .

user=$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")
[[ $user != "" && $user != 0* && $user != root* ]] || { echo "image runs as root ($user)"; exit 1; }

ctr=$(buildah from --pull=never "$IMAGE")
trap 'buildah rm "$ctr" >/dev/null' EXIT
out=$(buildah run --isolation chroot "$ctr" -- /usr/local/bin/gatehouse version)
[[ $out == *"$VERSION"* ]] || { echo "version: $out, want $VERSION"; exit 1; }
if buildah run --isolation chroot "$ctr" -- /bin/sh -c true >/dev/null 2>&1; then echo "the image has a shell"; exit 1; fi

cfg=$(mktemp)
printf 'gateway:\n  listen: 127.0.0.1:%s\n  apis:\n    - { name: hello, path: hello, serviceUrl: "http://127.0.0.1:1/api", subscriptionRequired: false }\n' "$PORT" > "$cfg"
chmod 0644 "$cfg"   # the image user must read it
buildah copy "$ctr" "$cfg" /etc/gatehouse/gatehouse.yaml >/dev/null
rm -f "$cfg"
buildah run --isolation chroot --user "$user" "$ctr" -- /usr/local/bin/gatehouse serve --config /etc/gatehouse/gatehouse.yaml &
pid=$!
ok=
for _ in $(seq 100); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.1
done
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
[[ -n $ok ]] || { echo "serve did not answer /healthz"; exit 1; }
echo "OK $IMAGE: $out, user $user, no shell, /healthz answers"
