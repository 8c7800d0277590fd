package i18n

// Messages of the sync between branch agents and the cloud.
func init() {
	Register(map[string]Message{
		"sync.branch_unknown": {"La sucursal %s no ha enviado eventos a la nube.", "Branch %s has not sent any event to the cloud."},
		"sync.branch_invalid": {"El identificador de sucursal %q no es válido.", "The branch ID %q is not valid."},
		"sync.not_found":      {"No existe el recurso solicitado.", "The requested resource does not exist."},
		"sync.unavailable":    {"El servicio no está disponible por ahora.", "The service is unavailable right now."},
	})
}
