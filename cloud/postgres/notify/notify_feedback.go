package notify

// The survey after service: when a linked ticket is completed ("Finalizar"),
// the ingest writes one feedback row per visit (UNIQUE (branch, ticket)) with
// the visit's context, and a survey job whose message carries the 1–5
// buttons; each tap is an update handled once (update_id), recorded only
// while the survey is open (expires_at) and only once per question.

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// Survey steps (the question a message's buttons answer).
const (
	StepCSAT = cloud.StepCSAT
	StepNPS  = cloud.StepNPS
)

// SurveyStep names the survey and the question of a message's buttons.
type SurveyStep = cloud.SurveyStep

// DefaultSurveyTTL is how long a survey may be answered.
const DefaultSurveyTTL = 24 * time.Hour

// MaxComment bounds a stored comment (characters).
const MaxComment = 500

// Answer outcomes.
var (
	ErrSurveyExpired  = cloud.ErrSurveyExpired
	ErrSurveyAnswered = cloud.ErrSurveyAnswered
	ErrSurveyNotFound = cloud.ErrSurveyNotFound
)

// askSurveys writes the surveys of completed tickets that have a Telegram
// chat: one per visit, with the visit's context copied from the projection
// (already updated in this transaction), and the first question's job.
func (s *Store) askSurveys(ctx context.Context, tx pgx.Tx, branch string, tickets []string, jb *jobBatch) error {
	ttl := s.SurveyTTL
	if ttl <= 0 {
		ttl = DefaultSurveyTTL
	}
	now := s.Now()
	rows, err := tx.Query(ctx, `WITH ins AS (
			INSERT INTO feedback (branch, ticket, channel, chat_id, day, service, executive, counter, outcome,
				wait_s, service_s, created_at, expires_at)
			SELECT t.branch, t.id, 'telegram', l.chat_id, t.day, t.service, coalesce(t.executive, ''), t.counter, t.outcome,
				extract(epoch FROM t.called_at - t.queued_at)::int,
				extract(epoch FROM t.ended_at - coalesce(t.started_at, t.called_at))::int, $3, $4
			FROM tickets t
			JOIN LATERAL (SELECT chat_id FROM telegram_ticket_chats l WHERE l.branch = t.branch AND l.ticket = t.id
				ORDER BY l.created_at LIMIT 1) l ON true
			WHERE t.branch = $1 AND t.id = ANY($2)
			ON CONFLICT (branch, ticket) DO NOTHING
			RETURNING id, ticket, chat_id)
		SELECT ins.id, ins.ticket, ins.chat_id, t.origin_service, t.number, t.printed
		FROM ins JOIN tickets t ON t.branch = $1 AND t.id = ins.ticket`, branch, tickets, now, now.Add(ttl))
	if err != nil {
		return fmt.Errorf("notify: surveys at %s: %w", branch, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, chat int64
		var ticket, origin, printedNo string
		var number int
		if err := rows.Scan(&id, &ticket, &chat, &origin, &number, &printedNo); err != nil {
			return fmt.Errorf("notify: surveys at %s: %w", branch, err)
		}
		display := printedNo
		if display == "" {
			display = fmt.Sprintf("%s-%03d", origin, number)
		}
		jb.add(branch, ticket, KindSurvey, ChannelTelegram, 0, chat,
			Msg{Key: "feedback.ask_csat", Args: []Arg{S(display)}, Survey: &SurveyStep{ID: id, Step: StepCSAT}})
	}
	return rows.Err()
}

// AnswerSurvey records one answer of chat to survey id inside tx (the
// update's transaction): step csat (1–5) or nps (0–10). Errors:
// ErrSurveyNotFound (not this chat's), ErrSurveyExpired, ErrSurveyAnswered,
// or an invalid value.
func (s *Store) AnswerSurvey(ctx context.Context, tx pgx.Tx, chat, id int64, step string, v int) (string, error) {
	col := ""
	switch {
	case step == StepCSAT && v >= 1 && v <= 5:
		col = "csat"
	case step == StepNPS && v >= 0 && v <= 10:
		col = "nps"
	default:
		return "", fmt.Errorf("notify: survey answer %s=%d: invalid", step, v)
	}
	now := s.Now()
	var branch string
	err := tx.QueryRow(ctx, `UPDATE feedback SET `+col+` = $3, answered_at = coalesce(answered_at, $4)
		WHERE id = $1 AND chat_id = $2 AND `+col+` IS NULL AND expires_at > $4 RETURNING branch`,
		id, chat, v, now).Scan(&branch)
	if err == nil {
		return branch, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("notify: survey answer: %w", err)
	}
	var expires time.Time
	var answered bool
	err = tx.QueryRow(ctx, `SELECT expires_at, `+col+` IS NOT NULL FROM feedback WHERE id = $1 AND chat_id = $2`, id, chat).
		Scan(&expires, &answered)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", ErrSurveyNotFound
	case err != nil:
		return "", fmt.Errorf("notify: survey answer: %w", err)
	case answered:
		return "", ErrSurveyAnswered
	default:
		return "", ErrSurveyExpired
	}
}

