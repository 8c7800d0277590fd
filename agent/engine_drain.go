package agent

import (
	"slices"

	"github.com/ticketero/ticketero/shared/queue"
)

// Draining is a service an HQ config left with open tickets and nobody to
// serve them: removed from the configuration, or kept with no executive
// serving it. It takes no new tickets but stays servable until nobody is
// left: the executives who served it before the config (Executives) keep
// calling its tickets. Then a removed service is dropped and a kept one opens
// again. An HQ that checks its publications never sends such a config (it
// refuses to strand waiting tickets); an older cloud might.
type Draining struct {
	queue.Service
	Executives []string
}

// addDraining marks a service as draining: a configured one in place, a
// removed one added beside the configured ones (not in e.codes: the kiosk does
// not offer it).
func (e *Engine) addDraining(d Draining, st EngineState) {
	execs := slices.Clone(d.Executives)
	if execs == nil {
		execs = []string{}
	}
	if s, ok := e.services[d.Code]; ok {
		s.draining = execs
		return
	}
	ss := &serviceState{Service: d.Service, mean: float64(d.MeanServiceS), draining: execs}
	if m, ok := st.Means[d.Code]; ok && m > 0 {
		ss.mean = m
	}
	ss.last, ss.streak = st.Numbering[d.Code], st.Streaks[d.Code]
	e.services[d.Code] = ss
	e.drainCodes = append(e.drainCodes, d.Code)
}

// Draining returns the services that take no new tickets while their open
// ones are served (see Draining): configured ones first, then removed ones.
func (e *Engine) Draining() []Draining {
	var out []Draining
	for _, c := range append(slices.Clip(e.codes), e.drainCodes...) {
		if s := e.services[c]; s.draining != nil {
			out = append(out, Draining{Service: s.Service, Executives: slices.Clone(s.draining)})
		}
	}
	return out
}

// servesOf is what an executive calls: his configured services, then the
// draining services he served before the config.
func (e *Engine) servesOf(x *Executive) []string {
	out := e.servicesToday(x)
	for _, c := range append(slices.Clip(e.codes), e.drainCodes...) {
		if s := e.services[c]; s.draining != nil && slices.Contains(s.draining, x.ID) && !slices.Contains(out, c) {
			out = append(slices.Clip(out), c)
		}
	}
	return out
}

// dropDrained ends a drain once none of the service's tickets is open: a
// removed service is forgotten, a configured one opens again.
func (e *Engine) dropDrained(code string) {
	s, ok := e.services[code]
	if !ok || s.draining == nil || len(e.wait[code]) > 0 {
		return
	}
	for _, t := range e.active {
		if t.Service == code {
			return
		}
	}
	if slices.Contains(e.codes, code) {
		s.draining = nil
		return
	}
	delete(e.services, code)
	delete(e.wait, code)
	e.drainCodes = slices.DeleteFunc(e.drainCodes, func(c string) bool { return c == code })
}
