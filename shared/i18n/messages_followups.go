package i18n

// Messages of configuration templates' appointment rules (cloud/web
// template_form).
func init() {
	Register(map[string]Message{
		"hq.templates.part.appointments": {"reglas de citas y fila a distancia", "appointment and remote queue rules"},
		"hq.templates.remote":            {"Fila a distancia abierta (servicio o servicio=tope)", "Remote queue open (service or service=cap)"},
		"hq.templates.appt_help":         {"Vacío: el valor por omisión (en gris). La fila a distancia se abre solo en los servicios que cada sucursal tenga; los horarios de citas son de cada sucursal.", "Empty: the default (in grey). The remote queue opens only for the services each branch has; booking schedules are each branch's own."},
	})
}
