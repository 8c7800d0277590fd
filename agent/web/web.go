package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/webasset"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Options configures the UI handler.
type Options struct {
	// BotName is the Telegram bot's user name (TICKETERO_TELEGRAM_BOT) for the
	// ticket's QR link t.me/<bot>?start=<token>. Empty: the bank has no bot
	// configured, and the kiosk shows and prints no QR (never a bot the bank
	// does not control).
	BotName string
	// SMS: the kiosk offers SMS notices (an optional mobile number with
	// consent, before the attention type).
	SMS bool
	// Logger receives errors; nil discards them.
	Logger *slog.Logger
}

// Pages served by the handler, by path. Each has templates/<name>.html and may
// have assets/<name>.js and assets/<name>.css.
var pages = []struct {
	name  string
	title string // catalogue key
}{
	{"index", "ui.index.title"},
	{"kiosk", "ui.kiosk.title"},
	{"terminal", "ui.terminal.title"},
	{"display", "ui.display.title"},
	{"branch", "ui.branch.title"},
	{"tablet", "ui.tablet.title"},
}

type handler struct {
	opts      Options
	log       *slog.Logger
	assets    *webasset.Set
	rendered  map[variant]rendered
	catalogue map[i18n.Lang]string // "ui.", "status." and "priority." keys as JSON, per language
	events    string               // event types as JSON, for the stream client
}

// Handler returns the UI handler for "/", "/kiosk", "/terminal", "/display",
// "/branch" and "/assets/". Templates and assets are parsed and every page is
// rendered in each language here, once: a broken template or a missing
// catalogue key fails at start-up rather than in front of a customer, and a
// request costs no rendering.
func Handler(opts Options) (http.Handler, error) {
	if opts.BotName != "" && !validBotName(opts.BotName) {
		return nil, fmt.Errorf("web: telegram bot name %q is not valid (5 to 32 letters, digits or _)", opts.BotName)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	as, err := webasset.Load(sub, "/assets/")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	h := &handler{
		opts:      opts,
		log:       log.With("component", "web"),
		assets:    as,
		rendered:  map[variant]rendered{},
		catalogue: map[i18n.Lang]string{},
	}
	as.NotFound = func(w http.ResponseWriter, r *http.Request) { h.problem(w, r, http.StatusNotFound, "ui.not_found") }
	for _, lang := range []i18n.Lang{i18n.ES, i18n.EN} {
		c := map[string]string{}
		for _, k := range i18n.Keys() {
			if strings.HasPrefix(k, "ui.") || strings.HasPrefix(k, "status.") || strings.HasPrefix(k, "priority.") {
				c[k] = i18n.T(lang, k)
			}
		}
		b, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("web: catalogue: %w", err)
		}
		h.catalogue[lang] = string(b)
	}
	types := make([]string, 0, len(event.Types))
	for t := range event.Types {
		types = append(types, string(t))
	}
	slices.Sort(types)
	evs, _ := json.Marshal(types)
	h.events = string(evs)

	funcs := template.FuncMap{"asset": as.URL, "hasAsset": as.Has}
	for _, p := range pages {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p.name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", p.name, err)
		}
		// Nothing in a page varies per request but its language and whether
		// that was chosen explicitly: render every variant once, now.
		for _, lang := range []i18n.Lang{i18n.ES, i18n.EN} {
			for _, explicit := range []bool{false, true} {
				var buf bytes.Buffer
				if err := t.Execute(&buf, h.data(p.name, p.title, lang, explicit)); err != nil {
					return nil, fmt.Errorf("web: render %s (%s): %w", p.name, lang, err)
				}
				sum := sha256.Sum256(buf.Bytes())
				h.rendered[variant{p.name, lang, explicit}] = rendered{body: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
			}
		}
	}

	notFound := func(w http.ResponseWriter, r *http.Request) { h.problem(w, r, http.StatusNotFound, "ui.not_found") }
	r := chi.NewRouter()
	// Any unknown path or method is the same problem+json 404: the UI has
	// nothing but pages and assets to read.
	r.NotFound(notFound)
	r.MethodNotAllowed(notFound)
	for _, p := range pages {
		path := "/" + p.name
		if p.name == "index" {
			path = "/"
		}
		r.Get(path, h.page(p.name))
		r.Head(path, h.page(p.name))
	}
	r.Get("/assets/qr/{file}", h.serveQR)
	r.Head("/assets/qr/{file}", h.serveQR)
	r.Method(http.MethodGet, "/assets/{file}", as)
	r.Method(http.MethodHead, "/assets/{file}", as)
	return r, nil
}