// SurveyComment stores text as the comment of the chat's open survey that
// awaits one (both questions answered, no comment yet), masked and bounded.
// It reports false when no survey awaits a comment.
func (s *Store) SurveyComment(ctx context.Context, tx pgx.Tx, chat int64, text string) (bool, error) {
	c := MaskPersonal(strings.TrimSpace(text))
	if utf8.RuneCountInString(c) > MaxComment {
		c = string([]rune(c)[:MaxComment])
	}
	if c == "" {
		return false, nil
	}
	tag, err := tx.Exec(ctx, `UPDATE feedback SET comment = $2 WHERE id = (
			SELECT id FROM feedback WHERE chat_id = $1 AND csat IS NOT NULL AND nps IS NOT NULL AND comment = ''
			AND expires_at > $3 ORDER BY created_at DESC LIMIT 1)`, chat, c, s.Now())
	if err != nil {
		return false, fmt.Errorf("notify: survey comment: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// recordTablet stores answers given on a counter tablet (feedback.given),
// inside the ingest's transaction, with the visit's context from the
// projection. The first answer of a visit wins: a Telegram survey already
// answered keeps its answer; one still open is answered by the tablet. An
// out-of-range score (not from our agent) is skipped, never stored.
func (s *Store) recordTablet(ctx context.Context, tx pgx.Tx, branch string, answers []*event.Feedback) error {
	var tickets []string
	var csat, nps []int32
	for _, a := range answers {
		if a.CSAT < 1 || a.CSAT > 5 || (a.NPS != nil && (*a.NPS < 0 || *a.NPS > 10)) {
			continue
		}
		n := int32(-1)
		if a.NPS != nil {
			n = int32(*a.NPS)
		}
		tickets, csat, nps = append(tickets, a.Ticket), append(csat, int32(a.CSAT)), append(nps, n)
	}
	if len(tickets) == 0 {
		return nil
	}
	now := s.Now()
	_, err := tx.Exec(ctx, `INSERT INTO feedback (branch, ticket, channel, day, service, executive, counter, outcome,
			wait_s, service_s, csat, nps, created_at, expires_at, answered_at)
		SELECT t.branch, t.id, 'tablet', t.day, t.service, coalesce(t.executive, ''), t.counter, t.outcome,
			extract(epoch FROM t.called_at - t.queued_at)::int,
			extract(epoch FROM t.ended_at - coalesce(t.started_at, t.called_at))::int,
			u.c, nullif(u.n, -1), $5, $5, $5
		FROM unnest($2::text[], $3::int[], $4::int[]) AS u(id, c, n)
		JOIN tickets t ON t.branch = $1 AND t.id = u.id
		ON CONFLICT (branch, ticket) DO UPDATE SET channel = 'tablet', csat = EXCLUDED.csat, nps = EXCLUDED.nps,
			answered_at = EXCLUDED.answered_at
		WHERE feedback.answered_at IS NULL`, branch, tickets, csat, nps, now)
	if err != nil {
		return fmt.Errorf("notify: tablet answers at %s: %w", branch, err)
	}
	return nil
}

var (
	rutLike   = regexp.MustCompile(`\b\d{1,2}(?:\.?\d{3}){2}\s*-\s*[\dkK]\b|\b\d{7,8}[\dkK]\b`)
	phoneLike = regexp.MustCompile(`\+?\d[\d\s().-]{6,}\d`)
	emailLike = regexp.MustCompile(`[\w.+-]+@[\w-]+\.[\w.-]+`)
)

// MaskPersonal hides RUT-, phone- and e-mail-like data in a customer's
// free text, so a comment is stored and shown without it.
func MaskPersonal(s string) string {
	s = emailLike.ReplaceAllString(s, "[correo]")
	s = rutLike.ReplaceAllString(s, "[RUT]")
	s = phoneLike.ReplaceAllString(s, "[teléfono]")
	return s
}

// ExecutiveScores are each branch's executives' scores over the answers of
// the last days days (executives with at least one answer).
func (s *Store) ExecutiveScores(ctx context.Context, days int) (map[string][]event.ExecutiveScore, error) {
	rows, err := s.pool.Query(ctx, `SELECT branch, executive, count(*), count(csat), count(*) FILTER (WHERE csat >= 4),
			coalesce(avg(csat), 0)::float8, count(nps), count(*) FILTER (WHERE nps >= 9), count(*) FILTER (WHERE nps <= 6)
		FROM feedback WHERE answered_at > $1 AND executive <> '' GROUP BY branch, executive ORDER BY branch, executive`,
		s.Now().AddDate(0, 0, -days))
	if err != nil {
		return nil, fmt.Errorf("notify: executive scores: %w", err)
	}
	defer rows.Close()
	pct := func(n, of int) float64 {
		if of == 0 {
			return 0
		}
		return float64(n) * 100 / float64(of)
	}
	out := map[string][]event.ExecutiveScore{}
	for rows.Next() {
		var branch string
		var sc event.ExecutiveScore
		var csatN, sat, npsN, pro, det int
		if err := rows.Scan(&branch, &sc.Executive, &sc.Answers, &csatN, &sat, &sc.MeanCSAT, &npsN, &pro, &det); err != nil {
			return nil, fmt.Errorf("notify: executive scores: %w", err)
		}
		sc.Days, sc.CSATPct, sc.NPS = days, pct(sat, csatN), pct(pro, npsN)-pct(det, npsN)
		out[branch] = append(out[branch], sc)
	}
	return out, rows.Err()
}
