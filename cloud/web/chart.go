package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
)

// waitChart draws mean and p90 wait per group as horizontal bars (SVG, no
// script, no inline style so the CSP holds).
func waitChart(l i18n.Lang, rows []cloud.ReportRow) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	const barH, gap, left, width = 14, 10, 140, 420
	maxV := 1.0
	for _, r := range rows {
		maxV = max(maxV, r.P90WaitS, r.MeanWaitS)
	}
	height := len(rows)*(2*barH+gap) + 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-label="%s" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">`,
		html.EscapeString(i18n.T(l, "hq.report.chart_wait")), left+width+80, height, left+width+80, height)
	for i, r := range rows {
		y := i*(2*barH+gap) + 4
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="12">%s</text>`, left-6, y+barH+4, html.EscapeString(r.Key))
		wm := int(r.MeanWaitS / maxV * width)
		wp := int(r.P90WaitS / maxV * width)
		fmt.Fprintf(&b, `<rect class="bar-mean" x="%d" y="%d" width="%d" height="%d" fill="#1f6feb"><title>%s %s</title></rect>`,
			left, y, wm, barH, html.EscapeString(i18n.T(l, "hq.report.mean_wait")), fmtDuration(r.MeanWaitS))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11">%s</text>`, left+wm+4, y+barH-3, fmtDuration(r.MeanWaitS))
		fmt.Fprintf(&b, `<rect class="bar-p90" x="%d" y="%d" width="%d" height="%d" fill="#9a6700"><title>p90 %s</title></rect>`,
			left, y+barH, wp, barH, fmtDuration(r.P90WaitS))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11">p90 %s</text>`, left+wp+4, y+2*barH-3, fmtDuration(r.P90WaitS))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11"><tspan fill="#1f6feb">■</tspan> %s <tspan fill="#9a6700">■</tspan> p90</text>`,
		left, height-6, html.EscapeString(i18n.T(l, "hq.report.mean_wait")))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec G203 -- every dynamic text above is escaped
}

// heatmapChart draws arrivals by weekday and hour.
func heatmapChart(l i18n.Lang, r cloud.Report) template.HTML {
	const cell, left, top = 22, 40, 18
	w, hgt := left+24*cell+4, top+7*cell+4
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart heatmap" role="img" aria-label="%s" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">`,
		html.EscapeString(i18n.T(l, "hq.report.heatmap")), w, hgt, w, hgt)
	for hr := 0; hr < 24; hr += 2 {
		fmt.Fprintf(&b, `<text x="%d" y="12" font-size="10">%02d</text>`, left+hr*cell+4, hr)
	}
	for d := range 7 {
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="11">%s</text>`, top+d*cell+15, html.EscapeString(i18n.T(l, fmt.Sprintf("hq.dow.%d", d+1))))
		for hr := range 24 {
			n := r.Heatmap[d][hr]
			op := 0.04
			if r.Max > 0 && n > 0 {
				op = 0.15 + 0.85*float64(n)/float64(r.Max)
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#cf222e" fill-opacity="%.2f"><title>%d</title></rect>`,
				left+hr*cell, top+d*cell, cell-2, cell-2, op, n)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec G203 -- every dynamic text above is escaped
}
