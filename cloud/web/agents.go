package web

import (
	"net/http"
	"sort"

	"github.com/ticketero/ticketero/cloud"
)

// agentsData is the agents page: each box's agent version and its last
// remote update step (agent.update events), with a count per version.
type agentsData struct {
	Versions []versionCount
	Boxes    []cloud.BoxState
}

type versionCount struct {
	Version string
	Count   int
}

func (h *Handler) agents(w http.ResponseWriter, r *http.Request, q *req) {
	boxes, err := h.cfg.Boxes(r.Context())
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	n := map[string]int{}
	for _, b := range boxes {
		n[b.Running]++
	}
	d := agentsData{Boxes: boxes}
	for v, c := range n {
		d.Versions = append(d.Versions, versionCount{v, c})
	}
	sort.Slice(d.Versions, func(i, j int) bool { return d.Versions[i].Version > d.Versions[j].Version })
	h.render(w, http.StatusOK, "agents", q.view("agents", d))
}
