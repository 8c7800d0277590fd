package appt

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// bookableTTL is how long BookableBranches serves its last read: the public
// page lists branches on every visit, HQ changes them rarely.
const bookableTTL = 15 * time.Second

// remoteOpen reads, from the branch's newest published config, whether
// remote joining is open for service.
const remoteOpen = `COALESCE((SELECT (snapshot #>> ARRAY['rules', 'appointments', 'remote', $2::text, 'open'])::boolean
	FROM hq_branch_configs WHERE branch = $1 ORDER BY version DESC LIMIT 1), false)`

// BookableBranches lists the branches with a service that takes bookings or
// remote joins (cached for a few seconds).
func (s *Store) BookableBranches(ctx context.Context) ([]cloud.BookableBranch, error) {
	s.mu.Lock()
	if s.bookable != nil && s.Now().Sub(s.bookAt) < bookableTTL {
		out := s.bookable
		s.mu.Unlock()
		return out, nil
	}
	s.mu.Unlock()
	rows, err := s.pool.Query(ctx, `WITH cfg AS (
			SELECT DISTINCT ON (branch) branch, snapshot FROM hq_branch_configs ORDER BY branch, version DESC)
		SELECT v.branch, COALESCE(b.name, ''), COALESCE(b.region, ''), v.code, v.name, v.bookable, v.remote FROM (
			SELECT sv.branch, sv.code, sv.name, sv.priority,
				EXISTS (SELECT 1 FROM appt_schedules a WHERE a.branch = sv.branch AND a.service = sv.code AND a.weekly <> '{}') AS bookable,
				COALESCE((c.snapshot #>> ARRAY['rules', 'appointments', 'remote', sv.code, 'open'])::boolean, false) AS remote
			FROM hq_services sv LEFT JOIN cfg c ON c.branch = sv.branch) v
		LEFT JOIN branches b ON b.id = v.branch
		WHERE v.bookable OR v.remote
		ORDER BY v.branch, v.priority, v.code`)
	if err != nil {
		return nil, fmt.Errorf("appt: bookable branches: %w", err)
	}
	defer rows.Close()
	out := []cloud.BookableBranch{}
	for rows.Next() {
		var id, name, region string
		var sv cloud.BookableService
		if err := rows.Scan(&id, &name, &region, &sv.Code, &sv.Name, &sv.Bookable, &sv.Remote); err != nil {
			return nil, fmt.Errorf("appt: bookable branches: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].ID != id {
			out = append(out, cloud.BookableBranch{ID: id, Name: name, Region: region})
		}
		out[len(out)-1].Services = append(out[len(out)-1].Services, sv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("appt: bookable branches: %w", err)
	}
	s.mu.Lock()
	s.bookable, s.bookAt = out, s.Now()
	s.mu.Unlock()
	return out, nil
}

// Join queues a ticket.join for a remote ticket (remote joining must be open
// for the service in the branch's published rules) and returns the pending
// join with its check-in code.
func (s *Store) Join(ctx context.Context, r cloud.JoinRequest) (cloud.RemoteJoin, error) {
	if !queue.ValidServiceCode(r.Service) || r.Branch == "" || len(r.Branch) > 64 {
		return cloud.RemoteJoin{}, cloud.ErrRemoteClosed
	}
	prio, err := queue.ParsePriorityClass(r.Priority)
	if err != nil {
		return cloud.RemoteJoin{}, err
	}
	if !validChannel(r.Channel) {
		return cloud.RemoteJoin{}, queue.Errorf(queue.CodeInvalid, "appointment.channel", r.Channel)
	}
	rut := ""
	if r.RUT != "" {
		if rut, err = normRUT(r.RUT); err != nil {
			return cloud.RemoteJoin{}, err
		}
	}
	now := s.Now()
	j := cloud.RemoteJoin{ID: s.NewID("jn-"), Branch: r.Branch, Service: r.Service, Channel: r.Channel,
		Status: cloud.JoinPending, CreatedAt: now}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var open bool
		var tz string
		if err := tx.QueryRow(ctx, `SELECT `+remoteOpen+`,
			COALESCE((SELECT time_zone FROM branches WHERE id = $1), 'America/Santiago')`, r.Branch, r.Service).
			Scan(&open, &tz); err != nil {
			return fmt.Errorf("appt: remote rule: %w", err)
		}
		if !open {
			return cloud.ErrRemoteClosed
		}
		loc, err := location(tz)
		if err != nil {
			return fmt.Errorf("appt: time zone: %w", err)
		}
		day := now.In(loc).Format(time.DateOnly)
		if j.Code, err = reserveCode(ctx, tx, r.Branch, day, j.ID, ""); err != nil {
			return err
		}
		o := &event.JoinOrder{Service: r.Service, Priority: string(prio), Channel: r.Channel, Code: j.Code}
		var hash *string
		checkDay := ""
		if rut != "" {
			h, sealed, check, err := s.rutPseudonyms(ctx, r.Branch, day, rut)
			if err != nil {
				return err
			}
			hash, o.RUTCheck, o.RUTSealed = &h, check, sealed
			checkDay = checkLater(check, sealed, day)
		}
		t := newToken() // the follow token, as a booking's
		token := &t
		o.Token, j.Token = t, t
		if r.Chat != 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO telegram_token_links (token, chat_id) VALUES ($1, $2)
				ON CONFLICT DO NOTHING`, t, r.Chat); err != nil {
				return fmt.Errorf("appt: link chat: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO appt_joins (id, branch, service, day, code, priority, channel,
				rut_hash, chat, token, created_at, updated_at)
			VALUES ($1, $2, $3, $4::date, $5, $6, $7, $8, NULLIF($9, 0::bigint), $10, $11, $11)`,
			j.ID, r.Branch, r.Service, day, j.Code, string(prio), r.Channel, hash, r.Chat, token, now); err != nil {
			return fmt.Errorf("appt: insert join: %w", err)
		}
		cmd := event.Command{V: event.Version, Branch: r.Branch, ID: j.ID, Type: event.CommandJoinQueue, At: now, Join: o}
		return queueCommand(ctx, tx, cmd, j.ID, now.Add(joinExpiry), checkDay)
	})
	if err != nil {
		return cloud.RemoteJoin{}, err
	}
	return j, nil
}

