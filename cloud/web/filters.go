package web

import (
	"slices"

	"github.com/ticketero/ticketero/cloud/postgres/hq"
)

// choicesView is the data of the "choices" partial: a filter's options and
// the selected value.
type choicesView struct {
	List     []hq.Choice
	Selected string
}

// choicesOf builds a filter's options; a selected value that is no longer
// among them (a service retired since) stays selectable so the form shows
// what the page was filtered by.
func choicesOf(list []hq.Choice, selected string) choicesView {
	if selected != "" && !slices.ContainsFunc(list, func(c hq.Choice) bool { return c.Value == selected }) {
		list = append(slices.Clip(list), hq.Choice{Value: selected})
	}
	return choicesView{List: list, Selected: selected}
}
