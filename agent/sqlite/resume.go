package sqlite

// Resume seeding for a replacement box. A new box for an existing branch must go on with today's
// numbering and the event seq with no duplicate and no gap. It starts either
// from a restored backup (numbering and outbox come with the file, but may be
// behind) or from an empty database; in both cases it is then seeded from the
// cloud's resume state, with the agent stopped, before the first serve.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/enrollapi"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// ResumeSeed is the cloud's state of the branch (cloud/enroll.ResumeState):
// every event up to AppliedSeq is stored and projected in the cloud, MaxSeq is
// the highest seq it holds, Numbers today's highest number per origin service
// and Open the tickets still waiting, called or being served.
type ResumeSeed struct {
	Day        string
	AppliedSeq uint64
	MaxSeq     uint64
	Numbers    map[string]int
	Open       []ResumeTicket
	// Bookings are today's bookings the cloud holds active (not checked in):
	// the box holds them as if their appointment.book had arrived.
	Bookings []event.AppointmentOrder
}

// ResumeSeedOf is the seed of the cloud's resume state r (the enrolment
// answer or POST /api/v1/enroll/resume).
func ResumeSeedOf(r enrollapi.ResumeState) ResumeSeed {
	s := ResumeSeed{Day: r.Day, AppliedSeq: r.AppliedSeq, MaxSeq: r.MaxSeq, Numbers: r.Numbers, Bookings: r.Bookings}
	for _, o := range r.Open {
		s.Open = append(s.Open, ResumeTicket{ID: o.ID, OriginService: o.OriginService, Number: o.Number,
			Service: o.Service, Priority: o.Priority, Status: o.Status, Token: o.Token, Channel: o.Channel,
			QueuedAt: o.QueuedAt, CreatedAt: o.CreatedAt, Appointment: o.Appointment, Due: o.Due, Join: o.Join,
			Unchecked: o.Unchecked(), HoldUntil: o.HoldUntil, Slides: o.Slides, Code: o.Code, RUTCheck: o.RUTCheck})
	}
	return s
}

// ResumeTicket is an open ticket in the cloud's projection.
type ResumeTicket struct {
	ID, OriginService string
	Number            int
	Service, Priority string
	Status            string
	Token, Channel    string
	QueuedAt          time.Time
	CreatedAt         time.Time
	// Appointment, Due, Join, Unchecked, HoldUntil, Slides, Code and RUTCheck
	// as agent.Ticket: a checked-in appointment's ticket and a remote one.
	Appointment, Join string
	Due, HoldUntil    time.Time
	Unchecked         bool
	Slides            int
	Code, RUTCheck    string
}

// ResumeReport says what seeding did.
type ResumeReport struct {
	// NextSeq is the seq the box's next event gets.
	NextSeq uint64
	// Numbers is today's last number per service after seeding.
	Numbers map[string]int
	// Recreated is how many open tickets were added from the cloud; Requeued
	// how many of them were called or being served at the old box and wait
	// again first in line (their executive calls them again).
	Recreated, Requeued int
	// Bookings is how many of today's bookings were added or brought to the
	// cloud's revision.
	Bookings int
	// Lost is how many seqs between the cloud's AppliedSeq and MaxSeq neither
	// the cloud nor this box holds (the old box died with the cloud waiting on
	// a resend): the cloud's gap stays until an operator waives it.
	Lost uint64
}

