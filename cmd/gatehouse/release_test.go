package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The container image cannot be built where these tests run (no registry
// with golang or distroless base images is reachable, and CI has no
// container daemon), so TestDockerfile checks the properties the image
// must have, and TestRelease builds a release binary for real.

const repoRoot = "../.."

func readRepo(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dockerInstr is one Dockerfile instruction with continuation lines joined.
type dockerInstr struct {
	op, args string
	line     int
}

func parseDockerfile(t *testing.T, text string) (stages [][]dockerInstr) {
	t.Helper()
	var cur string
	start := 0
	flush := func() {
		s := strings.TrimSpace(cur)
		cur = ""
		if s == "" {
			return
		}
		op, args, _ := strings.Cut(s, " ")
		in := dockerInstr{op: strings.ToUpper(op), args: strings.TrimSpace(args), line: start}
		if in.op == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			if in.op != "ARG" {
				t.Fatalf("Dockerfile:%d: %s before the first FROM", in.line, in.op)
			}
			return
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	for i, l := range strings.Split(text, "\n") {
		trim := strings.TrimSpace(l)
		if cur == "" && (trim == "" || strings.HasPrefix(trim, "#")) {
			continue
		}
		if cur == "" {
			start = i + 1
		}
		if strings.HasSuffix(trim, "\\") {
			cur += strings.TrimSuffix(trim, "\\") + " "
			continue
		}
		cur += trim
		flush()
	}
	flush()
	return stages
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, readRepo(t, "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	if !regexp.MustCompile(`golang:\S+ AS build$`).MatchString(build[0].args) {
		t.Errorf("first stage %q: want a golang image named build", build[0].args)
	}
	var buildCmd string
	for _, in := range build {
		if in.op == "RUN" && strings.Contains(in.args, "go build") {
			buildCmd = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=${VERSION}", "./cmd/gatehouse"} {
		if !strings.Contains(buildCmd, want) {
			t.Errorf("the go build step lacks %q: %s", want, buildCmd)
		}
	}
	if base := final[0].args; base != "scratch" && !strings.HasPrefix(base, "gcr.io/distroless/static") {
		t.Errorf("final stage FROM %s: want scratch or distroless static", base)
	}
	var user, entry, health string
	var exposed []string
	copies := ""
	for _, in := range final[1:] {
		switch in.op {
		case "RUN", "SHELL":
			t.Errorf("Dockerfile:%d: %s in the final stage needs a shell; there is none", in.line, in.op)
		case "HEALTHCHECK":
			health = in.args
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entry = in.args
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(in.args)...)
		case "COPY":
			copies += in.args + "\n"
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("final stage USER %q: want a non-root user", user)
	} else if !strings.Contains(readRepo(t, "deploy/kubernetes/deployment.yaml"), "runAsUser: "+uid+"\n") {
		t.Errorf("deploy/kubernetes/deployment.yaml does not run as the image's user %s", uid)
	}
	// The health check runs the binary itself (exec form): no shell, no curl.
	if _, cmd, _ := strings.Cut(health, "CMD "); !strings.Contains(health, "CMD [") || !strings.Contains(cmd, `"/usr/local/bin/gatehouse", "healthcheck"`) {
		t.Errorf("HEALTHCHECK %q: want CMD [\"/usr/local/bin/gatehouse\", \"healthcheck\" ...]", health)
	}
	var argv []string
	if err := json.Unmarshal([]byte(entry), &argv); err != nil || len(argv) == 0 || !strings.HasSuffix(argv[0], "/gatehouse") {
		t.Errorf("ENTRYPOINT %q: want the exec form (no shell) running gatehouse", entry)
	}
	for _, p := range []string{"8080", "8081", "9090"} {
		if !strings.Contains(" "+strings.Join(exposed, " ")+" ", " "+p+" ") {
			t.Errorf("port %s is not EXPOSEd (%v)", p, exposed)
		}
	}
	// The build stage prepares /out with the binary, CA certificates and
	// /etc/passwd; the final stage takes it (or names the files itself).
	all := readRepo(t, "Dockerfile")
	for _, want := range []string{"ca-certificates.crt", "/etc/passwd", "65532"} {
		if !strings.Contains(all, want) {
			t.Errorf("Dockerfile does not provide %s", want)
		}
	}
	if !strings.Contains(copies, "--from=build") {
		t.Errorf("the final stage copies nothing from the build stage")
	}

	ignore := readRepo(t, ".dockerignore")
	for _, want := range []string{".git", ".gatehouse", "dist"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `$`).MatchString(ignore) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}

	// One image name: the Makefile builds it, Kubernetes runs it.
	m := regexp.MustCompile(`(?m)^IMAGE\s*\?=\s*(\S+)`).FindStringSubmatch(readRepo(t, "Makefile"))
	if m == nil {
		t.Fatal("Makefile has no IMAGE ?= name")
	}
	if !strings.Contains(readRepo(t, "deploy/kubernetes/deployment.yaml"), "image: "+m[1]+"\n") ||
		!strings.Contains(readRepo(t, "deploy/kubernetes/kustomization.yaml"), "- name: "+m[1]+"\n") {
		t.Errorf("deploy/kubernetes does not run the image the Makefile builds (%s)", m[1])
	}
}

// TestRelease runs scripts/release.sh for this machine's target and runs
// what it built: the version is stamped and SHA256SUMS matches.
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release binary from scratch (-trimpath): not in -short")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	dist := t.TempDir()
	const version = "v0.0.0-releasetest"
	target := runtime.GOOS + "/" + runtime.GOARCH
	cmd := exec.Command("bash", "scripts/release.sh")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "VERSION="+version, "TARGETS="+target, "DIST="+dist)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh: %v\n%s", err, out)
	}
	name := "gatehouse_" + version + "_" + runtime.GOOS + "_" + runtime.GOARCH
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	bin := filepath.Join(dist, name)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), version) {
		t.Fatalf("%s version: %v %q", name, err, out)
	}

	sums := readFile(t, filepath.Join(dist, "SHA256SUMS"))
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if want := hex.EncodeToString(sum[:]) + "  " + name + "\n"; sums != want {
		t.Errorf("SHA256SUMS = %q, want %q", sums, want)
	}
	// Static: no dynamic loader named in a Linux binary.
	if runtime.GOOS == "linux" && strings.Contains(string(b), "/lib64/ld-linux") {
		t.Errorf("%s is dynamically linked", name)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHealthcheck: the image's HEALTHCHECK command exits 0 on a 2xx, 1 on
// anything else or no answer, and refuses a non-loopback URL.
func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer ok.Close()
	if out, errOut, code := gatehouse(t, nil, "healthcheck", "--url", ok.URL+"/readyz"); code != 0 || !strings.HasPrefix(out, "OK ") {
		t.Errorf("healthy: exit %d %q %q", code, out, errOut)
	}
	if _, errOut, code := gatehouse(t, nil, "healthcheck", "--url", ok.URL+"/other"); code != 1 || !strings.Contains(errOut, "503") {
		t.Errorf("503: exit %d %q", code, errOut)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/readyz"
	ln.Close()
	if _, _, code := gatehouse(t, nil, "healthcheck", "--url", closed); code != 1 {
		t.Errorf("nothing listening: exit %d, want 1", code)
	}
	if _, errOut, code := gatehouse(t, nil, "healthcheck", "--url", "http://example.com/readyz"); code != 2 || !strings.Contains(errOut, "loopback") {
		t.Errorf("non-loopback URL: exit %d %q, want 2", code, errOut)
	}
}
