package i18n

// Strings of HQ's configuration list at network scale (issue 18): the
// search, the filters and the pages of branches, and the configuration
// API's per-branch overrides of a template.
func init() {
	Register(map[string]Message{
		"hq.configlist.filters":             {"Buscar y filtrar sucursales", "Search and filter branches"},
		"hq.configlist.search":              {"Buscar", "Search"},
		"hq.configlist.search_hint":         {"código, nombre, región o etiqueta", "code, name, region or tag"},
		"hq.configlist.version":             {"Versión", "Version"},
		"hq.configlist.version.behind":      {"Atrasadas", "Behind"},
		"hq.configlist.version.current":     {"Al día", "Up to date"},
		"hq.configlist.version.unpublished": {"Sin publicar", "Never published"},
		"hq.configlist.template":            {"Plantilla", "Template"},
		"hq.configlist.clear":               {"Quitar filtros", "Clear filters"},
		"hq.configlist.count":               {"Sucursales %s a %s de %s", "Branches %s to %s of %s"},
		"hq.configlist.none":                {"Ninguna sucursal coincide con la búsqueda y los filtros.", "No branch matches the search and filters."},
		"hq.configlist.pages":               {"Páginas de sucursales", "Branch pages"},
		"hq.configlist.page":                {"Página %d", "Page %d"},
		"hq.configlist.version_invalid":     {"El filtro de versión %q no es válido.", "Version filter %q is not valid."},
		"hq.configlist.template_invalid":    {"El filtro de plantilla %q no es válido.", "Template filter %q is not valid."},
		"hq.template.override_unmanaged": {"La plantilla %[2]s no administra %[1]s: la sucursal no tiene nada propio que mantener ahí.",
			"Template %[2]s does not manage %[1]s: there is nothing for the branch to keep as its own."},
		"hq.template.not_target": {"La plantilla %[2]s no abarca la sucursal %[1]s: solo una sucursal que abarca puede mantener campos propios.",
			"Template %[2]s does not target branch %[1]s: only a branch it targets can keep fields as its own."},
	})
}
