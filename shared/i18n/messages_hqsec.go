package i18n

// Messages of the HQ web's hardening: input validation, sign-in refusals that
// do not reveal whether an account exists, the forced password change.
func init() {
	Register(map[string]Message{
		"hq.input.invalid": {"La solicitud contiene caracteres no válidos (caracteres de control o texto que no es UTF-8).",
			"The request contains invalid characters (control characters or text that is not UTF-8)."},
		"hq.audit.count":     {"Veces", "Count"},
		"hq.input.too_large": {"La solicitud es demasiado grande.", "The request is too large."},
		"hq.login.refused": {"Correo o contraseña incorrectos, o la cuenta está bloqueada temporalmente tras varios intentos fallidos.",
			"Wrong e-mail or password, or the account is temporarily locked after failed attempts."},
		"hq.password.title":    {"Cambiar contraseña", "Change password"},
		"hq.password.must":     {"Debe cambiar su contraseña antes de continuar.", "You must change your password before going on."},
		"hq.password.current":  {"Contraseña actual", "Current password"},
		"hq.password.new":      {"Nueva contraseña", "New password"},
		"hq.password.confirm":  {"Repita la nueva contraseña", "Repeat the new password"},
		"hq.password.submit":   {"Cambiar", "Change"},
		"hq.password.changed":  {"Contraseña cambiada.", "Password changed."},
		"hq.password.mismatch": {"Las contraseñas nuevas no coinciden.", "The new passwords do not match."},
		"hq.password.same":     {"La nueva contraseña debe ser distinta de la actual.", "The new password must differ from the current one."},
		"hq.password.wrong":    {"La contraseña actual no es correcta.", "The current password is wrong."},
		"hq.ops.unauthorized": {"Se requiere una sesión de administrador de casa matriz o el token de operaciones.",
			"An HQ admin session or the operations token is required."},
	})
}
