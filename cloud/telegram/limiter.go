package telegram

import "github.com/ticketero/ticketero/shared/ratelimit"

// NewLimiter paces the bot's calls at perSecond, evenly (a burst of one), so
// no 1-second window holds more than perSecond calls; the worker pauses it
// after a 429's retry_after. It is per process: with R replicas give each 1/R
// of the bot's budget.
func NewLimiter(perSecond float64) *ratelimit.Pacer { return ratelimit.NewPacer(perSecond, 1, nil) }
