package i18n

// Messages of the agent's LAN rate limiting.
func init() {
	Register(map[string]Message{
		"rate.limited": {"Demasiadas solicitudes desde este equipo. Intente de nuevo en %d s.",
			"Too many requests from this device. Try again in %d s."},
	})
}
