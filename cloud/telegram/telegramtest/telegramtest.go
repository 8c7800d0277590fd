// Package telegramtest is a local fake of the Telegram Bot API for tests, on
// httptest: it checks the bot token in the path, enforces the per-bot and
// per-chat rate limits with HTTP 429 and parameters.retry_after like the real
// one, fails a configurable fraction of calls with 5xx, serves getUpdates with
// offset and timeout from injected updates (one consumer at a time, as
// Telegram: a second getUpdates ends the first with 409 Conflict), and
// records what was sent.
package telegramtest

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sent is one accepted sendMessage.
type Sent struct {
	ChatID    int64
	Text      string
	MessageID int64
	At        time.Time
	// Buttons are the callback_data of the message's inline keyboard, in order.
	Buttons []string
}

// Options tune the fake.
type Options struct {
	// BotRate is the most sendMessage calls accepted in any 1 s window (30).
	BotRate int
	// ChatGap is the least time between two messages to one chat (1 s).
	ChatGap time.Duration
	// RetryAfter is the retry_after answered with a 429, in seconds (1).
	RetryAfter int
	// FailRate is the fraction of sendMessage calls answered 500 or 502 (0).
	FailRate float64
	// Seed makes the failures reproducible.
	Seed uint64
}

// InFlightGrace is how long after a 429 other calls are still considered in
// flight (sent before the caller could read the 429), not unhonoured.
const InFlightGrace = 250 * time.Millisecond

// Server is the fake Bot API.
type Server struct {
	*httptest.Server
	Token string
	opt   Options

	mu       sync.Mutex
	rnd      *rand.Rand
	window   []time.Time // accepted sends in the last second
	lastChat map[int64]time.Time
	// retry-after deadlines told to the bot and per chat: a call before them is
	// an unhonoured 429.
	botBlock   time.Time
	botSince   time.Time
	chatBlock  map[int64]time.Time
	chatSince  map[int64]time.Time
	sent       []Sent
	nextMsg    int64
	updates    []json.RawMessage
	updateIDs  []int64
	updWake    chan struct{}
	polling    chan struct{} // closed to end the getUpdates in flight with a 409
	stats      Stats
	webhookURL string
	webhookKey string
	answered   []string
	nextCB     int
	blocked    map[int64]bool
}

// Stats counts what the fake answered.
type Stats struct {
	Requests      int
	TooMany       int // 429s answered
	Failed        int // 5xx answered
	BadToken      int // 401/404 for a wrong token
	Unhonoured    int // calls made before a retry_after told to the caller ran out
	MaxSentPerSec int
	// Conflicts counts getUpdates calls ended with 409 because another
	// began while they waited: two consumers of one bot.
	Conflicts int
}

// New starts a fake for token; tb-free so benchmarks can use it too. Close it.
func New(token string, opt Options) *Server {
	if opt.BotRate == 0 {
		opt.BotRate = 30
	}
	if opt.ChatGap == 0 {
		opt.ChatGap = time.Second
	}
	if opt.RetryAfter == 0 {
		opt.RetryAfter = 1
	}
	s := &Server{Token: token, opt: opt, rnd: rand.New(rand.NewPCG(opt.Seed, 7)), lastChat: map[int64]time.Time{},
		chatBlock: map[int64]time.Time{}, chatSince: map[int64]time.Time{}, updWake: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Block makes every message to chatID fail as Telegram answers for a user
// who blocked the bot: 403 "Forbidden: bot was blocked by the user".
func (s *Server) Block(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blocked == nil {
		s.blocked = map[int64]bool{}
	}
	s.blocked[chatID] = true
}

// SetFailRate changes the fraction of sendMessage calls failed with 5xx.
func (s *Server) SetFailRate(f float64) { s.mu.Lock(); s.opt.FailRate = f; s.mu.Unlock() }

// Sent returns a copy of every accepted message.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// SentTo returns the texts sent to one chat.
func (s *Server) SentTo(chatID int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.sent {
		if m.ChatID == chatID {
			out = append(out, m.Text)
		}
	}
	return out
}

// Stats returns the counters.
func (s *Server) Stats() Stats { s.mu.Lock(); defer s.mu.Unlock(); return s.stats }

// Webhook returns what setWebhook registered.
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL, s.webhookKey
}

// AddUpdate queues an update for getUpdates; update_id is assigned in order
// and returned. msg is the "message" object.
func (s *Server) AddUpdate(msg map[string]any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := int64(1000 + len(s.updateIDs))
	raw, _ := json.Marshal(map[string]any{"update_id": id, "message": msg})
	s.updates = append(s.updates, raw)
	s.updateIDs = append(s.updateIDs, id)
	close(s.updWake)
	s.updWake = make(chan struct{})
	return id
}

// AddCallback queues a tap by chatID on a button with data (a callback_query
// on message messageID) and returns its update_id.
func (s *Server) AddCallback(chatID, messageID int64, lang, data string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := int64(1000 + len(s.updateIDs))
	s.nextCB++
	raw, _ := json.Marshal(map[string]any{"update_id": id, "callback_query": map[string]any{
		"id":   "cb" + strconv.Itoa(s.nextCB),
		"from": map[string]any{"id": chatID, "is_bot": false, "first_name": "Cliente", "language_code": lang},
		"message": map[string]any{"message_id": messageID, "date": time.Now().Unix(),
			"chat": map[string]any{"id": chatID, "type": "private"}},
		"data": data}})
	s.updates = append(s.updates, raw)
	s.updateIDs = append(s.updateIDs, id)
	close(s.updWake)
	s.updWake = make(chan struct{})
	return id
}

// Answered returns the callback query IDs acknowledged with answerCallbackQuery.
func (s *Server) Answered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.answered...)
}