// SeedResume seeds the database at path (migrating it first) from the cloud's
// state, in one transaction, with the agent stopped:
//
//   - seq: the box never reuses a seq the cloud has. Local events the cloud
//     already applied are released (last_ack = max(local ack, AppliedSeq));
//     local events beyond it stay in the outbox and are sent (the cloud
//     de-duplicates). When the box holds fewer events than MaxSeq, the seq
//     jumps past MaxSeq.
//   - numbering: today's counter per service becomes max(local, cloud).
//   - open tickets the box lacks are inserted as the cloud knows them (no RUT:
//     it never reaches the cloud), with their booking and due time, or their
//     remote join (an unchecked one stays uncallable); called or serving ones
//     wait again first in line, with a ticket.requeued event.
//   - today's bookings not checked in that the box lacks (or holds at a lower
//     revision) are held as received, so the kiosk checks them in.
//
// Seeding twice with the same state changes nothing the second time.
func SeedResume(ctx context.Context, path, branch string, r ResumeSeed) (ResumeReport, error) {
	if r.Day == "" {
		return ResumeReport{}, errors.New("sqlite: resume: day missing")
	}
	if r.AppliedSeq > r.MaxSeq {
		r.MaxSeq = r.AppliedSeq
	}
	w, rd, err := openDBs(ctx, path, 1)
	if err != nil {
		return ResumeReport{}, err
	}
	defer w.Close()
	defer rd.Close()
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return ResumeReport{}, fmt.Errorf("sqlite: resume: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	if b, ok, err := getMeta(ctx, tx, metaBranch); err != nil {
		return ResumeReport{}, err
	} else if ok && b != branch {
		return ResumeReport{}, fmt.Errorf("sqlite: resume: database belongs to branch %s, not %s", b, branch)
	} else if !ok {
		if err := setMeta(ctx, tx, metaBranch, branch); err != nil {
			return ResumeReport{}, err
		}
	}
	ackS, _, err := getMeta(ctx, tx, metaLastAck)
	if err != nil {
		return ResumeReport{}, err
	}
	localAck := uint64(atoi(ackS))
	var maxOut sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT max(seq) FROM outbox").Scan(&maxOut); err != nil {
		return ResumeReport{}, fmt.Errorf("sqlite: resume: %w", err)
	}
	localLast := max(uint64(maxOut.Int64), localAck)
	rep := ResumeReport{Numbers: map[string]int{}}
	ack := max(localAck, r.AppliedSeq)
	if localLast < r.MaxSeq {
		rep.Lost = r.MaxSeq - max(localLast, r.AppliedSeq)
		ack = r.MaxSeq
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM outbox WHERE seq <= ?", int64(ack)); err != nil {
		return ResumeReport{}, fmt.Errorf("sqlite: resume: %w", err)
	}
	if err := setMeta(ctx, tx, metaLastAck, strconv.FormatUint(ack, 10)); err != nil {
		return ResumeReport{}, err
	}
	next := max(localLast, ack) + 1

	// The box's business day becomes the cloud's: a backup from an earlier
	// day has its open tickets closed as abandoned (the old box's day close
	// reached the cloud with its events), and the engine must not restart
	// today's numbering as a new day.
	localDay, _, err := getMeta(ctx, tx, agent.MetaDay)
	if err != nil {
		return ResumeReport{}, err
	}
	if localDay < r.Day {
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET status = 'abandoned', ended_at = ?
			WHERE day < ? AND status IN ('waiting', 'called', 'serving', 'parked')`, ts(time.Now()), r.Day); err != nil {
			return ResumeReport{}, fmt.Errorf("sqlite: resume: close day: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions"); err != nil {
			return ResumeReport{}, fmt.Errorf("sqlite: resume: sessions: %w", err)
		}
		if err := setMeta(ctx, tx, agent.MetaDay, r.Day); err != nil {
			return ResumeReport{}, err
		}
	}
	for svc, n := range r.Numbers {
		if _, err := tx.ExecContext(ctx, `INSERT INTO numbering (day, service, last) VALUES (?, ?, ?)
			ON CONFLICT (day, service) DO UPDATE SET last = max(last, excluded.last)`, r.Day, svc, n); err != nil {
			return ResumeReport{}, fmt.Errorf("sqlite: resume: numbering: %w", err)
		}
	}
	for _, o := range r.Open {
		var exists int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM tickets WHERE id = ? OR (day = ? AND origin_service = ? AND number = ?)",
			o.ID, r.Day, o.OriginService, o.Number).Scan(&exists); err != nil {
			return ResumeReport{}, fmt.Errorf("sqlite: resume: %w", err)
		}
		if exists > 0 {
			continue
		}
		status, first := queue.StatusWaiting, false
		if o.Status != string(queue.StatusWaiting) {
			first = true
		}
		tok := o.Token
		if tok == "" {
			tok = agent.NewToken()
		}
		t := agent.Ticket{}
		t.ID, t.Day, t.OriginService, t.Number, t.Service = o.ID, r.Day, o.OriginService, o.Number, o.Service
		t.Priority, t.Status, t.Token, t.Channel = queue.PriorityClass(o.Priority), status, tok, o.Channel
		t.QueuedAt, t.CreatedAt, t.FirstInLine = o.QueuedAt, o.CreatedAt, first
		t.Appointment, t.Due, t.Join, t.Unchecked = o.Appointment, o.Due, o.Join, o.Join != "" && o.Unchecked
		t.HoldUntil, t.Slides, t.Code, t.RUTCheck = o.HoldUntil, o.Slides, o.Code, o.RUTCheck
		if err := upsertTicket(ctx, tx, t); err != nil {
			return ResumeReport{}, err
		}
		rep.Recreated++
		if first {
			data, _ := json.Marshal(event.TicketRef{Ticket: o.ID, Service: o.Service, Number: o.Number, Day: r.Day,
				Printed: queue.DisplayNumber(o.OriginService, o.Number)})
			if _, err := tx.ExecContext(ctx, "INSERT INTO outbox (seq, id, type, at, data) VALUES (?, ?, ?, ?, ?)",
				int64(next), agent.NewID(), string(event.TicketRequeued), ts(time.Now()), string(data)); err != nil {
				return ResumeReport{}, fmt.Errorf("sqlite: resume: event: %w", err)
			}
			next++
			rep.Requeued++
		}
	}
	for _, o := range r.Bookings {
		var rev int
		err := tx.QueryRowContext(ctx, "SELECT rev FROM appointments WHERE id = ?", o.Appointment).Scan(&rev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return ResumeReport{}, fmt.Errorf("sqlite: resume: appointment: %w", err)
		}
		if err == nil && rev >= o.Rev {
			continue // the backup holds it (checked in, cancelled or this revision)
		}
		if o.Validate() != nil {
			continue
		}
		a := agent.Appointment{ID: o.Appointment, Rev: o.Rev, Service: o.Service, Day: r.Day, Start: o.Start.UTC(),
			End: o.End.UTC(), Code: o.Code, RUTCheck: o.RUTCheck, Note: o.Note, Token: o.Token, RUTSealed: o.RUTSealed,
			Status: agent.ApptReceived, UpdatedAt: time.Now().UTC()}
		if err := upsertAppointment(tx, a); err != nil {
			return ResumeReport{}, err
		}
		rep.Bookings++
	}
	rows, err := tx.QueryContext(ctx, "SELECT service, last FROM numbering WHERE day = ?", r.Day)
	if err != nil {
		return ResumeReport{}, fmt.Errorf("sqlite: resume: %w", err)
	}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			rows.Close()
			return ResumeReport{}, fmt.Errorf("sqlite: resume: %w", err)
		}
		rep.Numbers[s] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ResumeReport{}, fmt.Errorf("sqlite: resume: numbering: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return ResumeReport{}, fmt.Errorf("sqlite: resume: %w", err)
	}
	rep.NextSeq = next
	return rep, nil
}
