package expr

import (
	"crypto/x509"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// unspecified marks DateTime values of DateTimeKind.Unspecified (new
// DateTime(...), DateTime.Parse without zone): "o" and "K" omit the zone.
var unspecified = time.FixedZone("Unspecified", 0)

// ToString converts like C#'s ToString(): bools are "True"/"False", null is
// "", doubles use the invariant shortest round-trip form, DateTime uses
// "M/d/yyyy h:mm:ss tt", Guid is lower case with dashes, JObject/JArray are
// indented JSON and a JValue gives its raw text.
func ToString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return formatDouble(x)
	case byte:
		return strconv.Itoa(int(x))
	case Char:
		return string(rune(x))
	case time.Time:
		return formatDateTime(x, "G")
	case DateTimeOffset:
		return formatDateTimeOffset(x, "")
	case time.Duration:
		return formatTimeSpan(x, "c")
	case Guid:
		return x.String()
	case EnumValue:
		return x.Name
	case *JValue:
		return x.String()
	case JToken:
		return x.JSON(true)
	case KeyValuePair:
		return "[" + ToString(x.Key) + ", " + ToString(x.Value) + "]"
	case *URL:
		return x.String()
	case *csErr:
		return "System." + x.typ + ": " + x.msg
	case *BasicAuth:
		return "Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.Policies.Expressions.BasicAuthCredentials"
	case *x509.Certificate:
		return "[Subject]\n  " + x.Subject.String()
	case http.Header, url.Values, map[string]string, map[string][]string, Variables:
		return "System.Collections.Generic.Dictionary`2[System.String,System.String[]]"
	case *strBuilder:
		return x.b.String()
	case *regexMatch:
		return x.value()
	}
	if s, ok := v.(interface{ csString() string }); ok {
		return s.csString()
	}
	return dotnetTypeName(v)
}

// formatDouble is double.ToString() (invariant, shortest round-trip).
func formatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "∞"
	case math.IsInf(f, -1):
		return "-∞"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	i := strings.IndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp >= 15 || exp < -5 {
		mant := e[:i]
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		es := strconv.Itoa(exp)
		if len(es) < 2 {
			es = "0" + es
		}
		return mant + "E" + sign + es
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// formatValue is x.ToString(format) / {x:format}.
func formatValue(v any, format string) (string, error) {
	switch x := v.(type) {
	case time.Time:
		return formatDateTime(x, format), nil
	case DateTimeOffset:
		return formatDateTimeOffset(x, format), nil
	case time.Duration:
		return formatTimeSpan(x, format), nil
	case Guid:
		return formatGuid(x, format)
	case int32, int64, float64, byte:
		return formatNumber(v, format)
	case *JValue:
		return formatValue(x.Value, format)
	}
	return ToString(v), nil
}

func formatGuid(g Guid, f string) (string, error) {
	s := g.String()
	switch f {
	case "", "D", "d":
		return s, nil
	case "N", "n":
		return strings.ReplaceAll(s, "-", ""), nil
	case "B", "b":
		return "{" + s + "}", nil
	case "P", "p":
		return "(" + s + ")", nil
	}
	return "", errFormat("Format string can be only \"D\", \"d\", \"N\", \"n\", \"P\", \"p\", \"B\", \"b\", \"X\" or \"x\".")
}

// formatNumber implements the standard numeric formats D, F, N, X, E, G, P
// and simple custom patterns ("0.00", "#,##0", "000").
func formatNumber(v any, format string) (string, error) {
	k, i, f := num(v)
	if format == "" || format == "G" || format == "g" || format == "R" || format == "r" {
		return ToString(v), nil
	}
	spec := format[0]
	prec := -1
	if len(format) > 1 {
		p, err := strconv.Atoi(format[1:])
		if err == nil {
			prec = p
			if prec > 99 {
				return "", errFormat("Format specifier was invalid.")
			}
		} else {
			spec = 0
		}
	}
	switch spec {
	case 'D', 'd':
		if k == kDouble {
			return "", errFormat("Format specifier was invalid.")
		}
		s := strconv.FormatInt(abs64(i), 10)
		for len(s) < prec {
			s = "0" + s
		}
		if i < 0 {
			s = "-" + s
		}
		return s, nil
	case 'X', 'x':
		if k == kDouble {
			return "", errFormat("Format specifier was invalid.")
		}
		u := uint64(i)
		if k == kInt {
			u = uint64(uint32(i))
		}
		s := strconv.FormatUint(u, 16)
		if spec == 'X' {
			s = strings.ToUpper(s)
		}
		for len(s) < prec {
			s = "0" + s
		}
		return s, nil
	case 'F', 'f', 'N', 'n', 'P', 'p':
		if prec < 0 {
			prec = 2
		}
		if spec == 'P' || spec == 'p' {
			f *= 100
		}
		s := strconv.FormatFloat(f, 'f', prec, 64)
		if spec == 'N' || spec == 'n' || spec == 'P' || spec == 'p' {
			s = group(s)
		}
		if spec == 'P' || spec == 'p' {
			s += " %"
		}
		return s, nil
	case 'E', 'e':
		if prec < 0 {
			prec = 6
		}
		s := strconv.FormatFloat(f, 'e', prec, 64)
		j := strings.IndexByte(s, 'e')
		mant, exp := s[:j], s[j+1:]
		sign := exp[0]
		exp = exp[1:]
		for len(exp) < 3 {
			exp = "0" + exp
		}
		e := "e"
		if spec == 'E' {
			e = "E"
		}
		return mant + e + string(sign) + exp, nil
	}
	return customNumber(f, format), nil
}

func abs64(i int64) int64 {
	if i < 0 {
		return -i
	}
	return i
}

// group inserts thousands separators into a formatted number.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac := s, ""
	if j := strings.IndexByte(s, '.'); j >= 0 {
		intPart, frac = s[:j], s[j:]
	}
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String() + frac
	if neg {
		out = "-" + out
	}
	return out
}

