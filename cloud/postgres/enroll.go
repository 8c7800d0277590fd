package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/shared/enrollapi"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// EnrollStore keeps enrolment codes, the certificate registry and the audit
// trail in PostgreSQL (migrations/postgres/00004_enroll.sql; audit rows go to
// hq_audit).
type EnrollStore struct {
	Pool *pgxpool.Pool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Keys are the cloud's RUT keys: the resume state computes the RUTCheck
	// of a booking the command queue has not completed yet (nil: none).
	Keys *seal.RUTKeys
}

func (s *EnrollStore) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// enrollCodeAlphabet is Crockford's base32 without I, L, O and U: no letter a
// technician could misread over the phone.
const enrollCodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// maxEnrollCodeTTL bounds how long a code may live.
const maxEnrollCodeTTL = 7 * 24 * time.Hour

// normalizeEnrollCode upper-cases a code and drops separators and spaces, so
// "abcd-efgh-jkmn" and "ABCDEFGHJKMN" are the same code.
func normalizeEnrollCode(c string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(c) {
		if r == '-' || r == ' ' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hashEnrollCode(c string) string {
	sum := sha256.Sum256([]byte("ticketero-enroll:" + normalizeEnrollCode(c)))
	return hex.EncodeToString(sum[:])
}

// CreateCode makes a one-time code for branch, valid for ttl, and audits it
// with actor. The branch must exist (created by the HQ admin first).
// Errors: invalid branch.invalid, enroll.ttl_invalid; not_found enroll.branch_unknown.
func (s *EnrollStore) CreateCode(ctx context.Context, branch queue.BranchID, actor string, ttl time.Duration) (cloud.EnrollCode, error) {
	if !branch.Valid() {
		return cloud.EnrollCode{}, queue.Errorf(queue.CodeInvalid, "branch.invalid", string(branch))
	}
	if ttl <= 0 || ttl > maxEnrollCodeTTL {
		return cloud.EnrollCode{}, queue.Errorf(queue.CodeInvalid, "enroll.ttl_invalid", ttl.String())
	}
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return cloud.EnrollCode{}, fmt.Errorf("enroll: code: %w", err)
	}
	var b strings.Builder
	for i, x := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(enrollCodeAlphabet[int(x)%len(enrollCodeAlphabet)])
	}
	code := b.String()
	now := s.now()
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM branches WHERE id = $1)`, string(branch)).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return queue.Errorf(queue.CodeNotFound, "enroll.branch_unknown", string(branch))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO enroll_codes (code_hash, branch, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			hashEnrollCode(code), string(branch), actor, now, now.Add(ttl)); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, "enroll.code_created", string(branch), "expires "+now.Add(ttl).Format(time.RFC3339), "")
	})
	if err != nil {
		return cloud.EnrollCode{}, enrollWrap("create code", err)
	}
	return cloud.EnrollCode{Code: code, Branch: string(branch), ExpiresAt: now.Add(ttl)}, nil
}

// Redeem uses code once, from the address from, and returns its branch. An
// unknown, used or expired code is refused with the same error (nothing tells
// a guesser which); the refusal is audited too. check, when set, runs before
// the use commits: its error leaves the code unused (a CSR for another branch
// never burns the technician's code).
// Errors: unauthorized enroll.code_invalid, or check's.
func (s *EnrollStore) Redeem(ctx context.Context, code, from string, check func(queue.BranchID) error) (queue.BranchID, error) {
	now := s.now()
	var branch string
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE enroll_codes SET used_at = $2, used_from = $3
			WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING branch`,
			hashEnrollCode(code), now, from).Scan(&branch)
		if errors.Is(err, pgx.ErrNoRows) {
			return queue.Errorf(queue.CodeUnauthorized, "enroll.code_invalid")
		}
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(queue.BranchID(branch)); err != nil {
				return err
			}
		}
		return audit(ctx, tx, now, "branch:"+branch, "enroll.code_used", branch, "", from)
	})
	if err != nil {
		if queue.ErrorReason(err) == "enroll.code_invalid" {
			_ = audit(ctx, s.Pool, now, "anonymous", "enroll.code_refused", "", "", from)
		}
		return "", enrollWrap("redeem code", err)
	}
	return queue.BranchID(branch), nil
}

// RecordCertificate adds an issued certificate to the registry.
func (s *EnrollStore) RecordCertificate(ctx context.Context, branch queue.BranchID, provisioner string, der []byte, externalID, serial string, notAfter time.Time, actor, from string) error {
	now := s.now()
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO enroll_certificates (fingerprint, branch, provisioner, external_id, serial, not_after, issued_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, cloud.CertificateFingerprint(der), string(branch), provisioner, externalID, serial, notAfter, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, "enroll.certificate_issued", string(branch),
			fmt.Sprintf("%s %s until %s", provisioner, cloud.CertificateFingerprint(der)[:16], notAfter.UTC().Format(time.RFC3339)), from)
	})
	return enrollWrap("record certificate", err)
}

