module github.com/gatehouse/gatehouse

go 1.26.8

require (
	// SAML2 identity providers (identity/ief/federation/saml.go):
	// crewjam/saml builds AuthnRequests and validates Responses (XML
	// signatures by goxmldsig, encryption, conditions); etree and goxmldsig
	// are used directly for the POST binding's request and signature
	// method names. v0.6.3 is the version the module proxy serves that the
	// code was written against; it downloads, none refused.
	github.com/beevik/etree v1.8.1
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/crewjam/saml v0.6.3
	// .NET regular expressions (internal/dotnetregex). The module proxy
	// serves github.com/dlclark/regexp2 up to v1.12.0 and /v2 up to
	// v2.13.0; both download, none refused (403). v1.12.0 is the stable
	// v1 line's latest.
	github.com/dlclark/regexp2 v1.12.0
	github.com/go-jose/go-jose/v4 v4.1.8
	github.com/jackc/pgx/v5 v5.12.0
	github.com/osteele/liquid v1.6.0
	github.com/osteele/tuesday v1.0.3
	// Authenticator-app MFA (identity/totp): pquerna/otp computes RFC
	// 4226/6238 codes; skip2/go-qrcode draws the enrolment QR code (PNG).
	// Pinned: otp v1.5.0 (the proxy also serves v1.0.0, v1.3.0, v1.4.0;
	// v1.5.0 is the latest and downloads, none refused) and go-qrcode
	// v0.0.0-20200617195104-da1b6568686e (the only version the proxy
	// serves; downloads, not refused).
	github.com/pquerna/otp v1.5.0
	github.com/prometheus/client_golang v1.25.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/russellhaering/goxmldsig v1.6.1
	// JSON Schema validation for validate-content, validate-parameters and
	// validate-headers (apim/openapi_schema.go): drafts 4 to 2020-12,
	// pluggable regexp engine (.NET's, via internal/dotnetregex) and URL
	// loader (refusing all: schemas never read files or the network).
	// v6.0.3 is the latest the module proxy serves; downloads, not refused.
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	github.com/skip2/go-qrcode v0.0.0-20200617195104-da1b6568686e
	// github.com/wneessen/go-mail stays at v0.8.1: v0.8.2 requires go >= 1.26.10
	// (this toolchain is 1.26.8, GOTOOLCHAIN=local).
	github.com/wneessen/go-mail v0.8.1
	golang.org/x/crypto v0.57.0
	// HTML parsing for custom-policy page templates (identity/ief/pages).
	golang.org/x/net v0.59.0
	golang.org/x/oauth2 v0.37.0
	// modernc.org/sqlite stays at v1.60.1: v1.61.x needs (at go mod tidy) a
	// github.com/google/pprof version the module proxy refuses (403).
	modernc.org/sqlite v1.60.1
	software.sslmate.com/src/go-pkcs12 v0.7.4
)

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	// OpenTelemetry tracing (internal/tracing): API, SDK, the OTLP/HTTP
	// exporter and otelhttp (spans and traceparent on handlers and
	// transports). proto/otlp and protobuf decode spans in the binary
	// test's collector (the exporter needs both anyway). All versions
	// download from proxy.golang.org; none refused.
	go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp v0.72.0
	go.opentelemetry.io/otel v1.47.0
	go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp v1.47.0
	go.opentelemetry.io/otel/sdk v1.47.0
	go.opentelemetry.io/proto/otlp v1.11.1
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/text v0.42.0
	// gRPC: only the gateway's pass-through test (a real gRPC client and
	// service on both sides of the gateway); already in the module graph
	// through OpenTelemetry's exporter, v1.84.0 downloads, not refused.
	google.golang.org/grpc v1.84.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/cenkalti/backoff/v5 v5.0.3 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/felixge/httpsnoop v1.1.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.31.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/jonboulle/clockwork v0.5.0 // indirect
	github.com/kr/text v0.2.0 // indirect
	github.com/kylelemons/godebug v1.1.0 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/ncruces/go-strftime v1.0.0 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/rogpeppe/go-internal v1.16.0 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel/exporters/otlp/otlptrace v1.47.0 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	go.opentelemetry.io/otel/metric v1.47.0 // indirect
	go.opentelemetry.io/otel/trace v1.47.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20260928230214-8a89bd6388cc // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260928230214-8a89bd6388cc // indirect
	gopkg.in/yaml.v2 v2.4.0 // indirect
	modernc.org/libc v1.77.1 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)