// customNumber handles simple custom numeric formats.
func customNumber(f float64, format string) string {
	intPat, fracPat := format, ""
	if j := strings.IndexByte(format, '.'); j >= 0 {
		intPat, fracPat = format[:j], format[j+1:]
	}
	minInt := strings.Count(intPat, "0")
	minFrac := strings.Count(fracPat, "0")
	maxFrac := minFrac + strings.Count(fracPat, "#")
	s := strconv.FormatFloat(math.Abs(f), 'f', maxFrac, 64)
	ip, fp := s, ""
	if j := strings.IndexByte(s, '.'); j >= 0 {
		ip, fp = s[:j], s[j+1:]
	}
	for len(fp) > minFrac && strings.HasSuffix(fp, "0") {
		fp = fp[:len(fp)-1]
	}
	for len(ip) < minInt {
		ip = "0" + ip
	}
	if minInt == 0 && ip == "0" {
		ip = ""
	}
	if strings.Contains(intPat, ",") {
		ip = group(ip)
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if f < 0 && out != "" && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	if out == "" {
		out = "0"
	}
	return out
}

var (
	dayNames   = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

// standardDate expands single-letter standard DateTime formats (en-US
// patterns, as APIM's gateway renders them).
func standardDate(f string) (string, bool) {
	switch f {
	case "d":
		return "M/d/yyyy", false
	case "D":
		return "dddd, MMMM d, yyyy", false
	case "f":
		return "dddd, MMMM d, yyyy h:mm tt", false
	case "F":
		return "dddd, MMMM d, yyyy h:mm:ss tt", false
	case "g":
		return "M/d/yyyy h:mm tt", false
	case "", "G":
		return "M/d/yyyy h:mm:ss tt", false
	case "M", "m":
		return "MMMM d", false
	case "O", "o":
		return "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", false
	case "R", "r":
		return "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", true
	case "s":
		return "yyyy'-'MM'-'dd'T'HH':'mm':'ss", false
	case "t":
		return "h:mm tt", false
	case "T":
		return "h:mm:ss tt", false
	case "u":
		return "yyyy'-'MM'-'dd HH':'mm':'ss'Z'", true
	case "U":
		return "dddd, MMMM d, yyyy h:mm:ss tt", true
	case "Y", "y":
		return "MMMM yyyy", false
	}
	return f, false
}

// formatDateTime implements .NET standard and custom DateTime formats.
func formatDateTime(t time.Time, f string) string {
	pat, utc := standardDate(f)
	if utc {
		t = t.UTC()
	}
	return customDate(t, pat, t.Location() == unspecified, false)
}

func formatDateTimeOffset(d DateTimeOffset, f string) string {
	if f == "" {
		return customDate(d.T, "M/d/yyyy h:mm:ss tt zzz", false, true)
	}
	pat, _ := standardDate(f)
	if f == "o" || f == "O" {
		pat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffzzz"
	}
	return customDate(d.T, pat, false, true)
}

// FormatCustomDate renders t with a .NET custom date/time pattern (single
// letters are not expanded as standard formats). K gives "Z" for a UTC time
// and the offset for any other location.
func FormatCustomDate(t time.Time, layout string) string {
	return customDate(t, layout, false, t.Location() != time.UTC)
}

func pad(n, w int) string {
	s := strconv.Itoa(n)
	for len(s) < w {
		s = "0" + s
	}
	return s
}

// customDate renders a .NET custom date/time pattern.
func customDate(t time.Time, p string, unspec, offset bool) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		n := 1
		for i+n < len(p) && p[i+n] == c {
			n++
		}
		switch c {
		case 'y':
			y := t.Year()
			switch {
			case n == 1:
				b.WriteString(strconv.Itoa(y % 100))
			case n == 2:
				b.WriteString(pad(y%100, 2))
			default:
				b.WriteString(pad(y, n))
			}
		case 'M':
			m := int(t.Month())
			switch n {
			case 1:
				b.WriteString(strconv.Itoa(m))
			case 2:
				b.WriteString(pad(m, 2))
			case 3:
				b.WriteString(monthNames[m-1][:3])
			default:
				b.WriteString(monthNames[m-1])
			}
		case 'd':
			switch n {
			case 1:
				b.WriteString(strconv.Itoa(t.Day()))
			case 2:
				b.WriteString(pad(t.Day(), 2))
			case 3:
				b.WriteString(dayNames[t.Weekday()][:3])
			default:
				b.WriteString(dayNames[t.Weekday()])
			}
		case 'H':
			b.WriteString(pad(t.Hour(), min(n, 2)))
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(pad(h, min(n, 2)))
		case 'm':
			b.WriteString(pad(t.Minute(), min(n, 2)))
		case 's':
			b.WriteString(pad(t.Second(), min(n, 2)))
		case 'f', 'F':
			digits := pad(t.Nanosecond()/100, 7)
			if n > 7 {
				n = 7
			}
			d := digits[:n]
			if c == 'F' {
				d = strings.TrimRight(d, "0")
				if d == "" {
					// drop a preceding '.' as .NET does
					s := b.String()
					if strings.HasSuffix(s, ".") {
						b.Reset()
						b.WriteString(s[:len(s)-1])
					}
				}
			}
			b.WriteString(d)
		case 't':
			ampm := "AM"
			if t.Hour() >= 12 {
				ampm = "PM"
			}
			if n == 1 {
				ampm = ampm[:1]
			}
			b.WriteString(ampm)
		case 'K':
			if !unspec {
				if offset {
					b.WriteString(zoneOffset(t, 3))
				} else if _, off := t.Zone(); off == 0 {
					b.WriteString("Z")
				} else {
					b.WriteString(zoneOffset(t, 3))
				}
			}
			n = 1
		case 'z':
			b.WriteString(zoneOffset(t, n))
		case '\'', '"':
			end := strings.IndexByte(p[i+1:], c)
			if end < 0 {
				b.WriteString(p[i+1:])
				return b.String()
			}
			b.WriteString(p[i+1 : i+1+end])
			i += end + 2
			continue
		case '\\':
			if i+1 < len(p) {
				b.WriteByte(p[i+1])
			}
			i += 2
			continue
		case '%':
			n = 1
		default:
			b.WriteString(p[i : i+n])
		}
		i += n
	}
	return b.String()
}

