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

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// BotStore is what the bot needs of the notification storage
// (postgres/notify implements it).
type BotStore interface {
	// HandleUpdate runs fn in one transaction unless updateID was handled
	// before; it reports whether fn ran.
	HandleUpdate(ctx context.Context, updateID int64, fn func(u cloud.ChatUpdate) error) (bool, error)
	// MarkPublished records that a command went out to its branch.
	MarkPublished(ctx context.Context, id string) error
	// MaxUpdateID is the highest update handled (getUpdates resumes after it).
	MaxUpdateID(ctx context.Context) (int64, error)
}

// Bot answers the customers' updates: /start <token>, /estado, /cancelar,
// /recordar, /ayuda, /stop, and the appointments' /agendar, /mis_horas and
// /fila (appt.go). Every answer is a job (paced, retried), written
// in the transaction that records the update_id, so a redelivered update
// changes nothing.
type Bot struct {
	Store    BotStore
	Keys     *Keys
	Commands cloud.CommandPublisher // optional: without it /cancelar waits for the re-publisher
	// Callbacks acknowledges survey button taps (optional).
	Callbacks CallbackAnswerer
	NewID     func() string
	// Appointments is the book /agendar, /mis_horas and /fila use (appt.go);
	// nil: they answer that bookings are off.
	Appointments cloud.Appointments
	// Zone is the time zone slots are shown in (America/Santiago).
	Zone *time.Location
	Log  *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
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

func (b *Bot) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
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
	_, err := b.Store.HandleUpdate(ctx, u.UpdateID, func(tx cloud.ChatUpdate) error {
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
		chat, err := tx.UpsertChat(ctx, b.Keys.ChatHash(m.Chat.ID), sealed, "private", lang)
		if err != nil {
			return err
		}
		reply := func(key string, args ...string) error {
			msg := cloud.Text{Key: key}
			for _, a := range args {
				msg.Args = append(msg.Args, cloud.Lit(a))
			}
			return tx.Reply(ctx, chat, u.UpdateID, msg)
		}
		a := apptCtx{b: b, tx: tx, chat: chat, update: u.UpdateID, lang: i18n.Lang(lang)}
		if !strings.HasPrefix(strings.TrimSpace(m.Text), "/") {
			// Plain text right after the bot asked for a RUT answers it.
			ref, err := tx.PendingRef(ctx, chat, refWithin)
			if err != nil {
				return err
			}
			if ref != "" {
				return a.answer(ctx, ref, m.Text)
			}
			// Plain text right after the survey's questions is its comment.
			ok, err := tx.SurveyComment(ctx, chat, m.Text)
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
			t, locate, err := tx.LinkToken(ctx, chat, arg, b.commandID())
			if errors.Is(err, cloud.ErrNoTicket) {
				// A booking's link from the page: the chat follows the booking
				// now, and its ticket at check-in (the token's pending link).
				if bk, ok, err := tx.FollowBooking(ctx, chat, arg); err != nil || ok {
					if err != nil {
						return err
					}
					return reply("telegram.appt.following", a.date(bk.Start), a.hour(bk.Start), bk.Code)
				}
				return reply("telegram.link_pending")
			}
			if err != nil {
				return err
			}
			publish = locate // the branch's figure is old: ask where the ticket stands now
			b.log().Info("chat linked", "branch", t.Branch, "ticket", t.ID, "chat", chat)
			return reply("telegram.linked", t.Display)
		case "/estado", "/status":
			t, err := tx.ChatTicket(ctx, chat)
			if errors.Is(err, cloud.ErrNoTicket) {
				return reply("telegram.no_ticket")
			}
			if err != nil {
				return err
			}
			if publish, err = tx.LocateIfOld(ctx, t, b.commandID()); err != nil {
				return err // an old figure: the branch is asked where the ticket stands now
			}
			return tx.Reply(ctx, chat, u.UpdateID, StatusMsg(t, b.now()))
		case "/cancelar", "/cancel":
			t, c, ok, err := tx.RequestCancel(ctx, chat, b.commandID())
			if errors.Is(err, cloud.ErrNoTicket) {
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
			ok, err := tx.Remember(ctx, chat)
			if errors.Is(err, cloud.ErrNoTicket) {
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
			if err := tx.Unlink(ctx, chat); err != nil {
				return err
			}
			return reply("telegram.stopped")
		case "/agendar", "/book":
			return a.agendar(ctx, arg, false)
		case "/fila", "/queue":
			return a.agendar(ctx, arg, true)
		case "/mis_horas", "/my_bookings":
			return a.misHoras(ctx)
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
// not cloud.ChatTicket.Current: older than FreshFor or overtaken).
func StatusMsg(t cloud.ChatTicket, now time.Time) cloud.Text {
	status := cloud.TextArg{Key: "status." + string(t.Status)}
	if t.Status != queue.StatusWaiting {
		return cloud.Text{Key: "telegram.status_done", Args: []cloud.TextArg{cloud.Lit(t.Display), status}}
	}
	return t.PlaceMsg(now, "telegram.status", "telegram.status_at", status)
}
