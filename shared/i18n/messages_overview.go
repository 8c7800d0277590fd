package i18n

// Strings of HQ's overview at network scale (issue 18): the search, the
// count of branches listed and the pages of tiles without JavaScript.
func init() {
	Register(map[string]Message{
		"hq.overview.search":      {"Buscar sucursal", "Find branch"},
		"hq.overview.search_hint": {"nombre, código o región", "name, code or region"},
		"hq.overview.tiles":       {"Sucursales", "Branches"},
		"hq.overview.pages":       {"Páginas de sucursales", "Branch pages"},
		"hq.overview.count":       {"%s sucursales", "%s branches"},
		"hq.overview.matched":     {"%s de %s sucursales coinciden con «%s»", "%s of %s branches match “%s”"},
		"hq.window.invalid":       {"El tramo de sucursales %q no es válido.", "Branch window %q is not valid."},
	})
}
