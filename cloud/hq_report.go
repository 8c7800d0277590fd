package cloud

import (
	"slices"
	"time"

	"github.com/ticketero/ticketero/shared/queue"
)

// ReportGroups are the dimensions a report (and the feedback report) can be
// grouped by.
var ReportGroups = []string{"branch", "region", "service", "executive", "day"}

// MaxReportDays bounds a report's date range.
const MaxReportDays = 366

// ReportQuery selects and groups tickets for a report. From and To are
// business days (inclusive, YYYY-MM-DD); empty filters match everything.
type ReportQuery struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Branch    string `json:"branch"`
	Region    string `json:"region"`
	Service   string `json:"service"`
	Executive string `json:"executive"`
	GroupBy   string `json:"group_by"` // branch (default), region, service, executive, day
}

// Normalize checks and completes the query at now. Errors: invalid
// hq.report.range, hq.report.group.
func (q *ReportQuery) Normalize(now time.Time) error {
	today := now.Format(time.DateOnly)
	if q.From == "" {
		q.From = today
	}
	if q.To == "" {
		q.To = q.From
	}
	from, err1 := time.Parse(time.DateOnly, q.From)
	to, err2 := time.Parse(time.DateOnly, q.To)
	if err1 != nil || err2 != nil || to.Before(from) || to.Sub(from) > MaxReportDays*24*time.Hour {
		return queue.Errorf(queue.CodeInvalid, "hq.report.range", q.From, q.To)
	}
	if q.GroupBy == "" {
		q.GroupBy = "branch"
	}
	if !slices.Contains(ReportGroups, q.GroupBy) {
		return queue.Errorf(queue.CodeInvalid, "hq.report.group", q.GroupBy)
	}
	return nil
}

// ReportRow is one group of a report. Times are seconds; percentages 0-100.
type ReportRow struct {
	Key       string `json:"key"`
	Issued    int    `json:"issued"`
	Served    int    `json:"served"`
	NoShow    int    `json:"no_show"`
	Abandoned int    `json:"abandoned"`
	Called    int    `json:"called"`
	// Waiting counts tickets still waiting (their waits, up to now, are in
	// the mean, p90 and SLA: queue.Judge); WaitingOver those past target.
	Waiting         int     `json:"waiting"`
	WaitingOver     int     `json:"waiting_over"`
	NoShowPct       float64 `json:"no_show_pct"`
	AbandonedPct    float64 `json:"abandoned_pct"`
	MeanWaitS       float64 `json:"mean_wait_s"`
	P90WaitS        float64 `json:"p90_wait_s"`
	MeanServiceS    float64 `json:"mean_service_s"`
	SLAPct          float64 `json:"sla_pct"`
	MeanWalkS       float64 `json:"mean_walk_s"`
	MeanQuotedS     float64 `json:"mean_quoted_s"`     // mean wait quoted at issue (typical)
	MeanActualS     float64 `json:"mean_actual_s"`     // mean actual wait of the same tickets
	WithinQuotedPct float64 `json:"within_quoted_pct"` // called within the quoted upper bound
	PrefServed      int     `json:"pref_served"`
	PrefMeanWaitS   float64 `json:"pref_mean_wait_s"`
	PrefP90WaitS    float64 `json:"pref_p90_wait_s"`
}

// Report is a report's tables: the grouped summary and the hourly arrival
// heatmap (ISO weekday 1-7 × hour 0-23, branch local time).
type Report struct {
	Query   ReportQuery `json:"query"`
	Rows    []ReportRow `json:"rows"`
	Heatmap [7][24]int  `json:"heatmap"`
	Max     int         `json:"max"` // largest heatmap cell
	// Outcomes count completed visits by outcome code; Executives are each
	// executive's serving, idle and paused time per day.
	Outcomes   []OutcomeCount `json:"outcomes"`
	Executives []ExecutiveDay `json:"executives"`
}

// OutcomeCount is how many completed visits carried an outcome code (a visit
// with several codes counts once for each).
type OutcomeCount struct {
	Code   string `json:"code"`
	Name   string `json:"name"` // HQ's name ("" for a code no longer listed)
	Visits int    `json:"visits"`
}

// ExecutiveDay is an executive's time on a business day at a branch:
// serving, idle (signed in, not serving, not paused) and paused, in seconds,
// with the pauses by reason code.
type ExecutiveDay struct {
	Branch    string             `json:"branch"`
	Executive string             `json:"executive"`
	Name      string             `json:"name"`
	Day       string             `json:"day"`
	ServingS  float64            `json:"serving_s"`
	IdleS     float64            `json:"idle_s"`
	PausedS   float64            `json:"paused_s"`
	Pauses    map[string]float64 `json:"pauses_s"` // reason code → seconds
}

// FeedbackRow is one group of the feedback report.
type FeedbackRow struct {
	Key        string  `json:"key"`
	Answers    int     `json:"answers"`
	CSATCount  int     `json:"csat_answers"`
	Satisfied  int     `json:"satisfied"` // satisfaction 4 or 5
	CSATPct    float64 `json:"csat_pct"`
	MeanCSAT   float64 `json:"mean_csat"`
	NPSCount   int     `json:"nps_answers"`
	Promoters  int     `json:"promoters"`  // 9–10
	Detractors int     `json:"detractors"` // 0–6
	NPS        float64 `json:"nps"`        // -100..100
	Comments   int     `json:"comments"`
}

// WaitBand is satisfaction among customers who waited within [MinS, MaxS)
// seconds (MaxS 0: no upper bound).
type WaitBand struct {
	MinS      int     `json:"min_s"`
	MaxS      int     `json:"max_s"`
	Answers   int     `json:"answers"`
	MeanCSAT  float64 `json:"mean_csat"`
	CSATPct   float64 `json:"csat_pct"`
	Detractor int     `json:"low_scores"` // satisfaction 1–2
}

// WaitBands are the report's wait bands (seconds).
var WaitBands = [][2]int{{0, 300}, {300, 600}, {600, 1200}, {1200, 1800}, {1800, 0}}

// FeedbackReport is the feedback report of a query.
type FeedbackReport struct {
	Query ReportQuery   `json:"query"`
	Rows  []FeedbackRow `json:"rows"`
	Total FeedbackRow   `json:"total"`
	Bands []WaitBand    `json:"wait_bands"`
}

// FeedbackComment is a comment with its visit's context (already masked).
type FeedbackComment struct {
	At        time.Time `json:"at"`
	Branch    string    `json:"branch"`
	Service   string    `json:"service"`
	Executive string    `json:"executive"`
	CSAT      *int      `json:"csat"`
	NPS       *int      `json:"nps"`
	WaitS     *int      `json:"wait_s"`
	Comment   string    `json:"comment"`
}
