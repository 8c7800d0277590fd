package i18n

// Messages of the sync between branch agents and the cloud.
func init() {
	Register(map[string]Message{
		"sync.branch_unknown":   {"La sucursal %s no ha enviado eventos a la nube.", "Branch %s has not sent any event to the cloud."},
		"sync.branch_invalid":   {"El identificador de sucursal %q no es válido.", "The branch ID %q is not valid."},
		"sync.not_found":        {"No existe el recurso solicitado.", "The requested resource does not exist."},
		"sync.internal":         {"Ocurrió un error interno; intente nuevamente.", "An internal error occurred; please try again."},
		"sync.unavailable":      {"El servicio no está disponible por ahora.", "The service is unavailable right now."},
		"sync.mode.standalone":  {"sin conexión a la nube configurada", "no cloud link configured"},
		"sync.mode.connected":   {"conectado a la nube", "connected to the cloud"},
		"sync.mode.offline":     {"sin conexión con la nube; los eventos esperan en la sucursal", "offline from the cloud; events wait at the branch"},
		"sync.config.invalid":   {"La configuración recibida de la casa matriz no es válida: %s", "The configuration received from HQ is invalid: %s"},
		"sync.command.rejected": {"La instrucción recibida de la casa matriz fue rechazada: %s", "The instruction received from HQ was rejected: %s"},
	})
}
