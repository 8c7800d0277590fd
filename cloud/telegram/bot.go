package telegram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// CommandPublisher sends a command to a branch (QoS 1). The cloud's MQTT
// adapter implements it (cloud.CommandPublisher has the same method).
type CommandPublisher interface {
	PublishCommand(ctx context.Context, c event.Command) error
}

// Bot answers the customers' updates: /start <token>, /estado, /cancelar,
// /recordar, /ayuda, /stop. Every answer is a job (paced, retried), written
// in the transaction that records the update_id, so a redelivered update
// changes nothing.
type Bot struct {
	Store    *notify.Store
	Keys     *Keys
	Commands CommandPublisher // optional: without it /cancelar waits for the re-publisher
	// Callbacks acknowledges survey button taps (optional).
	Callbacks CallbackAnswerer
	NewID     func() string
	Log       *slog.Logger
}

// tokenRE is the ticket token's alphabet and size.
var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidToken reports whether s can be a ticket token.
func ValidToken(s string) bool { return tokenRE.MatchString(s) }

func newCommandID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "tg-" + hex.EncodeToString(b[:])
}

func (b *Bot) commandID() string {
	if b.NewID != nil {
		return b.NewID()
	}
	return newCommandID()
}

func (b *Bot) log() *slog.Logger {
	if b.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return b.Log
}

// Handle processes one update exactly once (by update_id).
func (b *Bot) Handle(ctx context.Context, u Update) error {
	if u.CallbackQuery != nil {
		return b.handleCallback(ctx, u)
	}
	m := u.Message
	var publish *event.Command
	_, err := b.Store.HandleUpdate(ctx, u.UpdateID, func(tx pgx.Tx) error {
		if m == nil || m.Chat.Type != "private" || m.Chat.ID == 0 || strings.TrimSpace(m.Text) == "" {
			return nil // nothing to answer; recorded so it is skipped next time
		}
		lang := "es"
		if m.From != nil && strings.HasPrefix(strings.ToLower(m.From.LanguageCode), "en") {
			lang = "en"
		}
		sealed, err := b.Keys.SealChat(m.Chat.ID)
		if err != nil {
			return err
		}
		chat, err := b.Store.UpsertChat(ctx, tx, b.Keys.ChatHash(m.Chat.ID), sealed, "private", lang)
		if err != nil {
			return err
		}
		reply := func(key string, args ...string) error {
			msg := notify.Msg{Key: key}
			for _, a := range args {
				msg.Args = append(msg.Args, notify.S(a))
			}
			return b.Store.Reply(ctx, tx, chat, u.UpdateID, msg)
		}
		if !strings.HasPrefix(strings.TrimSpace(m.Text), "/") {
			// Plain text right after the survey's questions is its comment.
			ok, err := b.Store.SurveyComment(ctx, tx, chat, m.Text)
			if err != nil {
				return err
			}
			if ok {
				return reply("feedback.thanks")
			}
		}
		cmd, arg := parseCommand(m.Text)
		switch cmd {
		case "/start":
			if arg == "" {
				return reply("telegram.help")
			}
			if !ValidToken(arg) {
				return reply("telegram.token_invalid")
			}
			t, locate, err := b.Store.LinkToken(ctx, tx, chat, arg, b.commandID())
			if errors.Is(err, notify.ErrNoTicket) {
				return reply("telegram.link_pending")
			}
			if err != nil {
				return err
			}
			publish = locate // the branch's figure is old: ask where the ticket stands now
			b.log().Info("chat linked", "branch", t.Branch, "ticket", t.ID, "chat", chat)
			return reply("telegram.linked", t.Display)
		case "/estado", "/status":
			t, err := b.Store.ChatTicket(ctx, tx, chat)
			if errors.Is(err, notify.ErrNoTicket) {
				return reply("telegram.no_ticket")
			}
			if err != nil {
				return err
			}
			if publish, err = b.Store.LocateIfOld(ctx, tx, t, b.commandID()); err != nil {
				return err // an old figure: the branch is asked where the ticket stands now
			}
			return b.Store.Reply(ctx, tx, chat, u.UpdateID, StatusMsg(t, b.Store.Now()))
		case "/cancelar", "/cancel":
			t, c, ok, err := b.Store.RequestCancel(ctx, tx, chat, b.commandID())
			if errors.Is(err, notify.ErrNoTicket) {
				return reply("telegram.no_ticket")
			}
			if err != nil {
				return err
			}
			if !ok {
				return reply("telegram.cancel_closed", t.Display)
			}
			publish = &c
			b.log().Info("cancel requested", "branch", t.Branch, "ticket", t.ID, "command", c.ID)
			return reply("telegram.cancel_sent", t.Display)
		case "/recordar", "/remember":
			ok, err := b.Store.Remember(ctx, tx, chat)
			if errors.Is(err, notify.ErrNoTicket) {
				return reply("telegram.no_ticket")
			}
			if err != nil {
				return err
			}
			if !ok {
				return reply("telegram.remember_none")
			}
			return reply("telegram.remember_ok")
		case "/stop":
			if err := b.Store.Unlink(ctx, tx, chat); err != nil {
				return err
			}
			return reply("telegram.stopped")
		case "/ayuda", "/help":
			return reply("telegram.help")
		default:
			return reply("telegram.unknown_command")
		}
	})
	if err != nil {
		return err
	}
	if publish != nil && b.Commands != nil {
		if err := b.Commands.PublishCommand(ctx, *publish); err != nil {
			b.log().Warn("command not published now; the re-publisher retries", "command", publish.ID, "err", err)
		} else {
			_ = b.Store.MarkPublished(ctx, publish.ID)
		}
	}
	return nil
}

// parseCommand splits "/start@bot TOKEN" into "/start" and "TOKEN".
func parseCommand(text string) (cmd, arg string) {
	text = strings.TrimSpace(text)
	cmd, arg, _ = strings.Cut(text, " ")
	cmd, _, _ = strings.Cut(strings.ToLower(cmd), "@")
	return cmd, strings.TrimSpace(arg)
}

// StatusMsg is the answer to /estado: the printed number, its status and,
// while waiting, the branch's last relayed place (with its time when it is
// not notify.TicketInfo.Current: older than FreshFor or overtaken).
func StatusMsg(t notify.TicketInfo, now time.Time) notify.Msg {
	status := notify.Arg{Key: "status." + string(t.Status)}
	if t.Status != queue.StatusWaiting {
		return notify.Msg{Key: "telegram.status_done", Args: []notify.Arg{notify.S(t.Display), status}}
	}
	return t.PlaceMsg(now, "telegram.status", "telegram.status_at", status)
}
