package telegram

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// The bot's appointments (docs/appointments.md): /agendar walks branch →
// service → day → slot with inline buttons, then asks for the RUT as a plain
// message; /mis_horas lists the chat's bookings with buttons to move or
// cancel them (the RUT again); /fila takes a number now at a branch whose
// virtual queue is open. The state between steps rides in the buttons'
// callback data and in the Ref of the bot's question (cloud.Text.Ref), so
// any replica handles the next update.

// Callback data prefixes of the flows (≤ 64 bytes with their fields).
const (
	bookPrefix = "ap:" // ap:b:<branch> · ap:s:<branch>:<svc> · ap:d:<branch>:<svc>:<day> · ap:t:<branch>:<svc>:<unix>
	minePrefix = "mh:" // mh:c:<id> · mh:m:<id> · mh:d:<id>:<day> · mh:t:<id>:<unix>
	joinPrefix = "fq:" // fq:b:<branch> · fq:s:<branch>:<svc>
)

// refWithin is how long the bot's question for a RUT stays open.
const refWithin = 15 * time.Minute

// maxButtons bounds a keyboard's choices (branches, slots).
const maxButtons = 24

func isApptData(d string) bool {
	return strings.HasPrefix(d, bookPrefix) || strings.HasPrefix(d, minePrefix) || strings.HasPrefix(d, joinPrefix)
}

// apptCtx is one update's context for the flows.
type apptCtx struct {
	b      *Bot
	tx     cloud.ChatUpdate
	chat   int64
	update int64
	lang   i18n.Lang
}

func (a apptCtx) say(ctx context.Context, m cloud.Text) error {
	return a.tx.Reply(ctx, a.chat, a.update, m)
}

func (a apptCtx) sayKey(ctx context.Context, key string, args ...string) error {
	m := cloud.Text{Key: key}
	for _, s := range args {
		m.Args = append(m.Args, cloud.Lit(s))
	}
	return a.say(ctx, m)
}

func (b *Bot) zone() *time.Location {
	if b.Zone != nil {
		return b.Zone
	}
	return santiago()
}

// santiago is America/Santiago (UTC when it does not load), loaded once:
// zone is asked for every date and hour a reply shows.
var santiago = sync.OnceValue(func() *time.Location {
	if z, err := time.LoadLocation("America/Santiago"); err == nil {
		return z
	}
	return time.UTC
})

func (a apptCtx) date(t time.Time) string { return t.In(a.b.zone()).Format("02-01-2006") }
func (a apptCtx) hour(t time.Time) string { return t.In(a.b.zone()).Format("15:04") }

// agendar starts a booking: the branches matching q (all when empty).
func (a apptCtx) agendar(ctx context.Context, q string, remote bool) error {
	if a.b.Appointments == nil {
		return a.sayKey(ctx, "telegram.appt.off")
	}
	bs, err := a.b.Appointments.BookableBranches(ctx)
	if err != nil {
		return a.failed(ctx, err)
	}
	q = fold(strings.TrimSpace(q))
	prefix, choose, none := bookPrefix, "telegram.appt.choose_branch", "telegram.appt.no_branch"
	if remote {
		prefix, choose, none = joinPrefix, "telegram.fila.choose_branch", "telegram.fila.none"
	}
	var rows [][]cloud.Button
	for _, br := range bs {
		if q != "" && !strings.Contains(fold(br.Name+" "+br.Region+" "+br.ID), q) {
			continue
		}
		if !hasService(br, remote) {
			continue
		}
		if len(rows) == maxButtons {
			choose += "_more"
			break
		}
		rows = append(rows, []cloud.Button{{Text: br.Name, Data: prefix + "b:" + br.ID}})
	}
	if len(rows) == 0 {
		return a.sayKey(ctx, none)
	}
	return a.say(ctx, cloud.Text{Key: choose, Buttons: rows})
}

func hasService(b cloud.BookableBranch, remote bool) bool {
	for _, s := range b.Services {
		if (remote && s.Remote) || (!remote && s.Bookable) {
			return true
		}
	}
	return false
}

var folder = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n")

func fold(s string) string { return folder.Replace(strings.ToLower(s)) }

// branch finds a bookable branch by ID.
func (a apptCtx) branch(ctx context.Context, id string) (cloud.BookableBranch, bool, error) {
	bs, err := a.b.Appointments.BookableBranches(ctx)
	if err != nil {
		return cloud.BookableBranch{}, false, err
	}
	for _, br := range bs {
		if br.ID == id {
			return br, true, nil
		}
	}
	return cloud.BookableBranch{}, false, nil
}

