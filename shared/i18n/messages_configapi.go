package i18n

// Messages of HQ's JSON configuration API (cloud/web/api.go, issue 18) and
// its tokens' expiry on the users page.
func init() {
	Register(map[string]Message{
		"hq.api.token_required": {"Falta el token de acceso: envíe el encabezado Authorization: Bearer tkt_… de un token creado en Usuarios.",
			"The access token is missing: send the header Authorization: Bearer tkt_… of a token created under Users."},
		"hq.token.expired": {"El token de acceso expiró: pida uno nuevo a un administrador de casa matriz.",
			"The access token has expired: ask an HQ administrator for a new one."},
		"hq.token.expiry": {"La fecha de expiración del token debe ser futura, a no más de dos años, con el formato AAAA-MM-DD.",
			"The token's expiry date must be in the future, at most two years ahead, as YYYY-MM-DD."},
		"hq.api.read_only": {"Este token es de solo lectura: solo un token con rol de administrador cambia o publica la configuración.",
			"This token is read-only: only a token with the admin role changes or publishes the configuration."},
		"hq.api.content_type": {"El cuerpo de la solicitud debe ser JSON (Content-Type: application/json).",
			"The request body must be JSON (Content-Type: application/json)."},
		"hq.api.body":           {"El cuerpo no es JSON válido (cerca del byte %d).", "The body is not valid JSON (near byte %d)."},
		"hq.api.object":         {"El cuerpo debe ser un objeto JSON.", "The body must be a JSON object."},
		"hq.api.unknown_field":  {"El campo %s no existe en este recurso.", "This resource has no field %s."},
		"hq.api.field_type":     {"El campo %s no admite el valor %s.", "The field %s does not take a %s value."},
		"hq.api.field_required": {"Falta el campo %s.", "The field %s is missing."},
		"hq.api.service_not_found": {"La sucursal no tiene el servicio %s en su borrador.",
			"The branch has no service %s in its draft."},
		"hq.api.not_found": {"La API de configuración no tiene esa ruta o método.",
			"The configuration API has no such path or method."},
		"hq.api.rate_limited": {"Demasiadas solicitudes con este token. Intente de nuevo en %d s.",
			"Too many requests with this token. Try again in %d s."},
		"hq.api.templates_scope": {"Las plantillas abarcan varias sucursales: se requiere un token sin límite de regiones ni sucursales.",
			"Templates span several branches: a token not limited to regions or branches is required."},
		"hq.tokens.expires":    {"Expira", "Expires"},
		"hq.tokens.expires_on": {"Último día (opcional)", "Last day (optional)"},
		"hq.tokens.never":      {"nunca", "never"},
		"hq.tokens.created_by": {"Creado por", "Created by"},
		"hq.tokens.api_hint": {"Un token de administrador puede cambiar y publicar la configuración por la API JSON (/api/v1/config, documentada en /api/v1/config/openapi.json); uno de supervisor o lector solo la lee, en su alcance.",
			"An admin token may change and publish the configuration through the JSON API (/api/v1/config, documented at /api/v1/config/openapi.json); a supervisor or viewer token only reads it, within its scope."},
	})
}
