package web

import (
	"slices"

	"github.com/ticketero/ticketero/cloud"
)

// choicesView is the data of the "choices" partial: a filter's options and
// the selected value.
type choicesView struct {
	List     []cloud.Choice
	Selected string
}

// choicesOf builds a filter's options; a selected value that is no longer
// among them (a service retired since) stays selectable so the form shows
// what the page was filtered by.
func choicesOf(list []cloud.Choice, selected string) choicesView {
	if selected != "" && !slices.ContainsFunc(list, func(c cloud.Choice) bool { return c.Value == selected }) {
		list = append(slices.Clip(list), cloud.Choice{Value: selected})
	}
	return choicesView{List: list, Selected: selected}
}
