package i18n

// Messages of the field tools (doctor, backup) added with the field fixes.
func init() {
	Register(map[string]Message{
		"branch.unknown": {"Esta carpeta de datos aún no tiene sucursal: inicie el agente una vez o indique --branch.",
			"This data folder has no branch yet: start the agent once or give --branch."},
	})
}