// joinSelect reads joins with what the tickets projection says of their
// ticket since: its current place as relayed, and its status (an issued or
// checked-in join whose ticket is no longer waiting is closed).
const joinSelect = `SELECT j.id, j.branch, j.service, j.code, j.channel,
		CASE WHEN j.status IN ('issued', 'checked_in') AND t.status IS NOT NULL AND t.status <> 'waiting'
			THEN 'closed' ELSE j.status END,
		j.reason, COALESCE(j.ticket, ''), COALESCE(j.printed, ''), COALESCE(t.status, ''),
		COALESCE(t.place_position, t.position, j.position), COALESCE(t.place_typical_s, t.quoted_typical_s, j.typical_s),
		COALESCE(t.place_upper_s, t.quoted_upper_s, j.upper_s), j.hold_until, j.created_at, COALESCE(j.token, '')
	FROM appt_joins j LEFT JOIN tickets t ON t.branch = j.branch AND t.id = j.ticket`

func scanJoin(r pgx.Row) (cloud.RemoteJoin, error) {
	var j cloud.RemoteJoin
	var hold *time.Time
	err := r.Scan(&j.ID, &j.Branch, &j.Service, &j.Code, &j.Channel, &j.Status, &j.Reason, &j.Ticket, &j.Printed,
		&j.TicketStatus, &j.Position, &j.TypicalS, &j.UpperS, &hold, &j.CreatedAt, &j.Token)
	j.HoldUntil = orZero(hold)
	return j, found(err, "join")
}

// RemoteJoin reads a join by ID and code.
func (s *Store) RemoteJoin(ctx context.Context, id, code string) (cloud.RemoteJoin, error) {
	return scanJoin(s.pool.QueryRow(ctx, joinSelect+` WHERE j.id = $1 AND j.code = $2`, id, code))
}

// CheckIn queues ticket.check_in for an issued remote ticket whose customer
// scanned the branch's entrance QR (token). A second scan reuses the pending
// command.
func (s *Store) CheckIn(ctx context.Context, id, code, token string) (cloud.RemoteJoin, error) {
	var j cloud.RemoteJoin
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		j, err = scanJoin(tx.QueryRow(ctx, joinSelect+` WHERE j.id = $1 AND j.code = $2 FOR UPDATE OF j`, id, code))
		if err != nil {
			return err
		}
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM appt_branch_tokens WHERE branch = $1 AND token = $2)`,
			j.Branch, token).Scan(&ok); err != nil {
			return fmt.Errorf("appt: check-in token: %w", err)
		}
		if !ok || token == "" {
			return cloud.ErrAppointmentNotFound
		}
		switch j.Status {
		case cloud.JoinCheckedIn:
			return nil
		case cloud.JoinIssued:
		default:
			return cloud.ErrTooLate
		}
		now := s.Now()
		cmd := event.Command{V: event.Version, Branch: j.Branch, ID: s.NewID("ac-"), Type: event.CommandCheckIn,
			Ticket: j.Ticket, At: now}
		p := []byte(`null`)
		_, err = tx.Exec(ctx, `INSERT INTO branch_commands (id, branch, type, ticket, created_at, payload, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			cmd.ID, cmd.Branch, cmd.Type, cmd.Ticket, now, p, now.Add(checkInExpiry))
		if err != nil {
			return fmt.Errorf("appt: queue check-in: %w", err)
		}
		return nil
	})
	return j, err
}

// CheckInToken is the token of the branch's entrance QR, made on first use.
func (s *Store) CheckInToken(ctx context.Context, branch string) (string, error) {
	var t string
	err := s.pool.QueryRow(ctx, `WITH ins AS (
			INSERT INTO appt_branch_tokens (branch, token) VALUES ($1, $2) ON CONFLICT (branch) DO NOTHING RETURNING token)
		SELECT token FROM ins UNION ALL SELECT token FROM appt_branch_tokens WHERE branch = $1 LIMIT 1`,
		branch, newToken()).Scan(&t)
	if err != nil {
		return "", fmt.Errorf("appt: check-in token: %w", err)
	}
	return t, nil
}
