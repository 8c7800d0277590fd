package web

import (
	"slices"

	"github.com/ticketero/ticketero/shared/i18n"

	"github.com/ticketero/ticketero/shared/queue"
)

// total sums the tiles of a region (Region "" in the national row).
type total struct {
	Region   string
	Branches int
	Waiting  int
	// Decided and Within give the SLA the way a tile does: within / decided.
	Decided, Within int
	// WaitingOver counts people waiting past their service's target.
	WaitingOver int
	Offline     int
}

// SLA is the row's "% en meta" written as lang writes decimals (as the
// tiles), "—" before any decided ticket.
func (t total) SLA(lang i18n.Lang) string {
	if t.Decided == 0 {
		return "—"
	}
	return decimalIn(lang, queue.Percent(t.Within, t.Decided), 1) + "%"
}

// totals sums tiles nationally (first) and per region (by name; branches
// without a region under ""), from the same tiles the page shows, so the
// rows always equal the sum of the tiles.
func totals(tiles []*shownTile) (national total, regions []total) {
	idx := map[string]int{}
	for _, t := range tiles {
		i, ok := idx[t.Region]
		if !ok {
			i = len(regions)
			idx[t.Region] = i
			regions = append(regions, total{Region: t.Region})
		}
		for _, r := range []*total{&national, &regions[i]} {
			r.Branches++
			r.Waiting += t.Waiting
			r.Decided += t.Decided
			r.Within += t.WithinTarget
			r.WaitingOver += t.WaitingOver
			if t.OfflineFrom != nil {
				r.Offline++
			}
		}
	}
	slices.SortFunc(regions, func(a, b total) int {
		switch {
		case a.Region == b.Region:
			return 0
		case a.Region < b.Region:
			return -1
		}
		return 1
	})
	return national, regions
}

// totalView is the data of the "total" partial: a row and the page's language.
type totalView struct {
	total
	Lang i18n.Lang
}

// Total wraps a totals row for the partial in the page's language.
func (v *view) Total(t total) totalView { return totalView{total: t, Lang: v.Lang} }

// Pct writes a percentage with one decimal as the page's language does.
func (v *view) Pct(f float64) string { return decimalIn(v.Lang, f, 1) + "%" }