// TextUpdate builds the message object of a private text message.
func TextUpdate(chatID int64, lang, text string) map[string]any {
	return map[string]any{"message_id": 1, "date": time.Now().Unix(), "text": text,
		"chat": map[string]any{"id": chatID, "type": "private"},
		"from": map[string]any{"id": chatID, "is_bot": false, "first_name": "Cliente", "language_code": lang}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, desc string, retryAfter int) {
	body := map[string]any{"ok": false, "error_code": status, "description": desc}
	if retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": retryAfter}
	}
	writeJSON(w, status, body)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	s.mu.Lock()
	s.stats.Requests++
	if !ok || !ok2 || token != s.Token {
		s.stats.BadToken++
		s.mu.Unlock()
		fail(w, http.StatusUnauthorized, "Unauthorized", 0)
		return
	}
	s.mu.Unlock()
	var req map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil && r.ContentLength != 0 {
		fail(w, http.StatusBadRequest, "Bad Request: invalid JSON", 0)
		return
	}
	switch method {
	case "sendMessage":
		s.sendMessage(w, req)
	case "getUpdates":
		s.getUpdates(w, r, req)
	case "setWebhook":
		var url, secret string
		_ = json.Unmarshal(req["url"], &url)
		_ = json.Unmarshal(req["secret_token"], &secret)
		s.mu.Lock()
		s.webhookURL, s.webhookKey = url, secret
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": true})
	case "deleteWebhook":
		s.mu.Lock()
		s.webhookURL, s.webhookKey = "", ""
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": true})
	case "answerCallbackQuery":
		var id string
		if json.Unmarshal(req["callback_query_id"], &id) != nil || id == "" {
			fail(w, http.StatusBadRequest, "Bad Request: query ID is empty", 0)
			return
		}
		s.mu.Lock()
		s.answered = append(s.answered, id)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": true})
	case "getMe":
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{"id": 1, "is_bot": true,
			"first_name": "Ticketero", "username": "ticketero_test_bot"}})
	default:
		fail(w, http.StatusNotFound, "Not Found: method not found", 0)
	}
}