func serviceName(br cloud.BookableBranch, code string) string {
	for _, s := range br.Services {
		if s.Code == code {
			return s.Name
		}
	}
	return code
}

// callback handles a tap of the flows' buttons; it returns the short note
// shown on the tap.
func (a apptCtx) callback(ctx context.Context, data string) (string, error) {
	if a.b.Appointments == nil {
		return "", a.sayKey(ctx, "telegram.appt.off")
	}
	parts := strings.Split(data, ":")
	if len(parts) < 3 {
		return "feedback.invalid", nil
	}
	flow, step, args := parts[0]+":", parts[1], parts[2:]
	switch flow {
	case bookPrefix, joinPrefix:
		if _, err := queue.ParseBranchID(args[0]); err != nil {
			return "feedback.invalid", nil
		}
		br, ok, err := a.branch(ctx, args[0])
		if err != nil {
			return "", a.failed(ctx, err)
		}
		if !ok {
			return "", a.sayKey(ctx, "telegram.appt.no_branch")
		}
		if step == "b" {
			return "", a.services(ctx, br, flow == joinPrefix)
		}
		if len(args) < 2 || !queue.ValidServiceCode(args[1]) {
			return "feedback.invalid", nil
		}
		svc := args[1]
		switch {
		case flow == joinPrefix && step == "s":
			return "", a.join(ctx, br, svc)
		case step == "s":
			return "", a.chooseDay(ctx, br.Name+" · "+serviceName(br, svc), bookPrefix+"d:"+br.ID+":"+svc+":")
		case step == "d" && len(args) == 3:
			return "", a.chooseSlot(ctx, br.ID, svc, args[2], bookPrefix+"t:"+br.ID+":"+svc+":")
		case step == "t" && len(args) == 3:
			start, err := parseUnix(args[2])
			if err != nil {
				return "feedback.invalid", nil
			}
			return "", a.say(ctx, cloud.Text{Key: "telegram.appt.ask_rut", Ref: "book:" + br.ID + ":" + svc + ":" + args[2],
				Args: []cloud.TextArg{cloud.Lit(serviceName(br, svc)), cloud.Lit(br.Name), cloud.Lit(a.date(start)), cloud.Lit(a.hour(start))}})
		}
	case minePrefix:
		bk, ok, err := a.mine(ctx, args[0])
		if err != nil {
			return "", err
		}
		if !ok {
			return "", a.sayKey(ctx, "telegram.appt.none")
		}
		switch {
		case step == "c":
			return "", a.say(ctx, cloud.Text{Key: "telegram.appt.ask_rut_cancel", Ref: "cancel:" + bk.ID,
				Args: []cloud.TextArg{cloud.Lit(a.date(bk.Start)), cloud.Lit(a.hour(bk.Start))}})
		case step == "m":
			return "", a.chooseDay(ctx, a.date(bk.Start)+" "+a.hour(bk.Start), minePrefix+"d:"+bk.ID+":")
		case step == "d" && len(args) == 2:
			return "", a.chooseSlot(ctx, bk.Branch, bk.Service, args[1], minePrefix+"t:"+bk.ID+":")
		case step == "t" && len(args) == 2:
			start, err := parseUnix(args[1])
			if err != nil {
				return "feedback.invalid", nil
			}
			return "", a.say(ctx, cloud.Text{Key: "telegram.appt.ask_rut_move", Ref: "move:" + bk.ID + ":" + args[1],
				Args: []cloud.TextArg{cloud.Lit(a.date(start)), cloud.Lit(a.hour(start))}})
		}
	}
	return "feedback.invalid", nil
}

// services offers a branch's bookable (or remote) services.
func (a apptCtx) services(ctx context.Context, br cloud.BookableBranch, remote bool) error {
	prefix := bookPrefix
	if remote {
		prefix = joinPrefix
	}
	var rows [][]cloud.Button
	for _, s := range br.Services {
		if (remote && s.Remote) || (!remote && s.Bookable) {
			rows = append(rows, []cloud.Button{{Text: s.Name, Data: prefix + "s:" + br.ID + ":" + s.Code}})
		}
	}
	if len(rows) == 0 {
		return a.sayKey(ctx, "telegram.appt.no_service")
	}
	return a.say(ctx, cloud.Text{Key: "telegram.appt.choose_service", Args: []cloud.TextArg{cloud.Lit(br.Name)}, Buttons: rows})
}

