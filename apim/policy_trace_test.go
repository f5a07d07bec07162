package apim

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestTraceLogsAtDebug(t *testing.T) {
	var buf bytes.Buffer
	env := &Env{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	p := tPipe(t, `<policies><inbound><trace source="My API" severity="information"><message>Condition was met</message><metadata name="k" value="v"/></trace><return-response/></inbound></policies>`)
	tRun(t, p, nil, tGet("/x"), env)
	out := buf.String()
	for _, want := range []string{"level=DEBUG", `msg="Condition was met"`, `source="My API"`, "severity=information", "metadata.k=v"} {
		if !strings.Contains(out, want) {
			t.Fatalf("%q lacks %q", out, want)
		}
	}
	tLoadErr(t, `<policies><inbound><trace source="s"/></inbound></policies>`, "trace: <message> is required")
	tLoadErr(t, `<policies><inbound><trace source="s" severity="loud"><message>m</message></trace></inbound></policies>`, "severity must be one of")
}

// The legacy form: the message is the element's text (an expression too).
func TestTraceLegacyForm(t *testing.T) {
	var buf bytes.Buffer
	env := &Env{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	p := tPipe(t, `<policies><inbound><trace source="legacy">@("path " + context.Request.Url.Path)</trace><return-response/></inbound></policies>`)
	tRun(t, p, nil, tGet("/x"), env)
	if out := buf.String(); !strings.Contains(out, `msg="path /svc/x"`) || !strings.Contains(out, "source=legacy") {
		t.Fatalf("legacy trace: %q", out)
	}
	tLoadErr(t, `<policies><inbound><trace source="s">text<message>m</message></trace></inbound></policies>`, "text beside <message>")
}