// CertificateActive reports whether the certificate with DER der is registered
// to branch, not revoked and not expired.
// Errors: unauthorized enroll.proof_invalid.
func (s *EnrollStore) CertificateActive(ctx context.Context, branch queue.BranchID, der []byte) error {
	var ok bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM enroll_certificates
		WHERE fingerprint = $1 AND branch = $2 AND revoked_at IS NULL AND not_after > $3)`,
		cloud.CertificateFingerprint(der), string(branch), s.now()).Scan(&ok)
	if err != nil {
		return enrollWrap("certificate active", err)
	}
	if !ok {
		return queue.Errorf(queue.CodeUnauthorized, "enroll.proof_invalid")
	}
	return nil
}

// Revoke marks every active certificate of branch but the one with
// fingerprint keep as revoked (keep may be empty to revoke all): a replaced
// box's certificate can no longer renew or fetch the resume state. It
// returns what it revoked, so the provisioner can deactivate it too.
func (s *EnrollStore) Revoke(ctx context.Context, branch queue.BranchID, keep, actor string) ([]cloud.RevokedCertificate, error) {
	now := s.now()
	var out []cloud.RevokedCertificate
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `UPDATE enroll_certificates SET revoked_at = $3
			WHERE branch = $1 AND fingerprint <> $2 AND revoked_at IS NULL
			RETURNING fingerprint, provisioner, external_id`, string(branch), keep, now)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r cloud.RevokedCertificate
			if err := rows.Scan(&r.Fingerprint, &r.Provisioner, &r.ExternalID); err != nil {
				return err
			}
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		return audit(ctx, tx, now, actor, "enroll.certificates_revoked", string(branch), fmt.Sprintf("%d", len(out)), "")
	})
	return out, enrollWrap("revoke", err)
}

// Config returns the newest configuration snapshot HQ published for branch
// (raw event.Config JSON), or nil when none was published yet.
func (s *EnrollStore) Config(ctx context.Context, branch queue.BranchID) (json.RawMessage, error) {
	var raw []byte
	err := s.Pool.QueryRow(ctx, `SELECT snapshot FROM hq_branch_configs WHERE branch = $1 ORDER BY version DESC LIMIT 1`, string(branch)).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, enrollWrap("config", err)
	}
	return raw, nil
}

// Resume returns the cloud's state of branch for a replacement box: applied and
// highest seq, today's (in the branch's time zone) highest number per origin
// service and the open tickets.
func (s *EnrollStore) Resume(ctx context.Context, branch queue.BranchID) (enrollapi.ResumeState, error) {
	now := s.now()
	st := enrollapi.ResumeState{Branch: string(branch), Numbers: map[string]int{}, Open: []enrollapi.OpenTicket{}, At: now}
	err := pgx.BeginTxFunc(ctx, s.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		tz := "America/Santiago"
		err := tx.QueryRow(ctx, `SELECT time_zone FROM branches WHERE id = $1`, string(branch)).Scan(&tz)
		if errors.Is(err, pgx.ErrNoRows) {
			return queue.Errorf(queue.CodeNotFound, "enroll.branch_unknown", string(branch))
		}
		if err != nil {
			return err
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			loc = time.UTC
		}
		st.TimeZone = tz
		st.Day = now.In(loc).Format(time.DateOnly)
		err = tx.QueryRow(ctx, `SELECT applied_seq, max_seq FROM branch_sync WHERE branch = $1`, string(branch)).Scan(&st.AppliedSeq, &st.MaxSeq)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT origin_service, max(number) FROM tickets WHERE branch = $1 AND day = $2 GROUP BY origin_service`, string(branch), st.Day)
		if err != nil {
			return err
		}
		for rows.Next() {
			var svc string
			var n int
			if err := rows.Scan(&svc, &n); err != nil {
				return err
			}
			st.Numbers[svc] = n
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// An open ticket's booking (checked in: due at its start unless late
		// or since transferred) and remote join (unchecked while 'issued';
		// its order's code and RUTCheck from the ticket.join command).
		rows, err = tx.Query(ctx, `SELECT t.id, t.origin_service, t.number, t.service, t.priority, t.status, COALESCE(t.counter, 0),
				COALESCE(t.executive, ''), COALESCE(t.token, ''), t.channel, t.queued_at, t.created_at, t.called_at,
				COALESCE(b.id, ''), CASE WHEN NOT b.late AND b.service = t.service THEN b.start_at END,
				COALESCE(j.id, ''), COALESCE(j.status, ''), j.hold_until, COALESCE(j.slides, 0), COALESCE(j.code, ''),
				COALESCE(c.payload->'join'->>'rut_check', '')
			FROM tickets t
			LEFT JOIN LATERAL (SELECT id, late, service, start_at FROM appt_bookings
				WHERE branch = t.branch AND ticket = t.id AND status = 'checked_in' LIMIT 1) b ON true
			LEFT JOIN LATERAL (SELECT id, status, hold_until, slides, code FROM appt_joins
				WHERE branch = t.branch AND ticket = t.id LIMIT 1) j ON true
			LEFT JOIN branch_commands c ON c.id = j.id
			WHERE t.branch = $1 AND t.day = $2 AND t.status IN ('waiting', 'called', 'serving', 'parked')
			ORDER BY t.queued_at, t.id`, string(branch), st.Day)
		if err != nil {
			return err
		}
		for rows.Next() {
			var o enrollapi.OpenTicket
			var called, due, hold *time.Time
			var joinStatus string
			if err := rows.Scan(&o.ID, &o.OriginService, &o.Number, &o.Service, &o.Priority, &o.Status, &o.Counter, &o.Executive,
				&o.Token, &o.Channel, &o.QueuedAt, &o.CreatedAt, &called,
				&o.Appointment, &due, &o.Join, &joinStatus, &hold, &o.Slides, &o.Code, &o.RUTCheck); err != nil {
				return err
			}
			if called != nil {
				o.CalledAt = called.UTC()
			}
			if due != nil {
				o.Due = due.UTC()
			}
			if o.Join != "" {
				present := joinStatus != "issued"
				o.Present = &present
				if hold != nil && !present {
					o.HoldUntil = hold.UTC()
				}
			}
			o.QueuedAt, o.CreatedAt = o.QueuedAt.UTC(), o.CreatedAt.UTC()
			st.Open = append(st.Open, o)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		st.Bookings, err = s.resumeBookings(ctx, tx, string(branch), st.Day)
		return err
	})
	if err != nil {
		return enrollapi.ResumeState{}, enrollWrap("resume", err)
	}
	return st, nil
}

