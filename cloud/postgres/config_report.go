package postgres

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// maxReportedSeconds bounds a reported service's times: HQ's columns are
// 32-bit, and a value out of range must not fail the branch's stream.
const maxReportedSeconds = 7 * 24 * 3600

// importCond holds while HQ owns nothing of the branch yet: it never published
// to it and never imported its report. That is the branch's first contact.
const importCond = `NOT EXISTS (SELECT 1 FROM hq_branch_configs WHERE branch = $1)
	AND NOT EXISTS (SELECT 1 FROM branch_reported_config WHERE branch = $1 AND imported_at IS NOT NULL)`

// queueConfigReport projects config.reported: the branch's report is stored
// as what it runs, and on first contact its services, counters and
// executives (without PINs) are added to HQ's draft, and the branch's time
// zone becomes the draft's. Entries HQ already has
// in the draft win (ON CONFLICT DO NOTHING); entries HQ's tables would refuse
// are left out rather than failing the branch's stream. After the first
// import or publication HQ owns the configuration: later reports only update
// what the branch runs (HQ's diff shows the difference).
func (s *EventStore) queueConfigReport(pb *pgx.Batch, branch string, seq uint64, at time.Time, r *event.ConfigReport) {
	svcs := make([]queue.Service, 0, len(r.Services))
	known := map[string]bool{}
	for _, sv := range r.Services {
		if sv.Validate() == nil && !known[sv.Code] && sv.TargetWaitS <= maxReportedSeconds &&
			sv.MeanServiceS <= maxReportedSeconds && sv.Priority >= -1000 && sv.Priority <= 1000 {
			svcs, known[sv.Code] = append(svcs, sv), true
		}
	}
	counters := make([]queue.Counter, 0, len(r.Counters))
	for _, c := range r.Counters {
		if c.Number > 0 && c.Number <= 999 && len(c.Name) <= 40 && queue.ValidText(c.Name, 40) {
			counters = append(counters, c)
		}
	}
	execs := make([]queue.Executive, 0, len(r.Executives))
	for _, x := range r.Executives {
		x.Name = strings.TrimSpace(x.Name)
		if !queue.ValidExecutiveID(x.ID) || x.Name == "" || len(x.Name) > 80 || !queue.ValidText(x.Name, 80) {
			continue
		}
		codes := []string{}
		for _, c := range x.Services {
			if known[c] {
				codes = append(codes, c)
			}
		}
		x.Services = codes
		execs = append(execs, x)
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	pb.Queue(`INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s, priority)
		SELECT $1, x.code, x.name, x.target_wait_s, x.mean_service_s, x.priority
		FROM jsonb_to_recordset($2::jsonb) AS x(code text, name text, target_wait_s int, mean_service_s int, priority int)
		WHERE `+importCond+` ON CONFLICT DO NOTHING`, branch, js(svcs))
	pb.Queue(`INSERT INTO hq_counters (branch, number, name)
		SELECT $1, x.number, coalesce(x.name, '') FROM jsonb_to_recordset($2::jsonb) AS x(number int, name text)
		WHERE `+importCond+` ON CONFLICT DO NOTHING`, branch, js(counters))
	pb.Queue(`INSERT INTO hq_executives (branch, id, name, services)
		SELECT $1, x.id, x.name, ARRAY(SELECT jsonb_array_elements_text(x.services))
		FROM jsonb_to_recordset($2::jsonb) AS x(id text, name text, services jsonb)
		WHERE `+importCond+` ON CONFLICT DO NOTHING`, branch, js(execs))
	if loc, err := time.LoadLocation(r.TimeZone); err == nil && r.TimeZone != "" && loc != time.Local {
		pb.Queue(`UPDATE branches SET time_zone = $2 WHERE id = $1 AND `+importCond, branch, r.TimeZone)
	}
	pb.Queue(`INSERT INTO hq_audit (at, actor, action, target, detail)
		SELECT $2, 'branch:' || $1, 'config.import', 'branch:' || $1, $3 WHERE `+importCond,
		branch, s.Now(), fmt.Sprintf("imported the branch's setup (seq %d): services=%d counters=%d executives=%d, without PINs",
			seq, len(svcs), len(counters), len(execs)))
	pb.Queue(`INSERT INTO branch_reported_config (branch, report, seq, reported_at, imported_at)
		SELECT $1, $2::jsonb, $3, $4, CASE WHEN `+importCond+` THEN $5::timestamptz END
		ON CONFLICT (branch) DO UPDATE SET report = EXCLUDED.report, seq = EXCLUDED.seq, reported_at = EXCLUDED.reported_at,
			imported_at = COALESCE(branch_reported_config.imported_at, EXCLUDED.imported_at)
		WHERE branch_reported_config.seq < EXCLUDED.seq`,
		branch, js(r), int64(seq), at, s.Now())
}
