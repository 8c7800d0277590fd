package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5"
	qrcode "github.com/skip2/go-qrcode"
)

// tokenPattern is the Telegram deep-link token the agent hands out: opaque,
// at most 64 characters of A-Za-z0-9_- (Telegram's own limit for start=).
var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// telegramLink is the deep link a customer's phone opens from the ticket's QR.
func telegramLink(bot, token string) string {
	return "https://t.me/" + url.PathEscape(bot) + "?start=" + token
}

// qrSVG renders content as a QR code in SVG: one path of unit squares, with the
// quiet zone, scaled by the viewer. SVG stays sharp on a kiosk screen and on an
// 80 mm thermal print alike.
func qrSVG(content string) ([]byte, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr encode: %w", err)
	}
	bm := q.Bitmap()
	n := len(bm)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bm {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", start, y, x-start, x-start)
		}
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String()), nil
}

// serveQR serves /assets/qr/{token}.svg: the QR of the ticket's Telegram link.
// The image depends only on the token and the bot, so it is cacheable.
func (h *handler) serveQR(w http.ResponseWriter, r *http.Request) {
	if h.opts.BotName == "" {
		h.problem(w, r, http.StatusNotFound, "ui.not_found")
		return
	}
	token, ok := strings.CutSuffix(chi.URLParam(r, "file"), ".svg")
	if !ok || !tokenPattern.MatchString(token) {
		h.problem(w, r, http.StatusBadRequest, "ui.qr.invalid_token")
		return
	}
	svg, err := qrSVG(telegramLink(h.opts.BotName, token))
	if err != nil {
		h.log.Error("qr", "err", err)
		h.problem(w, r, http.StatusInternalServerError, "internal")
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(svg)
}
