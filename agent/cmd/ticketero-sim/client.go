package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ticketero/ticketero/shared/backoff"
)

// client speaks the agent's LAN API.
type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	return &client{base: base, http: &http.Client{Timeout: 10 * time.Second}}
}

type ticket struct {
	ID      string `json:"id"`
	Number  string `json:"number"`
	Service string `json:"service"`
	Status  string `json:"status"`
}

type apiError struct {
	Status int
	Code   string `json:"code"`
	Title  string `json:"title"`
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Title) }

// do sends a JSON request and decodes a JSON answer into out (when not nil).
// It returns the status code; non-2xx answers are *apiError.
func (c *client) do(ctx context.Context, method, path, token string, body, out any, hdr map[string]string) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		e := &apiError{Status: resp.StatusCode}
		_ = json.Unmarshal(data, e)
		return resp.StatusCode, e
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// issue takes a ticket as a kiosk does, retrying network errors with the same
// Idempotency-Key so an agent restart never doubles it.
func (c *client) issue(ctx context.Context, service, rut, priority string) (ticket, error) {
	key := randomKey()
	body := map[string]string{"service": service}
	if rut != "" {
		body["rut"] = rut
	}
	if priority != "" {
		body["priority"] = priority
	}
	var t ticket
	var err error
	bo := backoff.New(250*time.Millisecond, 2500*time.Millisecond)
	for range 20 {
		_, err = c.do(ctx, http.MethodPost, "/api/v1/tickets", "", body, &t, map[string]string{"Idempotency-Key": key})
		if _, isAPI := err.(*apiError); err == nil || isAPI || ctx.Err() != nil {
			return t, err
		}
		if err := bo.Wait(ctx); err != nil {
			return t, err
		}
	}
	return t, err
}

func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