func zoneOffset(t time.Time, n int) string {
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign = "-"
		off = -off
	}
	h, m := off/3600, off%3600/60
	switch n {
	case 1:
		return sign + strconv.Itoa(h)
	case 2:
		return sign + pad(h, 2)
	}
	return sign + pad(h, 2) + ":" + pad(m, 2)
}

// formatTimeSpan implements TimeSpan.ToString() ("c") and simple custom
// formats (d, hh, mm, ss, fff with '\' escapes).
func formatTimeSpan(d time.Duration, f string) string {
	neg := d < 0
	if neg {
		d = -d
	}
	days := int(d / (24 * time.Hour))
	h := int(d/time.Hour) % 24
	m := int(d/time.Minute) % 60
	s := int(d/time.Second) % 60
	ticks := int(d%time.Second) / 100
	if f == "" || f == "c" || f == "t" || f == "T" || f == "g" || f == "G" {
		var b strings.Builder
		if neg {
			b.WriteByte('-')
		}
		if days > 0 {
			b.WriteString(strconv.Itoa(days) + ".")
		}
		b.WriteString(pad(h, 2) + ":" + pad(m, 2) + ":" + pad(s, 2))
		if ticks > 0 {
			b.WriteString("." + pad(ticks, 7))
		}
		return b.String()
	}
	var b strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		n := 1
		for i+n < len(f) && f[i+n] == c {
			n++
		}
		switch c {
		case 'd':
			b.WriteString(pad(days, n))
		case 'h':
			b.WriteString(pad(h, n))
		case 'm':
			b.WriteString(pad(m, n))
		case 's':
			b.WriteString(pad(s, n))
		case 'f', 'F':
			b.WriteString(pad(ticks, 7)[:min(n, 7)])
		case '\\':
			if i+1 < len(f) {
				b.WriteByte(f[i+1])
			}
			i += 2
			continue
		case '\'':
			end := strings.IndexByte(f[i+1:], '\'')
			if end < 0 {
				return b.String()
			}
			b.WriteString(f[i+1 : i+1+end])
			i += end + 2
			continue
		default:
			b.WriteString(f[i : i+n])
		}
		i += n
	}
	return b.String()
}

