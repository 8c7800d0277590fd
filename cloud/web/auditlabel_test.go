package web

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ticketero/ticketero/shared/i18n"
)

// Issue 15: audit details were the code's English ("counter=2 failures=3").
func TestAuditDetailInSpanish(t *testing.T) {
	for in, want := range map[string]string{
		"hq.login.failed":                                         "contraseña incorrecta",
		"tickets 2026-11-30":                                      "atenciones del 2026-11-30",
		"counter=2 failures=3 retry_s=60":                         "módulo=2 fallos=3 reintento en (s)=60",
		"added name=Ana services=C,P":                             "agregado nombre=Ana servicios=C,P",
		`executive E1 "Ana de la Fuente" services=C pin_set=true`: `ejecutivo E1 "Ana de la Fuente" servicios=C PIN asignado=sí`,
		`service C "counter=5" target=600s`:                       `servicio C "counter=5" meta=600s`,
		"delete counter 3":                                        "eliminar módulo 3",
		"role=viewer":                                             "rol=viewer",
		"free text nobody translates":                             "free text nobody translates",
		"":                                                        "",
	} {
		assert.Equal(t, want, auditDetail(i18n.ES, in), in)
	}
	assert.Equal(t, "counter=2 failures=3", auditDetail(i18n.EN, "counter=2 failures=3"))
}
