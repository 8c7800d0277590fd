package web

import (
	"net/http"

	"strconv"
	"strings"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// HQ's page of visit outcome codes (network-wide): the executive marks them
// at "Finalizar" and reports count visits by code. They reach each branch
// with its next published config.

type outcomesData struct {
	Outcomes []queue.Outcome
}

func (h *Handler) outcomesPage(w http.ResponseWriter, r *http.Request, q *req) {
	flash := ""
	if r.URL.Query().Get("saved") != "" {
		flash = q.view("", nil).T("hq.holidays.saved")
	}
	h.showOutcomes(w, r, q, http.StatusOK, "", flash)
}

func (h *Handler) showOutcomes(w http.ResponseWriter, r *http.Request, q *req, status int, errMsg, flash string) {
	list, err := h.store.Outcomes(r.Context())
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	v := q.view("config", outcomesData{Outcomes: list})
	v.Error, v.Flash = errMsg, flash
	h.render(w, status, "outcomes", v)
}

// outcomeDone answers a change (audited by putOutcome, deleteOutcome): the
// page again with the error, or back to the list.
func (h *Handler) outcomeDone(w http.ResponseWriter, r *http.Request, q *req, err error) {
	if err != nil {
		if httpStatus(err) >= 500 {
			h.fail(w, r, q, err)
			return
		}
		h.showOutcomes(w, r, q, httpStatus(err), queue.ErrorMessage(q.Lang, err), "")
		return
	}
	http.Redirect(w, r, "/config/outcomes?saved=1", http.StatusSeeOther)
}

func (h *Handler) outcomePut(w http.ResponseWriter, r *http.Request, q *req) {
	o := queue.Outcome{Code: strings.TrimSpace(r.PostFormValue("code")), Name: strings.TrimSpace(r.PostFormValue("name"))}
	h.outcomeDone(w, r, q, h.putOutcome(r, q, o))
}

func (h *Handler) outcomeDelete(w http.ResponseWriter, r *http.Request, q *req) {
	h.outcomeDone(w, r, q, h.deleteOutcome(r, q, r.PathValue("code")))
}

// counterTable reports whether table is one of the counter's report tables:
// visits by outcome code, executives' time per day.
func counterTable(table string) bool { return table == "outcomes" || table == "executives" }

// writeCounterCSV writes the outcomes or executives table of a report.
func writeCounterCSV(cw *csvWriter, table string, rep cloud.Report, T func(string) string, f func(float64) string) {
	if table == "outcomes" {
		_ = cw.Write([]string{T("hq.report.outcome_code"), T("hq.config.outcome_name"), T("hq.report.outcome_visits")})
		for _, o := range rep.Outcomes {
			_ = cw.Write([]string{o.Code, o.Name, strconv.Itoa(o.Visits)})
		}
		return
	}
	head := []string{T("hq.report.exec_day"), T("hq.branch"), T("hq.executive"), T("hq.name"),
		T("hq.report.exec_serving") + " (s)", T("hq.report.exec_idle") + " (s)", T("hq.report.exec_paused") + " (s)"}
	for _, r := range queue.PauseReasons {
		head = append(head, T("hq.report.exec_paused")+": "+T("pause."+r)+" (s)")
	}
	_ = cw.Write(head)
	for _, x := range rep.Executives {
		row := []string{x.Day, x.Branch, x.Executive, x.Name, f(x.ServingS), f(x.IdleS), f(x.PausedS)}
		for _, r := range queue.PauseReasons {
			row = append(row, f(x.Pauses[r]))
		}
		_ = cw.Write(row)
	}
}