// resumeBookings are branch's active bookings of day (booked or received)
// as the orders the branch holds: the order of the booking's last
// appointment.book command, its RUTCheck computed now (appt.OrderCheck) if
// the command queue has not yet; from the booking's row when that command
// is gone.
func (s *EnrollStore) resumeBookings(ctx context.Context, tx pgx.Tx, branch, day string) ([]event.AppointmentOrder, error) {
	rows, err := tx.Query(ctx, `SELECT b.id, b.rev, b.service, b.start_at, b.end_at, b.code, b.note, COALESCE(b.token, ''),
			b.rut_sealed, c.payload->'appointment'
		FROM appt_bookings b LEFT JOIN branch_commands c ON c.id = b.command AND c.type = $3
		WHERE b.branch = $1 AND b.day = $2 AND b.status IN ('booked', 'received')
		ORDER BY b.start_at, b.id`, branch, day, event.CommandBookAppointment)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []event.AppointmentOrder
	for rows.Next() {
		var o event.AppointmentOrder
		var sent []byte
		if err := rows.Scan(&o.Appointment, &o.Rev, &o.Service, &o.Start, &o.End, &o.Code, &o.Note, &o.Token,
			&o.RUTSealed, &sent); err != nil {
			return nil, err
		}
		var cmd event.AppointmentOrder
		if len(sent) > 0 && json.Unmarshal(sent, &cmd) == nil && cmd.Appointment == o.Appointment && cmd.Rev == o.Rev {
			o = cmd
		}
		o.Start, o.End = o.Start.UTC(), o.End.UTC()
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].RUTCheck != "" {
			continue
		}
		if out[i].RUTCheck, err = appt.OrderCheck(ctx, s.Keys, branch, day, out[i].RUTSealed); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type enrollExecer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// audit writes one hq_audit row (the table the HQ web shows).
func audit(ctx context.Context, db enrollExecer, at time.Time, actor, action, target, detail, ip string) error {
	_, err := db.Exec(ctx, `INSERT INTO hq_audit (at, actor, action, target, detail, ip) VALUES ($1, $2, $3, $4, $5, $6)`,
		at, actor, action, target, detail, ip)
	return err
}

func enrollWrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var qe *queue.Error
	if errors.As(err, &qe) {
		return err
	}
	return fmt.Errorf("enroll: %s: %w", op, err)
}

var _ cloud.EnrollStore = (*EnrollStore)(nil)
