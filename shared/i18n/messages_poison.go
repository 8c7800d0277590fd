package i18n

// Messages of poisoned input: free text refused at the agent's edge, events
// quarantined by the cloud's ingest.
func init() {
	Register(map[string]Message{
		"text.invalid": {"El campo %s tiene caracteres no permitidos (de control o no UTF-8) o supera %d caracteres.",
			"Field %s has characters that are not allowed (control or not UTF-8) or is longer than %d characters."},
		"hq.alert.events_quarantined": {"%s eventos en cuarentena (últimas 24 h): la nube no pudo guardarlos y siguió con los siguientes; revíselos en la página de la sucursal",
			"%s events quarantined (last 24 h): the cloud could not store them and went on with the next ones; inspect them on the branch page"},
		"telegram.alert.events_quarantined": {"%s: %s eventos en cuarentena; la sincronización continúa", "%s: %s events quarantined; sync goes on"},
		"hq.quarantine.title":               {"Eventos en cuarentena", "Quarantined events"},
		"hq.quarantine.none":                {"Sin eventos en cuarentena.", "No quarantined events."},
		"hq.quarantine.seq":                 {"N.º de evento", "Event seq"},
		"hq.quarantine.type":                {"Tipo", "Type"},
		"hq.quarantine.reason":              {"Motivo", "Reason"},
		"hq.quarantine.detail":              {"Detalle", "Detail"},
		"hq.quarantine.received":            {"Recibido", "Received"},
		"hq.quarantine.size":                {"Bytes", "Bytes"},
	})
}
