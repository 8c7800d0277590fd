package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/shared/backoff"
)

func itoa(n int) string { return strconv.Itoa(n) }

// UpdateSource is the part of the Bot API the poller needs.
type UpdateSource interface {
	GetUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]Update, error)
}

// Poller receives updates by getUpdates long polling: one consumer per bot
// (Telegram answers 409 Conflict to a second), so with several replicas the
// cluster's leader runs it (Service.Poll). Updates are handled exactly once
// by update_id even if Telegram redelivers them.
type Poller struct {
	API     UpdateSource
	Bot     *Bot
	Timeout time.Duration // long-poll timeout (25 s)
	Log     *slog.Logger
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "telegram.poller")
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 25 * time.Second
	}
	offset, err := p.Bot.Store.MaxUpdateID(ctx)
	if err != nil && ctx.Err() == nil {
		log.Warn("read last update", "err", err)
	}
	if offset > 0 {
		offset++
	}
	bo := backoff.New(time.Second, 30*time.Second)
	for ctx.Err() == nil {
		ups, err := p.API.GetUpdates(ctx, offset, timeout)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			wait := bo.Next()
			log.Warn("getUpdates failed", "err", err, "retry_in", wait)
			_ = backoff.Sleep(ctx, wait) // a cancelled ctx ends the loop
			continue
		}
		bo.Reset()
		for _, u := range ups {
			if err := p.Bot.Handle(ctx, u); err != nil {
				// Not confirmed: the next getUpdates delivers it again.
				log.Warn("update not handled", "update", u.UpdateID, "err", err)
				break
			}
			offset = u.UpdateID + 1
		}
	}
	return nil
}

// Webhook is the http.Handler Telegram posts updates to in production. It
// checks X-Telegram-Bot-Api-Secret-Token against the secret given to
// setWebhook (constant time) and answers 200 once the update is handled (or
// ignored for good), 401 for a wrong secret, 503 when it could not be stored
// (Telegram retries).
type Webhook struct {
	Bot    *Bot
	Secret string
	Log    *slog.Logger
}

func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		problem(w, http.StatusMethodNotAllowed, "method_not_allowed")
		return
	}
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if h.Secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(h.Secret)) != 1 {
		problem(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		problem(w, http.StatusBadRequest, "invalid")
		return
	}
	var u Update
	if err := json.Unmarshal(body, &u); err != nil || u.UpdateID == 0 {
		// A malformed update never becomes valid: accept it so Telegram stops.
		log.Warn("malformed update ignored", "bytes", len(body))
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := h.Bot.Handle(r.Context(), u); err != nil {
		log.Warn("update not handled; Telegram will retry", "update", u.UpdateID, "err", err)
		problem(w, http.StatusServiceUnavailable, "unavailable")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func problem(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": http.StatusText(status),
		"status": status, "code": code})
}
