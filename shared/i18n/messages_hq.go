package i18n

// Strings of the cloud's HQ web (cloud/web, cloud/postgres/hq): error reasons
// first, then UI labels.
func init() {
	Register(map[string]Message{
		// Error reasons.
		"hq.role.invalid":        {"El rol %q no es válido: use admin, supervisor o viewer.", "Role %q is not valid: use admin, supervisor or viewer."},
		"hq.user.email":          {"El correo %q no es válido.", "E-mail %q is not valid."},
		"hq.user.password":       {"La contraseña debe tener al menos %d caracteres.", "The password must have at least %d characters."},
		"hq.user.scope":          {"Un supervisor debe tener al menos una región o sucursal asignada.", "A supervisor needs at least one region or branch."},
		"hq.user.exists":         {"Ya existe un usuario con el correo %s.", "A user with e-mail %s already exists."},
		"hq.login.failed":        {"Correo o contraseña incorrectos.", "Wrong e-mail or password."},
		"hq.login.locked":        {"La cuenta está bloqueada temporalmente por intentos fallidos. Intente más tarde.", "The account is temporarily locked after failed attempts. Try again later."},
		"hq.login.rate":          {"Demasiados intentos desde su dirección. Espere un minuto.", "Too many attempts from your address. Wait a minute."},
		"hq.token.name":          {"El nombre del token %q no es válido (1 a 64 caracteres).", "Token name %q is not valid (1 to 64 characters)."},
		"hq.token.exists":        {"Ya existe un token llamado %s.", "A token named %s already exists."},
		"hq.token.invalid":       {"El token de acceso no es válido.", "The access token is not valid."},
		"hq.session.invalid":     {"Su sesión expiró. Ingrese nuevamente.", "Your session expired. Please sign in again."},
		"hq.csrf":                {"El formulario expiró o no es válido. Recargue la página e intente nuevamente.", "The form expired or is not valid. Reload the page and try again."},
		"hq.forbidden":           {"No tiene permiso para esta acción.", "You are not allowed to do this."},
		"hq.not_found":           {"La página no existe.", "The page does not exist."},
		"hq.alert.not_found":     {"La alerta %s no existe o ya se cerró.", "Alert %s does not exist or is already closed."},
		"hq.branch.not_found":    {"La sucursal %s no existe.", "Branch %s does not exist."},
		"hq.branch.forbidden":    {"No tiene acceso a la sucursal %s.", "You have no access to branch %s."},
		"hq.day.invalid":         {"La fecha %q no es válida (AAAA-MM-DD).", "Date %q is not valid (YYYY-MM-DD)."},
		"hq.report.range":        {"El rango de fechas %s a %s no es válido (máximo un año).", "The date range %s to %s is not valid (one year at most)."},
		"hq.report.group":        {"No se puede agrupar por %q.", "Cannot group by %q."},
		"hq.report.table":        {"La tabla %q no existe en el reporte.", "The report has no table %q."},
		"hq.branch.name":         {"Indique el nombre de la sucursal (hasta 80 caracteres) y una región de hasta 40.", "Enter the branch name (up to 80 characters) and a region of up to 40."},
		"hq.branch.time_zone":    {"La zona horaria %q no es válida (ejemplo: America/Santiago).", "Time zone %q is not valid (e.g. America/Santiago)."},
		"hq.branch.hours":        {"El horario %q no es válido (ejemplo: 09:00-14:00).", "Opening hours %q are not valid (e.g. 09:00-14:00)."},
		"hq.counter.invalid":     {"El módulo %d no es válido (1 a 999).", "Counter %d is not valid (1 to 999)."},
		"hq.executive.invalid":   {"El ejecutivo %q no es válido: código de letras, dígitos o guiones y un nombre.", "Executive %q is not valid: a code of letters, digits or hyphens and a name."},
		"hq.executive.pin":       {"El PIN debe tener de 4 a 8 dígitos.", "The PIN must have 4 to 8 digits."},
		"hq.executive.not_found": {"El ejecutivo %s no existe.", "Executive %s does not exist."},
		"hq.rules.invalid":       {"Las reglas de llamado no son válidas.", "The calling rules are not valid."},
		"hq.config.invalid":      {"La configuración no se puede publicar: %s.", "The configuration cannot be published: %s."},
		"hq.config.none":         {"La sucursal %s no tiene configuración publicada.", "Branch %s has no published configuration."},
		"hq.config.unsent":       {"Versión %d guardada, pero no se pudo enviar a la sucursal: publique nuevamente.", "Version %d saved but could not be sent to the branch: publish again."},
		"hq.form.number":         {"El campo %s debe ser un número.", "Field %s must be a number."},
	})
}
