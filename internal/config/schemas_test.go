package config

import (
	"strings"
	"testing"
)

// gateway.schemas: ids to schema files, resolved against the config's
// folder with their positions; a wrong shape is an error at file:line:col.
func TestGatewaySchemas(t *testing.T) {
	cfg, err := Parse("/etc/gh/gatehouse.yaml", []byte(`gateway:
  listen: 127.0.0.1:8081
  schemas:
    address: schemas/address.json
    order: /srv/order.xsd
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Gateway.Schemas
	if a := s["address"]; a.Abs != "/etc/gh/schemas/address.json" || a.Raw != "schemas/address.json" || a.Pos.Line != 4 || a.Pos.Col != 14 {
		t.Errorf("address = %+v", a)
	}
	if o := s["order"]; o.Abs != "/srv/order.xsd" {
		t.Errorf("order = %+v", o)
	}
	_, err = Parse("/etc/gh/gatehouse.yaml", []byte("gateway:\n  listen: 127.0.0.1:8081\n  schemas: [a.json]\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "/etc/gh/gatehouse.yaml:3:12: ") {
		t.Errorf("a list: %v", err)
	}
}
