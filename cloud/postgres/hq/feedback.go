package hq

// Customer feedback at HQ: CSAT (share of satisfaction answers 4–5) and NPS
// (% promoters 9–10 minus % detractors 0–6) by branch, region, service,
// executive or day, satisfaction by wait band, and the comments (stored
// masked; the web audits who reads them). Scope is enforced here.

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ticketero/ticketero/cloud"
)

// feedbackKeys are the feedback report's dimensions.
var feedbackKeys = map[string]string{
	"branch":    "f.branch",
	"region":    "f.region",
	"service":   "f.service",
	"executive": "f.executive",
	"day":       "f.day::text",
}

const feedbackBase = `WITH bl AS (
	SELECT * FROM (` + branchListSQL + `) x(id, name, region, time_zone)
	WHERE ($1::bool OR x.id = ANY($2::text[]) OR x.region = ANY($3::text[]))
	  AND ($4 = '' OR x.id = $4) AND ($5 = '' OR x.region = $5)
), f AS (
	SELECT fb.*, bl.region FROM feedback fb JOIN bl ON bl.id = fb.branch
	WHERE fb.answered_at IS NOT NULL AND fb.day BETWEEN $6::date AND $7::date
	  AND ($8 = '' OR fb.service = $8) AND ($9 = '' OR fb.executive = $9)
)`

const feedbackAggs = `count(*), count(csat), count(*) FILTER (WHERE csat >= 4), coalesce(avg(csat), 0)::float8,
	count(nps), count(*) FILTER (WHERE nps >= 9), count(*) FILTER (WHERE nps <= 6), count(*) FILTER (WHERE comment <> '')`

func scanFeedbackRow(r pgx.Row, key *string, x *FeedbackRow) error {
	dst := []any{&x.Answers, &x.CSATCount, &x.Satisfied, &x.MeanCSAT, &x.NPSCount, &x.Promoters, &x.Detractors, &x.Comments}
	if key != nil {
		dst = append([]any{key}, dst...)
	}
	if err := r.Scan(dst...); err != nil {
		return err
	}
	x.CSATPct = pct(x.Satisfied, x.CSATCount)
	x.NPS = pct(x.Promoters, x.NPSCount) - pct(x.Detractors, x.NPSCount)
	return nil
}

// FeedbackReport computes CSAT and NPS over the answered surveys of branches
// within scope (an executive's own scope: q.Executive set by the caller).
// Errors: see ReportQuery.Normalize.
func (s *Store) FeedbackReport(ctx context.Context, scope Scope, q ReportQuery) (FeedbackReport, error) {
	if err := q.Normalize(s.now()); err != nil {
		return FeedbackReport{}, err
	}
	all, bs, rs := scopeArgs(scope)
	args := []any{all, bs, rs, q.Branch, q.Region, q.From, q.To, q.Service, q.Executive}
	out := FeedbackReport{Query: q}
	rows, err := s.pool.Query(ctx, feedbackBase+` SELECT `+feedbackKeys[q.GroupBy]+` AS k, `+feedbackAggs+`
		FROM f GROUP BY k ORDER BY k`, args...)
	if err != nil {
		return out, wrap("feedback report", err)
	}
	out.Rows, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (FeedbackRow, error) {
		var x FeedbackRow
		return x, scanFeedbackRow(r, &x.Key, &x)
	})
	if err != nil {
		return out, wrap("feedback report", err)
	}
	if err := scanFeedbackRow(s.pool.QueryRow(ctx, feedbackBase+` SELECT `+feedbackAggs+` FROM f`, args...), nil, &out.Total); err != nil {
		return out, wrap("feedback total", err)
	}
	for _, b := range cloud.WaitBands {
		band := WaitBand{MinS: b[0], MaxS: b[1]}
		var satisfied int
		err := s.pool.QueryRow(ctx, feedbackBase+` SELECT count(csat), coalesce(avg(csat), 0)::float8,
			count(*) FILTER (WHERE csat >= 4), count(*) FILTER (WHERE csat <= 2)
			FROM f WHERE wait_s >= $10 AND ($11 = 0 OR wait_s < $11)`, append(args, b[0], b[1])...).
			Scan(&band.Answers, &band.MeanCSAT, &satisfied, &band.Detractor)
		if err != nil {
			return out, wrap("feedback wait bands", err)
		}
		band.CSATPct = pct(satisfied, band.Answers)
		out.Bands = append(out.Bands, band)
	}
	return out, nil
}

// FeedbackComments lists the newest comments (masked at storage) within
// scope and q, at most limit. The caller audits the reading.
func (s *Store) FeedbackComments(ctx context.Context, scope Scope, q ReportQuery, limit int) ([]FeedbackComment, error) {
	if err := q.Normalize(s.now()); err != nil {
		return nil, err
	}
	all, bs, rs := scopeArgs(scope)
	rows, err := s.pool.Query(ctx, feedbackBase+` SELECT answered_at, branch, service, executive, csat, nps, wait_s, comment
		FROM f WHERE comment <> '' ORDER BY answered_at DESC LIMIT $10`,
		all, bs, rs, q.Branch, q.Region, q.From, q.To, q.Service, q.Executive, limit)
	if err != nil {
		return nil, wrap("feedback comments", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FeedbackComment, error) {
		var c FeedbackComment
		var csat, nps *int16
		var waitS *int32
		err := r.Scan(&c.At, &c.Branch, &c.Service, &c.Executive, &csat, &nps, &waitS, &c.Comment)
		if csat != nil {
			v := int(*csat)
			c.CSAT = &v
		}
		if nps != nil {
			v := int(*nps)
			c.NPS = &v
		}
		if waitS != nil {
			v := int(*waitS)
			c.WaitS = &v
		}
		return c, err
	})
	return out, wrap("feedback comments", err)
}

// lowScores counts per branch the satisfaction answers of at most max in the
// last LowScoreWindow (for AlertLowScore).
func lowScores(ctx context.Context, tx pgx.Tx, branches []string, maxScore int, now time.Time) (map[string]int64, error) {
	if maxScore <= 0 {
		return nil, nil
	}
	return countByBranch(ctx, tx, `SELECT branch, count(*) FROM feedback
		WHERE branch = ANY($1) AND csat <= $3 AND answered_at > $2 GROUP BY branch`, branches, now.Add(-LowScoreWindow), maxScore)
}
