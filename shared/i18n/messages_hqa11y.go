package i18n

// Messages of the HQ pages' accessibility: headers of the tables' action and
// diff columns (read by screen readers) and the error page's heading.
func init() {
	Register(map[string]Message{
		"hq.col.actions": {"Acciones", "Actions"},
		"hq.col.part":    {"Parte", "Part"},
		"hq.col.change":  {"Cambio", "Change"},
		"hq.error.title": {"No se pudo mostrar la página", "The page could not be shown"},
	})
}