// validBotName follows Telegram's rule for bot user names.
func validBotName(s string) bool {
	if len(s) < 5 || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// pageData is what every template sees.
type pageData struct {
	Page       string
	Lang       i18n.Lang
	TitleKey   string
	Catalogue  string // JSON of the "ui." keys in Lang
	Events     string // JSON list of event types the stream may send
	LangQuery  string // "?lang=en" when the language was chosen explicitly
	SwitchHref string // the same page in the other language
	Telegram   bool   // a Telegram bot is configured: the kiosk shows the ticket's QR
	SMS        bool   // the kiosk offers SMS notices
}

// T returns the catalogue entry for key in the page's language. An unknown key
// is an error, so the start-up render catches it.
func (d pageData) T(key string) (string, error) {
	if !i18n.Has(key) {
		return "", fmt.Errorf("unknown catalogue key %q", key)
	}
	return i18n.T(d.Lang, key), nil
}

// Href returns path with the page's explicit language kept.
func (d pageData) Href(path string) string { return path + d.LangQuery }

func (h *handler) data(name, title string, lang i18n.Lang, explicit bool) pageData {
	d := pageData{Page: name, Lang: lang, TitleKey: title, Catalogue: h.catalogue[lang], Events: h.events,
		Telegram: h.opts.BotName != "", SMS: h.opts.SMS}
	if explicit {
		d.LangQuery = "?lang=" + string(lang)
	}
	path := "/" + name
	if name == "index" {
		path = "/"
	}
	other := i18n.EN
	if lang == i18n.EN {
		other = i18n.ES
	}
	d.SwitchHref = path + "?lang=" + string(other)
	return d
}

// language picks the page language: ?lang=en|es, else Spanish (es-CL), the
// language of a Chilean branch. A device's browser language says nothing
// about the customer in front of it (an en-US kiosk greeted Chileans in
// English), so Accept-Language is not consulted: a device that must start in
// English has ?lang=en in its start URL, and every page links to the other
// language.
func language(r *http.Request) (lang i18n.Lang, explicit bool) {
	switch q := strings.ToLower(r.URL.Query().Get("lang")); {
	case strings.HasPrefix(q, "en"):
		return i18n.EN, true
	case strings.HasPrefix(q, "es"):
		return i18n.ES, true
	}
	return i18n.ES, false
}

// contentSecurityPolicy allows only this origin: no inline script, nothing from
// the internet. Scripts set styles through the CSSOM, which CSP permits.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; media-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// variant is one rendering of a page.
type variant struct {
	page     string
	lang     i18n.Lang
	explicit bool
}

// rendered is a page rendered at start-up.
type rendered struct {
	body []byte
	etag string
}

func (h *handler) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang, explicit := language(r)
		page := h.rendered[variant{name, lang, explicit}]
		hd := w.Header()
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Content-Language", string(lang))
		hd.Set("Cache-Control", "no-cache")
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("ETag", page.etag)
		if r.Header.Get("If-None-Match") == page.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Method != http.MethodHead {
			_, _ = w.Write(page.body)
		}
	}
}

// problem answers with RFC 9457 problem+json, like the LAN API does.
func (h *handler) problem(w http.ResponseWriter, r *http.Request, status int, code string) {
	// A problem answers a program, which says what it reads (the LAN API
	// does the same); pages never ask for it.
	lang, explicit := language(r)
	if !explicit {
		lang = i18n.Parse(r.Header.Get("Accept-Language"))
	}
	msg := i18n.T(lang, code)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", string(lang))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":   "https://ticketero.cl/problems/" + code,
		"title":  msg,
		"status": status,
		"code":   code,
		"detail": msg,
	})
}
