package dotnetfmt

import (
	"errors"
	"strconv"
	"testing"
)

func TestComposite(t *testing.T) {
	args := []string{"a", "bb", "ccc"}
	render := func(i int, f string) (string, error) {
		if f != "" {
			return args[i] + "|" + f, nil
		}
		return args[i], nil
	}
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"{0}-{1}-{2}", "a-bb-ccc", nil},
		{"{{{0}}}", "{a}", nil},
		{"[{1,4}]", "[  bb]", nil},
		{"[{1,-4}]", "[bb  ]", nil},
		{"[{1 , 4 }]", "[  bb]", nil},
		{"{0:x2}", "a|x2", nil},
		{"{2,1}", "ccc", nil},
		{"no items", "no items", nil},
		{"{3}", "", ErrIndex},
		{"{", "", ErrFormat},
		{"}", "", ErrFormat},
		{"{a}", "", ErrFormat},
		{"{ 0}", "", ErrFormat},
		{"{0,}", "", ErrFormat},
		{"{0:{x}", "", ErrFormat},
		{"{0,2000000}", "", ErrFormat},
		{"{99999999999}", "", ErrFormat},
	} {
		got, err := Composite(tc.in, len(args), render)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("Composite(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	boom := errors.New("boom")
	if _, err := Composite("{0}", 1, func(int, string) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Errorf("argument error: %v", err)
	}
}

func FuzzComposite(f *testing.F) {
	for _, s := range []string{"{0}", "{0,-5:x}", "{{}}", "{1,3}{0}", "{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Composite(s, 2, func(i int, _ string) (string, error) { return strconv.Itoa(i), nil })
		if err == nil && len(out) > len(s)+2*maxNumber {
			t.Fatalf("output of %d bytes for a %d-byte format", len(out), len(s))
		}
	})
}
