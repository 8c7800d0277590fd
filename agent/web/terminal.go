package web

import "github.com/ticketero/ticketero/shared/queue"

// PauseReasons are the pause reason codes the terminal offers (HQ reports
// pauses by them), labelled through the catalogue's "pause." keys.
func (pageData) PauseReasons() []string { return queue.PauseReasons }
