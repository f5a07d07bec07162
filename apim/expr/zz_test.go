package expr

import (
	"testing"
	"time"
)

func TestZZTime(t *testing.T) {
	for _, s := range []string{`@{ for (;;) {} }`, `@{ var s = ""; while (true) { s += "x"; } }`, `@{ var s = "x"; while (true) { s += s; } }`,
		`@(Enumerable.Range(0, 1000000).Select(x => x.ToString()).Distinct().Count())`, `@{ while(true) { new string('x', 1000000).Split('y'); } }`,
		`@{ while(true) { var a = new byte[1048576]; } }`, `@{ while(true) { Enumerable.Range(0, 1000000).ToArray(); } }`} {
		st := time.Now()
		_, err := MustCompile(s).Eval(testContext())
		t.Logf("%v %s: %v", time.Since(st), s, err)
	}
}
