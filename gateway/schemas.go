package gateway

import (
	"github.com/gatehouse/gatehouse/apim"
)

// schemas reads gateway.schemas (APIM's schemas of the instance, for
// validate-content's schema-id) once for every policy document; a file
// that cannot be read or is not a schema is a load error at its key.
func (l *loader) schemas() map[string]*apim.NamedSchema {
	if len(l.cfg.Schemas) == 0 {
		return nil
	}
	out := make(map[string]*apim.NamedSchema, len(l.cfg.Schemas))
	for id, p := range l.cfg.Schemas {
		data, ok := l.read(p, "schema "+id)
		if !ok {
			continue
		}
		s, err := apim.ParseSchema(data)
		if err != nil {
			l.errorf(p.Pos, "gateway.schemas %q: %s: %v", id, p.Raw, err)
			continue
		}
		out[id] = s
	}
	return out
}
