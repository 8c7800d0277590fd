package agent

import (
	"slices"

	"github.com/ticketero/ticketero/shared/queue"
)

// Draining is a service an HQ config removed while tickets of it were still
// open. It stays closed to new tickets but servable until nobody is left:
// the executives who served it before the config (Executives) keep calling its
// waiting tickets, then the engine drops it. An HQ that checks its
// publications never sends such a config (it refuses to strand waiting
// tickets); an older cloud might.
type Draining struct {
	queue.Service
	Executives []string
}

// addDraining adds a closed, still servable service (not in e.codes: the kiosk
// does not offer it).
func (e *Engine) addDraining(d Draining, st EngineState) {
	if _, ok := e.services[d.Code]; ok {
		return
	}
	ss := &serviceState{Service: d.Service, mean: float64(d.MeanServiceS), draining: slices.Clone(d.Executives)}
	if m, ok := st.Means[d.Code]; ok && m > 0 {
		ss.mean = m
	}
	ss.last, ss.streak = st.Numbering[d.Code], st.Streaks[d.Code]
	e.services[d.Code] = ss
	e.drainCodes = append(e.drainCodes, d.Code)
}

// Draining returns the services closed to new tickets that are still being
// served (see Draining).
func (e *Engine) Draining() []Draining {
	out := make([]Draining, 0, len(e.drainCodes))
	for _, c := range e.drainCodes {
		s := e.services[c]
		out = append(out, Draining{Service: s.Service, Executives: slices.Clone(s.draining)})
	}
	return out
}

// closedService reports whether code is a draining service.
func (e *Engine) closedService(code string) bool {
	s, ok := e.services[code]
	return ok && s.draining != nil
}

// servesOf is what an executive calls: his configured services, then the
// draining services he served before they were removed.
func (e *Engine) servesOf(x *Executive) []string {
	out := x.Services
	for _, c := range e.drainCodes {
		if slices.Contains(e.services[c].draining, x.ID) && !slices.Contains(out, c) {
			out = append(slices.Clip(out), c)
		}
	}
	return out
}

// dropDrained forgets a draining service once none of its tickets is open.
func (e *Engine) dropDrained(code string) {
	if !e.closedService(code) || len(e.wait[code]) > 0 {
		return
	}
	for _, t := range e.active {
		if t.Service == code {
			return
		}
	}
	delete(e.services, code)
	delete(e.wait, code)
	e.drainCodes = slices.DeleteFunc(e.drainCodes, func(c string) bool { return c == code })
}