// dateLayouts are tried in order by DateTime.Parse.
var dateLayouts = []struct {
	layout string
	zoned  bool
}{
	{time.RFC3339Nano, true},
	{"2006-01-02T15:04:05.9999999", false},
	{"2006-01-02 15:04:05Z07:00", true},
	{"2006-01-02 15:04:05", false},
	{"2006-01-02T15:04", false},
	{"2006-01-02", false},
	{time.RFC1123, true},
	{time.RFC1123Z, true},
	{"Mon, 2 Jan 2006 15:04:05 MST", true},
	{"1/2/2006 3:04:05 PM", false},
	{"1/2/2006 15:04:05", false},
	{"1/2/2006 3:04 PM", false},
	{"1/2/2006", false},
	{"01/02/2006 15:04:05", false},
	{"January 2, 2006", false},
	{"2 January 2006", false},
}

// parseDateTime is DateTime.Parse (invariant culture subset). Values with
// a zone are converted to UTC.
func parseDateTime(s string) (any, error) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		t, err := time.Parse(l.layout, s)
		if err != nil {
			continue
		}
		if l.zoned {
			return t.UTC(), nil
		}
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), unspecified), nil
	}
	return nil, errFormat("String '" + s + "' was not recognized as a valid DateTime.")
}

// parseExact is DateTime.ParseExact for custom patterns built from the
// common specifiers (yyyy MM dd HH mm ss fff tt K zzz, quoted literals).
func parseExact(s, f string) (any, error) {
	pat, _ := standardDate(f)
	var b strings.Builder
	zoned := false
	for i := 0; i < len(pat); {
		c := pat[i]
		n := 1
		for i+n < len(pat) && pat[i+n] == c {
			n++
		}
		switch c {
		case 'y':
			if n <= 2 {
				b.WriteString("06")
			} else {
				b.WriteString("2006")
			}
		case 'M':
			b.WriteString([]string{"1", "01", "Jan", "January"}[min(n, 4)-1])
		case 'd':
			b.WriteString([]string{"2", "02", "Mon", "Monday"}[min(n, 4)-1])
		case 'H':
			b.WriteString("15")
		case 'h':
			b.WriteString([]string{"3", "03"}[min(n, 2)-1])
		case 'm':
			b.WriteString([]string{"4", "04"}[min(n, 2)-1])
		case 's':
			b.WriteString([]string{"5", "05"}[min(n, 2)-1])
		case 'f', 'F':
			s := b.String()
			if strings.HasSuffix(s, ".") {
				b.Reset()
				b.WriteString(s[:len(s)-1])
			}
			b.WriteString(".")
			b.WriteString(strings.Repeat("9", min(n, 7)))
		case 't':
			b.WriteString("PM")
		case 'K', 'z':
			b.WriteString("Z07:00")
			zoned = true
			n = max(n, 1)
		case '\'', '"':
			end := strings.IndexByte(pat[i+1:], c)
			if end < 0 {
				return nil, errFormat("Cannot find a matching quote character for the character '" + string(c) + "'.")
			}
			lit := pat[i+1 : i+1+end]
			if lit == "Z" {
				zoned = true
			}
			b.WriteString(lit)
			i += end + 2
			continue
		case '\\':
			if i+1 < len(pat) {
				b.WriteByte(pat[i+1])
			}
			i += 2
			continue
		default:
			lit := pat[i : i+n]
			if lit == "Z" {
				zoned = true
			}
			b.WriteString(lit)
		}
		i += n
	}
	t, err := time.Parse(b.String(), strings.TrimSpace(s))
	if err != nil {
		return nil, errFormat("String '" + s + "' was not recognized as a valid DateTime.")
	}
	if zoned {
		return t.UTC(), nil
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), unspecified), nil
}
