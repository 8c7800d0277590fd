package i18n

// Messages of HQ's configuration ownership: the import of a branch's local
// setup, the diff before a publication and the refusal of a publication that
// would strand waiting tickets.
func init() {
	Register(map[string]Message{
		"hq.config.strands_service": {"No se puede publicar: la nueva versión quita el servicio %s (%s), con %d en espera. Manténgalo hasta que se atiendan.",
			"Cannot publish: the new version removes service %s (%s), with %d waiting. Keep it until they are served."},
		"hq.config.strands_unserved": {"No se puede publicar: ningún ejecutivo atendería el servicio %s (%s), con %d en espera. Asígnelo a un ejecutivo.",
			"Cannot publish: no executive would serve service %s (%s), with %d waiting. Assign it to an executive."},
		"service.draining": {"El servicio %s (%s) ya no recibe números nuevos: se atiende a quienes esperan.",
			"Service %s (%s) takes no new tickets: those waiting are being served."},
		"hq.config.pin_at_branch":    {"el de la sucursal", "the branch's"},
		"hq.config.review":           {"Revisar y publicar", "Review and publish"},
		"hq.config.confirm":          {"Confirmar publicación", "Confirm publication"},
		"hq.config.cancel":           {"Volver sin publicar", "Back without publishing"},
		"hq.config.diff":             {"Cambios respecto de lo que la sucursal tiene", "Changes against what the branch runs"},
		"hq.config.diff.none":        {"Sin cambios en servicios, módulos ni ejecutivos.", "No changes to services, counters or executives."},
		"hq.config.diff.added":       {"se agrega", "added"},
		"hq.config.diff.removed":     {"se quita", "removed"},
		"hq.config.diff.changed":     {"cambia", "changed"},
		"hq.config.diff.removals":    {"Atención: esta publicación quita elementos que la sucursal tiene hoy (%d).", "Warning: this publication removes items the branch has today (%d)."},
		"hq.config.diff.service":     {"%s · meta %d min · atención media %d min · prioridad %d", "%s · target %d min · mean service %d min · priority %d"},
		"hq.config.source.reported":  {"Según lo que informó la sucursal el %s (versión %d).", "As the branch reported on %s (version %d)."},
		"hq.config.source.published": {"Según la versión %d publicada el %s, que la sucursal informa usar.", "As version %d published on %s, which the branch reports running."},
		"hq.config.source.none":      {"La sucursal aún no informa su configuración: todo lo publicado será nuevo para ella.", "The branch has not reported its configuration yet: everything published is new to it."},
		"hq.config.imported":         {"Configuración importada de la sucursal el %s.", "Configuration imported from the branch on %s."},
		"hq.config.stranded":         {"Tickets en espera que quedarían sin atención", "Waiting tickets that would be left unserved"},
	})
}