// chooseDay offers the next seven days (data: prefix + YYYY-MM-DD).
func (a apptCtx) chooseDay(ctx context.Context, what, prefix string) error {
	now := a.b.now().In(a.b.zone())
	var rows [][]cloud.Button
	var row []cloud.Button
	for i := range 7 {
		d := time.Date(now.Year(), now.Month(), now.Day()+i, 12, 0, 0, 0, a.b.zone())
		row = append(row, cloud.Button{Key: "booking.weekday." + d.Weekday().String()[:3], Text: d.Format("02/01"),
			Data: prefix + d.Format(time.DateOnly)})
		if len(row) == 4 {
			rows, row = append(rows, row), nil
		}
	}
	rows = append(rows, row)
	return a.say(ctx, cloud.Text{Key: "telegram.appt.choose_day", Args: []cloud.TextArg{cloud.Lit(what)}, Buttons: rows})
}

// chooseSlot offers a day's slots with free places (data: prefix + unix).
func (a apptCtx) chooseSlot(ctx context.Context, branch, svc, day, prefix string) error {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return a.sayKey(ctx, "telegram.appt.no_slots")
	}
	slots, err := a.b.Appointments.Slots(ctx, branch, svc, day)
	if err != nil {
		return a.failed(ctx, err)
	}
	now := a.b.now()
	var rows [][]cloud.Button
	var row []cloud.Button
	n := 0
	for _, s := range slots {
		if s.Free <= 0 || !s.Start.After(now) || n == maxButtons {
			continue
		}
		n++
		row = append(row, cloud.Button{Text: a.hour(s.Start) + " (" + strconv.Itoa(s.Free) + ")",
			Data: prefix + strconv.FormatInt(s.Start.Unix(), 10)})
		if len(row) == 3 {
			rows, row = append(rows, row), nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	if n == 0 {
		return a.sayKey(ctx, "telegram.appt.no_slots")
	}
	return a.say(ctx, cloud.Text{Key: "telegram.appt.choose_slot", Args: []cloud.TextArg{cloud.Lit(day)}, Buttons: rows})
}

func parseUnix(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return time.Time{}, errors.New("bad time")
	}
	return time.Unix(n, 0), nil
}

// mine finds one of the chat's bookings.
func (a apptCtx) mine(ctx context.Context, id string) (cloud.Booking, bool, error) {
	bks, err := a.tx.ChatBookings(ctx, a.chat, a.b.now())
	if err != nil {
		return cloud.Booking{}, false, err
	}
	for _, bk := range bks {
		if bk.ID == id {
			return bk, true, nil
		}
	}
	return cloud.Booking{}, false, nil
}

// misHoras lists the chat's bookings with buttons to move or cancel each.
func (a apptCtx) misHoras(ctx context.Context) error {
	bks, err := a.tx.ChatBookings(ctx, a.chat, a.b.now())
	if err != nil {
		return err
	}
	if len(bks) == 0 {
		return a.sayKey(ctx, "telegram.appt.none")
	}
	var lines []string
	var rows [][]cloud.Button
	for _, bk := range bks {
		name := bk.Branch
		if a.b.Appointments != nil {
			if br, ok, err := a.branch(ctx, bk.Branch); err == nil && ok {
				name = br.Name + " · " + serviceName(br, bk.Service)
			}
		}
		when := a.date(bk.Start) + " " + a.hour(bk.Start)
		lines = append(lines, i18n.T(a.lang, "telegram.appt.item", when, name, bk.Code))
		rows = append(rows, []cloud.Button{{Key: "telegram.appt.btn_move", Text: when, Data: minePrefix + "m:" + bk.ID},
			{Key: "telegram.appt.btn_cancel", Data: minePrefix + "c:" + bk.ID}})
	}
	return a.say(ctx, cloud.Text{Key: "telegram.appt.list", Args: []cloud.TextArg{cloud.Lit(strings.Join(lines, "\n"))}, Buttons: rows})
}

// join asks the branch for a remote ticket for the chat.
func (a apptCtx) join(ctx context.Context, br cloud.BookableBranch, svc string) error {
	j, err := a.b.Appointments.Join(ctx, cloud.JoinRequest{Branch: br.ID, Service: svc, Channel: "telegram", Chat: a.chat})
	if err != nil {
		return a.failed(ctx, err)
	}
	a.b.log().Info("remote join by Telegram", "branch", j.Branch, "service", j.Service, "join", j.ID)
	return a.sayKey(ctx, "telegram.fila.sent", br.Name, serviceName(br, svc), j.Code)
}

