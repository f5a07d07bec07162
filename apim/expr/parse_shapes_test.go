package expr

// Body shapes for the parse-cost tests and benchmarks: the adversarial
// bodies of tiny tokens the gateway's 16 MiB request cap admits, and
// realistic large bodies that must keep parsing.

import (
	"strconv"
	"strings"
)

// maxBody is the gateway's request body cap.
const maxBody = 16 << 20

// shortName is a unique name for i of 1-4 letters.
func shortName(i int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b [8]byte
	n := len(b)
	for {
		n--
		b[n] = letters[i%len(letters)]
		i /= len(letters)
		if i == 0 {
			return string(b[n:])
		}
		i--
	}
}

// fill writes open, then item(i) for i = 0, 1, ... (sep between) while
// the result stays within size bytes, then close.
func fill(size int, open, sep, close string, item func(i int) string) (string, int) {
	var b strings.Builder
	b.Grow(size)
	b.WriteString(open)
	n := 0
	for ; ; n++ {
		it := item(n)
		if n > 0 {
			it = sep + it
		}
		if b.Len()+len(it)+len(close) > size {
			break
		}
		b.WriteString(it)
	}
	b.WriteString(close)
	return b.String(), n
}

func constItem(s string) func(int) string { return func(int) string { return s } }

// adversarialShape is a 16 MiB body of tiny tokens.
type adversarialShape struct {
	name string
	xml  bool
	body func() (string, int) // the body and its item count
}

var adversarialShapes = []adversarialShape{
	// 8M values.
	{"JSONZeros", false, func() (string, int) { return fill(maxBody, "[", ",", "]", constItem("0")) }},
	// 5.6M empty objects.
	{"JSONEmptyObjects", false, func() (string, int) { return fill(maxBody, "[", ",", "]", constItem("{}")) }},
	// 1.8M properties of one object.
	{"JSONWideObject", false, func() (string, int) {
		return fill(maxBody, "{", ",", "}", func(i int) string { return `"` + shortName(i) + `":0` })
	}},
	// Arrays of 1M values (the element limit), as many as fit.
	{"JSONNestedZeros", false, func() (string, int) {
		inner := "[" + strings.Repeat("0,", maxArrayLen-1) + "0]"
		return fill(maxBody, "[", ",", "]", constItem(inner))
	}},
	// 4M empty elements.
	{"XMLEmptyElements", true, func() (string, int) { return fill(maxBody, "<r>", "", "</r>", constItem("<a/>")) }},
	// 1.9M attributes of one element.
	{"XMLAttributes", true, func() (string, int) {
		return fill(maxBody, "<r", "", "/>", func(i int) string { return " " + shortName(i) + `=""` })
	}},
	// Elements of 1M empty children (the element limit), as many as fit.
	{"XMLNestedElements", true, func() (string, int) {
		inner := "<b>" + strings.Repeat("<a/>", maxArrayLen) + "</b>"
		return fill(maxBody, "<r>", "", "</r>", constItem(inner))
	}},
	// Text and elements alternating: 3.3M nodes.
	{"XMLMixed", true, func() (string, int) { return fill(maxBody, "<r>", "", "</r>", constItem("x<a/>")) }},
}

// realisticJSON is a ~5 MiB array of 20k objects of 10 fields.
func realisticJSON() string {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < 20000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		s := strconv.Itoa(i)
		b.WriteString(`{"id":` + s + `,"guid":"5f1c9d2e-` + s + `-4a7b-9c3d-2e8f1a6b7c0d","name":"Customer number ` + s +
			`","email":"customer.` + s + `@example.com","active":true,"balance":` + s + `.25,"tags":["retail","priority-` + s +
			`"],"address":{"street":"` + s + ` Long Street Name Avenue","city":"Springfield","zip":"12345-6789"},"created":"2026-12-03T08:00:00Z","notes":"` +
			strings.Repeat("lorem ipsum dolor sit amet ", 3) + `"}`)
	}
	b.WriteByte(']')
	return b.String()
}

// realisticXML is a ~5 MiB SOAP envelope of order lines.
func realisticXML() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ord="urn:example:orders:v1">` + "\n" +
		"  <soap:Header><ord:Trace id=\"t-1\"/></soap:Header>\n  <soap:Body>\n    <ord:SubmitOrders>\n")
	for i := 0; b.Len() < 5<<20; i++ {
		s := strconv.Itoa(i)
		b.WriteString(`      <ord:Line number="` + s + `" currency="EUR">` + "\n" +
			`        <ord:Sku>SKU-` + s + `</ord:Sku>` + "\n" +
			`        <ord:Quantity>` + s + `</ord:Quantity>` + "\n" +
			`        <ord:Price>12.50</ord:Price>` + "\n" +
			`        <ord:Description>Item ` + s + ` &amp; accessories</ord:Description>` + "\n" +
			"      </ord:Line>\n")
	}
	b.WriteString("    </ord:SubmitOrders>\n  </soap:Body>\n</soap:Envelope>\n")
	return b.String()
}