func (s *Server) sendMessage(w http.ResponseWriter, req map[string]json.RawMessage) {
	var chatID int64
	var text string
	if json.Unmarshal(req["chat_id"], &chatID) != nil || chatID == 0 {
		fail(w, http.StatusBadRequest, "Bad Request: chat_id is empty", 0)
		return
	}
	if json.Unmarshal(req["text"], &text) != nil || text == "" {
		fail(w, http.StatusBadRequest, "Bad Request: message text is empty", 0)
		return
	}
	var buttons []string
	if raw, ok := req["reply_markup"]; ok {
		var mk struct {
			InlineKeyboard [][]struct {
				Text string `json:"text"`
				Data string `json:"callback_data"`
			} `json:"inline_keyboard"`
		}
		if json.Unmarshal(raw, &mk) != nil || len(mk.InlineKeyboard) == 0 {
			fail(w, http.StatusBadRequest, "Bad Request: can't parse reply keyboard markup JSON object", 0)
			return
		}
		for _, row := range mk.InlineKeyboard {
			for _, b := range row {
				if b.Text == "" || b.Data == "" || len(b.Data) > 64 {
					fail(w, http.StatusBadRequest, "Bad Request: BUTTON_DATA_INVALID", 0)
					return
				}
				buttons = append(buttons, b.Data)
			}
		}
	}
	s.mu.Lock()
	if s.blocked[chatID] {
		s.mu.Unlock()
		fail(w, http.StatusForbidden, "Forbidden: bot was blocked by the user", 0)
		return
	}
	now := time.Now()
	// A call made while a retry_after told to the caller runs is unhonoured;
	// calls arriving within InFlightGrace of the 429 were already on their way.
	if (now.Before(s.botBlock) && now.Sub(s.botSince) > InFlightGrace) ||
		(now.Before(s.chatBlock[chatID]) && now.Sub(s.chatSince[chatID]) > InFlightGrace) {
		s.stats.Unhonoured++
	}
	if s.opt.FailRate > 0 && s.rnd.Float64() < s.opt.FailRate {
		s.stats.Failed++
		status := http.StatusInternalServerError
		if s.rnd.IntN(2) == 0 {
			status = http.StatusBadGateway
		}
		s.mu.Unlock()
		fail(w, status, "Internal Server Error", 0)
		return
	}
	// Per-bot: at most BotRate accepted in the last second.
	cut := 0
	for cut < len(s.window) && now.Sub(s.window[cut]) >= time.Second {
		cut++
	}
	s.window = s.window[cut:]
	ra := time.Duration(s.opt.RetryAfter) * time.Second
	if len(s.window) >= s.opt.BotRate {
		s.stats.TooMany++
		s.botBlock, s.botSince = now.Add(ra), now
		s.mu.Unlock()
		fail(w, http.StatusTooManyRequests, "Too Many Requests: retry after 1", s.opt.RetryAfter)
		return
	}
	if last, ok := s.lastChat[chatID]; ok && now.Sub(last) < s.opt.ChatGap {
		s.stats.TooMany++
		s.chatBlock[chatID], s.chatSince[chatID] = now.Add(ra), now
		s.mu.Unlock()
		fail(w, http.StatusTooManyRequests, "Too Many Requests: retry after 1", s.opt.RetryAfter)
		return
	}
	s.window = append(s.window, now)
	s.stats.MaxSentPerSec = max(s.stats.MaxSentPerSec, len(s.window))
	s.lastChat[chatID] = now
	s.nextMsg++
	m := Sent{ChatID: chatID, Text: text, MessageID: s.nextMsg, At: now, Buttons: buttons}
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{"message_id": m.MessageID,
		"date": now.Unix(), "chat": map[string]any{"id": chatID, "type": "private"}, "text": text}})
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, req map[string]json.RawMessage) {
	var offset int64
	var timeout int
	_ = json.Unmarshal(req["offset"], &offset)
	_ = json.Unmarshal(req["timeout"], &timeout)
	deadline := time.Now().Add(time.Duration(timeout) * time.Second)
	// Telegram serves one getUpdates per bot: a new one ends the one in
	// flight with 409 Conflict.
	mine := make(chan struct{})
	s.mu.Lock()
	if s.polling != nil {
		close(s.polling)
	}
	s.polling = mine
	s.mu.Unlock()
	// done leaves the slot before the answer is written, so the caller's
	// next getUpdates never meets this one.
	done := func() {
		s.mu.Lock()
		if s.polling == mine {
			s.polling = nil
		}
		s.mu.Unlock()
	}
	defer done()
	for {
		s.mu.Lock()
		if s.webhookURL != "" {
			s.mu.Unlock()
			done()
			fail(w, http.StatusConflict, "Conflict: can't use getUpdates method while webhook is active", 0)
			return
		}
		var out []json.RawMessage
		for i, id := range s.updateIDs {
			if id >= offset {
				out = append(out, s.updates[i])
			}
		}
		wake := s.updWake
		s.mu.Unlock()
		if len(out) > 0 || !time.Now().Before(deadline) {
			if out == nil {
				out = []json.RawMessage{}
			}
			done()
			writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": out})
			return
		}
		select {
		case <-wake:
		case <-mine:
			s.mu.Lock()
			s.stats.Conflicts++
			s.mu.Unlock()
			fail(w, http.StatusConflict, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", 0)
			return
		case <-time.After(time.Until(deadline)):
		case <-r.Context().Done():
			return
		}
	}
}
