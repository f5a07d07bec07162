# Gatehouse container image: one static binary, no shell, non-root.
#
#   make image                       # or:
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t ghcr.io/gatehouse/gatehouse:dev .
#   docker run --rm -p 8080:8080 -v $PWD/gatehouse.yaml:/etc/gatehouse/gatehouse.yaml:ro \
#     -e GATEHOUSE_MASTER_KEY ghcr.io/gatehouse/gatehouse:dev
#
# The config's listen addresses must be 0.0.0.0:PORT inside a container. There
# is no shell or curl in the final image, so health is checked from outside:
# Kubernetes probes on /healthz and /readyz (deploy/kubernetes/deployment.yaml),
# or your orchestrator's HTTP check. The image runs as uid 65532 with its
# working directory /var/lib/gatehouse (mount a volume there for SQLite).

ARG GO_VERSION=1.26

# ---- build: a static, reproducible binary ---------------------------------
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so source edits do not re-download them.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/usr/local/bin/gatehouse ./cmd/gatehouse
# The final stage has no shell to create a user: make its /etc/passwd,
# /etc/group and working directory here.
RUN mkdir -p /out/etc/ssl/certs /out/var/lib/gatehouse /out/etc/gatehouse /out/tmp \
 && echo 'gatehouse:x:65532:65532:gatehouse:/var/lib/gatehouse:/sbin/nologin' > /out/etc/passwd \
 && echo 'gatehouse:x:65532:' > /out/etc/group \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && chmod 1777 /out/tmp && chmod 0700 /out/var/lib/gatehouse \
 && chown 65532:65532 /out/var/lib/gatehouse

# ---- run: nothing but the binary, CA certificates and the user ------------
FROM scratch
COPY --from=build /out/ /
USER 65532:65532
WORKDIR /var/lib/gatehouse
# identity, gateway, guard, site, admin (/metrics, /healthz, /readyz): the
# defaults of the docs; the config decides what actually listens.
EXPOSE 8080 8081 7071 3000 9090
# The admin listener's /readyz (admin: { listen: 127.0.0.1:9090 } in the
# config) is ready when every role is; without an admin listener, override
# it (docker run --health-cmd '/usr/local/bin/gatehouse healthcheck --url
# http://127.0.0.1:8081/readyz') or probe from outside as Kubernetes does.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/gatehouse", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/gatehouse"]
CMD ["serve", "--config", "/etc/gatehouse/gatehouse.yaml"]
