# Build, release and image targets. `go test ./...` needs none of this.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE   ?= ghcr.io/gatehouse/gatehouse
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build release image image-smoke test clean

# gatehouse for this machine, version-stamped
build:
	CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$(LDFLAGS)" -o gatehouse ./cmd/gatehouse

# dist/gatehouse_$(VERSION)_{linux,darwin,windows}_{amd64,arm64}[.exe] and dist/SHA256SUMS
release:
	VERSION=$(VERSION) scripts/release.sh

# the container image (Dockerfile); IMAGE:VERSION, the name deploy/kubernetes uses
image:
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) .

# build the image with buildah and check it (version, non-root, no shell, /healthz); root, buildah
image-smoke:
	VERSION=$(VERSION) scripts/image-smoke.sh

test:
	go test ./...

clean:
	rm -rf dist gatehouse
