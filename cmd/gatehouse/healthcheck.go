package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

const healthcheckUsage = `usage: gatehouse healthcheck [--url URL] [--timeout D] [--insecure]
GETs URL and exits 0 when it answers 2xx, 1 otherwise: a HEALTHCHECK for
images without a shell or curl. The default is the admin listener's /readyz
(admin: { listen: 127.0.0.1:9090 }), ready when every role is. Only loopback
URLs are allowed unless --any-host is given.
`

// cmdHealthcheck probes a health endpoint for container runtimes.
func cmdHealthcheck(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	target := fl.String("url", "http://127.0.0.1:9090/readyz", "the health `URL` to GET (default: the admin listener's /readyz, ready when every role is)")
	timeout := fl.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	insecure := fl.Bool("insecure", false, "accept any TLS certificate (a role's own certificate on https://127.0.0.1)")
	anyHost := fl.Bool("any-host", false, "allow a URL that is not on this host")
	pos, code, ok := parseArgs(fl, args, healthcheckUsage, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprint(stderr, healthcheckUsage)
		return 2
	}
	u, err := url.Parse(*target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "gatehouse healthcheck: --url %q is not an http(s) URL\n", *target)
		return 2
	}
	if h := u.Hostname(); !*anyHost && h != "127.0.0.1" && h != "::1" && h != "localhost" {
		fmt.Fprintf(stderr, "gatehouse healthcheck: %s is not a loopback host (add --any-host to allow it)\n", h)
		return 2
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if *insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // #nosec: the operator asked for it, for a role's own certificate
	}
	client := &http.Client{Timeout: *timeout, Transport: tr}
	res, err := client.Get(u.String())
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse healthcheck: %v\n", err)
		return 1
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		fmt.Fprintf(stderr, "gatehouse healthcheck: %s answered %s\n", u.Redacted(), res.Status)
		return 1
	}
	fmt.Fprintf(stdout, "OK %s %s\n", u.Redacted(), res.Status)
	return 0
}
