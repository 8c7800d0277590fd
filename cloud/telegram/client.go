package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client calls the Telegram Bot API (https://core.telegram.org/bots/api).
type Client struct {
	base  string // e.g. https://api.telegram.org
	token string
	http  *http.Client
}

// NewClient builds a client for the bot token against base (empty: the real API).
func NewClient(base, token string, hc *http.Client) *Client {
	if base == "" {
		base = "https://api.telegram.org"
	}
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{base: strings.TrimRight(base, "/"), token: token, http: hc}
}

// APIError is a refusal by the Bot API. RetryAfter is set on HTTP 429.
type APIError struct {
	Status      int
	Description string
	RetryAfter  time.Duration
}

func (e *APIError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("telegram: HTTP %d: %s (retry after %s)", e.Status, e.Description, e.RetryAfter)
	}
	return fmt.Sprintf("telegram: HTTP %d: %s", e.Status, e.Description)
}

// Temporary reports whether retrying later may succeed (429, 5xx).
func (e *APIError) Temporary() bool { return e.Status == http.StatusTooManyRequests || e.Status >= 500 }

type response struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func (c *Client) call(ctx context.Context, method string, req, result any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("telegram: %s: %w", method, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/bot"+c.token+"/"+method, bytes.NewReader(body)) // #nosec G704 -- the Bot API address from the operator's configuration
	if err != nil {
		return fmt.Errorf("telegram: %s: %w", method, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(hr) // #nosec G704 -- the Bot API address from the operator's configuration
	if err != nil {
		// Never wrap the URL: it carries the bot token.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return fmt.Errorf("telegram: %s: %w", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("telegram: %s: read: %w", method, err)
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil || !r.OK || resp.StatusCode != http.StatusOK {
		ae := &APIError{Status: resp.StatusCode, Description: r.Description}
		if ae.Description == "" {
			ae.Description = http.StatusText(resp.StatusCode)
		}
		if r.Parameters != nil && r.Parameters.RetryAfter > 0 {
			ae.RetryAfter = time.Duration(r.Parameters.RetryAfter) * time.Second
		}
		if ae.Status == http.StatusTooManyRequests && ae.RetryAfter == 0 {
			ae.RetryAfter = time.Second
		}
		return ae
	}
	if result != nil {
		if err := json.Unmarshal(r.Result, result); err != nil {
			return fmt.Errorf("telegram: %s: result: %w", method, err)
		}
	}
	return nil
}

// SendMessage sends text to a chat and returns the message ID.
func (c *Client) SendMessage(ctx context.Context, chatID int64, text string) (int64, error) {
	var m Message
	if err := c.call(ctx, "sendMessage", map[string]any{"chat_id": chatID, "text": text}, &m); err != nil {
		return 0, err
	}
	return m.MessageID, nil
}

// SendKeyboard sends text with inline buttons and returns the message ID.
func (c *Client) SendKeyboard(ctx context.Context, chatID int64, text string, rows [][]Button) (int64, error) {
	var m Message
	if err := c.call(ctx, "sendMessage", map[string]any{"chat_id": chatID, "text": text,
		"reply_markup": map[string]any{"inline_keyboard": rows}}, &m); err != nil {
		return 0, err
	}
	return m.MessageID, nil
}

// AnswerCallbackQuery acknowledges a button tap with a short note (may be empty).
func (c *Client) AnswerCallbackQuery(ctx context.Context, id, text string) error {
	return c.call(ctx, "answerCallbackQuery", map[string]any{"callback_query_id": id, "text": text}, nil)
}

// GetUpdates long-polls for updates after offset-1, waiting up to timeout.
func (c *Client) GetUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]Update, error) {
	var out []Update
	err := c.call(ctx, "getUpdates", map[string]any{"offset": offset, "timeout": int(timeout.Seconds()),
		"allowed_updates": []string{"message", "callback_query"}}, &out)
	return out, err
}

// SetWebhook registers url with a secret token Telegram will echo in
// X-Telegram-Bot-Api-Secret-Token.
func (c *Client) SetWebhook(ctx context.Context, url, secret string) error {
	return c.call(ctx, "setWebhook", map[string]any{"url": url, "secret_token": secret,
		"allowed_updates": []string{"message", "callback_query"}}, nil)
}

// DeleteWebhook removes the webhook (getUpdates works only without one).
func (c *Client) DeleteWebhook(ctx context.Context) error {
	return c.call(ctx, "deleteWebhook", map[string]any{}, nil)
}

// Update is an incoming update: a message, or a tap on an inline button.
type Update struct {
	UpdateID      int64          `json:"update_id"`
	Message       *Message       `json:"message,omitempty"`
	CallbackQuery *CallbackQuery `json:"callback_query,omitempty"`
}

// CallbackQuery is a tap on an inline keyboard button.
type CallbackQuery struct {
	ID      string   `json:"id"`
	From    User     `json:"from"`
	Message *Message `json:"message,omitempty"`
	Data    string   `json:"data,omitempty"`
}

// Message is a Telegram message.
type Message struct {
	MessageID int64  `json:"message_id"`
	From      *User  `json:"from,omitempty"`
	Chat      Chat   `json:"chat"`
	Date      int64  `json:"date"`
	Text      string `json:"text,omitempty"`
}

// User is a message's sender.
type User struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LanguageCode string `json:"language_code,omitempty"`
}

// Chat is where a message was written.
type Chat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"` // private, group, supergroup, channel
}