// answer handles a plain message answering the bot's question ref (the
// RUT to book, move or cancel). A bad RUT asks again with the same ref.
func (a apptCtx) answer(ctx context.Context, ref, text string) error {
	rut, err := queue.ParseRUT(text)
	if err != nil {
		return a.say(ctx, cloud.Text{Key: "telegram.appt.rut_invalid", Ref: ref,
			Args: []cloud.TextArg{{Key: queue.ErrorReason(err)}}})
	}
	if a.b.Appointments == nil {
		return a.sayKey(ctx, "telegram.appt.off")
	}
	f := strings.Split(ref, ":")
	switch {
	case f[0] == "book" && len(f) == 4:
		start, err := parseUnix(f[3])
		if err != nil {
			return a.sayKey(ctx, "telegram.appt.no_slots")
		}
		bk, err := a.b.Appointments.Book(ctx, cloud.BookRequest{Branch: f[1], Service: f[2], Start: start, RUT: rut.String(),
			Channel: "telegram", Chat: a.chat})
		if err != nil {
			return a.failed(ctx, err)
		}
		name, svc := bk.Branch, bk.Service
		if br, ok, err := a.branch(ctx, bk.Branch); err == nil && ok {
			name, svc = br.Name, serviceName(br, bk.Service)
		}
		a.b.log().Info("booked by Telegram", "branch", bk.Branch, "service", bk.Service, "booking", bk.ID)
		return a.sayKey(ctx, "telegram.appt.booked", svc, name, a.date(bk.Start), a.hour(bk.Start), bk.Code)
	case f[0] == "cancel" && len(f) == 2:
		bk, ok, err := a.mine(ctx, f[1])
		if err != nil || !ok {
			if err == nil {
				err = a.sayKey(ctx, "telegram.appt.none")
			}
			return err
		}
		if _, err := a.b.Appointments.Cancel(ctx, bk.ID, bk.Code, rut.String()); err != nil {
			return a.failed(ctx, err)
		}
		return a.sayKey(ctx, "telegram.appt.cancelled", a.date(bk.Start), a.hour(bk.Start))
	case f[0] == "move" && len(f) == 3:
		bk, ok, err := a.mine(ctx, f[1])
		if err != nil || !ok {
			if err == nil {
				err = a.sayKey(ctx, "telegram.appt.none")
			}
			return err
		}
		start, err := parseUnix(f[2])
		if err != nil {
			return a.sayKey(ctx, "telegram.appt.no_slots")
		}
		nb, err := a.b.Appointments.Reschedule(ctx, bk.ID, bk.Code, rut.String(), start)
		if err != nil {
			return a.failed(ctx, err)
		}
		return a.sayKey(ctx, "telegram.appt.moved", a.date(nb.Start), a.hour(nb.Start), nb.Code)
	}
	return a.sayKey(ctx, "telegram.unknown_command")
}

// failed tells the customer why the book refused, in the page's words
// (booking.* codes); anything else is logged and told as unavailable.
func (a apptCtx) failed(ctx context.Context, err error) error {
	key := ""
	switch {
	case errors.Is(err, cloud.ErrSlotFull):
		key = "booking.slot_full"
	case errors.Is(err, cloud.ErrNotBookable):
		key = "booking.not_bookable"
	case errors.Is(err, cloud.ErrAppointmentNotFound):
		key = "booking.not_found"
	case errors.Is(err, cloud.ErrTooLate):
		key = "booking.too_late"
	case errors.Is(err, cloud.ErrRemoteClosed):
		key = "booking.remote_closed"
	case errors.Is(err, cloud.ErrAlreadyBooked):
		key = "booking.already_booked"
	default:
		var qe *queue.Error
		if errors.As(err, &qe) && qe.Code != queue.CodeInternal && qe.Code != queue.CodeUnavailable {
			return a.say(ctx, cloud.Text{Key: "telegram.appt.failed", Args: []cloud.TextArg{cloud.Lit(qe.Message(a.lang))}})
		}
		if errors.Is(err, context.Canceled) {
			return err
		}
		a.b.log().Warn("appointment request failed", "err", err)
		key = "booking.unavailable"
	}
	return a.say(ctx, cloud.Text{Key: "telegram.appt.failed", Args: []cloud.TextArg{{Key: key}}})
}
