package hq

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// PutBranch creates or updates a branch. Errors: invalid branch.invalid,
// hq.branch.name, hq.branch.time_zone, hq.branch.hours.
func (s *Store) PutBranch(ctx context.Context, in BranchInput) error {
	if _, err := queue.ParseBranchID(in.ID); err != nil {
		return err
	}
	in.Name, in.Region = strings.TrimSpace(in.Name), strings.TrimSpace(in.Region)
	if in.Name == "" || len(in.Name) > 80 || len(in.Region) > 40 || !queue.ValidText(in.Name, 80) || !queue.ValidText(in.Region, 40) {
		return queue.Errorf(queue.CodeInvalid, "hq.branch.name")
	}
	if _, err := time.LoadLocation(in.TimeZone); err != nil || in.TimeZone == "" || in.TimeZone == "Local" {
		return queue.Errorf(queue.CodeInvalid, "hq.branch.time_zone", in.TimeZone)
	}
	if in.OpeningHours == "" {
		in.OpeningHours = "09:00-14:00"
	}
	if !event.ValidOpeningHours(in.OpeningHours) {
		return queue.Errorf(queue.CodeInvalid, "hq.branch.hours", in.OpeningHours)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("put branch", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO branches (id, name, region, time_zone) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region, time_zone = EXCLUDED.time_zone`,
		in.ID, in.Name, in.Region, in.TimeZone); err != nil {
		return wrap("put branch", err)
	}
	if in.Region != "" {
		if _, err := tx.Exec(ctx, `INSERT INTO hq_regions (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING`, in.Region); err != nil {
			return wrap("put region", err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hq_branch_settings (branch, opening_hours, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (branch) DO UPDATE SET opening_hours = EXCLUDED.opening_hours, updated_at = EXCLUDED.updated_at`,
		in.ID, in.OpeningHours, s.now()); err != nil {
		return wrap("put branch settings", err)
	}
	return wrap("put branch", tx.Commit(ctx))
}

// ConfigList lists a page of the branches that match f (each word of the
// search in the ID, name, region or a tag) with the version each runs
// (branch_sync), the latest HQ published and its tags, by ID, and how many
// match (HQ only: no scope). It reads branches, branch_sync, the
// versions' primary key and the tags, never the tickets; one statement
// counts the matches and cuts the page (an offset past the last match gives
// the last page). Errors: invalid hq.configlist.version_invalid.
func (s *Store) ConfigList(ctx context.Context, f cloud.ConfigListFilter) (cloud.ConfigListPage, error) {
	switch f.Version {
	case "", cloud.ConfigBehind, cloud.ConfigCurrent, cloud.ConfigUnpublished:
	default:
		return cloud.ConfigListPage{}, queue.Errorf(queue.CodeInvalid, "hq.configlist.version_invalid", truncateCode(f.Version))
	}
	// Each word of the search must be in the ID, name, region or a tag.
	words := []string{}
	for _, w := range strings.Fields(foldSearch(f.Query)) {
		if len(words) < 8 {
			words = append(words, "%"+w+"%")
		}
	}
	rows, err := s.pool.Query(ctx, `
WITH f AS (
	SELECT bl.id, bl.name, bl.region, coalesce(sy.config_version, 0) AS running, coalesce(c.v, 0) AS published
	FROM (`+branchListSQL+`) bl(id, name, region, time_zone)
	LEFT JOIN branch_sync sy ON sy.branch = bl.id
	-- The latest version by the primary key (branch, version): one index probe a branch.
	LEFT JOIN LATERAL (SELECT max(version) AS v FROM hq_branch_configs WHERE branch = bl.id) c ON true
	WHERE ($1 = '' OR bl.region = $1)
	  AND ($2 = '' OR ($2 = 'behind' AND coalesce(sy.config_version, 0) < coalesce(c.v, 0))
	               OR ($2 = 'current' AND c.v > 0 AND coalesce(sy.config_version, 0) >= c.v)
	               OR ($2 = 'unpublished' AND c.v IS NULL))
	  AND ($3::bigint = 0 OR EXISTS (SELECT 1 FROM hq_templates t WHERE t.id = $3::bigint AND (
	           (t.target_kind = 'region' AND bl.region = t.target_value)
	        OR (t.target_kind = 'tag' AND EXISTS (SELECT 1 FROM hq_branch_tags g WHERE g.branch = bl.id AND g.tag = t.target_value))
	        OR (t.target_kind = 'branches' AND bl.id = ANY(t.target_branches)))))
	  AND NOT EXISTS (SELECT 1 FROM unnest($4::text[]) w(p) WHERE NOT (
	           `+foldSQL("bl.id")+` LIKE w.p OR `+foldSQL("bl.name")+` LIKE w.p OR `+foldSQL("bl.region")+` LIKE w.p
	        OR EXISTS (SELECT 1 FROM hq_branch_tags g WHERE g.branch = bl.id AND g.tag LIKE w.p)))
), n AS (SELECT count(*)::int AS total FROM f),
o AS (SELECT CASE WHEN $5::int = 0 THEN 0 ELSE least($6::int, greatest(n.total - 1, 0) / $5::int * $5::int) END AS off FROM n)
SELECT n.total, o.off, p.id, p.name, p.region, p.running, p.published, p.tags
FROM n CROSS JOIN o
LEFT JOIN LATERAL (
	SELECT f.*, coalesce((SELECT array_agg(g.tag ORDER BY g.tag) FROM hq_branch_tags g WHERE g.branch = f.id), '{}') AS tags
	FROM f ORDER BY f.id OFFSET o.off LIMIT nullif($5::int, 0)
) p ON true
ORDER BY p.id`, f.Region, f.Version, f.Template, words, max(f.Limit, 0), max(f.Offset, 0))
	if err != nil {
		return cloud.ConfigListPage{}, wrap("config list", err)
	}
	var out cloud.ConfigListPage
	var (
		id, name, region   *string
		running, published *int64
		tags               []string
	)
	_, err = pgx.ForEachRow(rows, []any{&out.Total, &out.Offset, &id, &name, &region, &running, &published, &tags}, func() error {
		if id != nil { // the page is empty: the one row says how many match
			out.Rows = append(out.Rows, cloud.ConfigListRow{ID: *id, Name: *name, Region: *region, Running: *running, Published: *published, Tags: slices.Clone(tags)})
		}
		return nil
	})
	return out, wrap("config list", err)
}

// foldSearch is a search as foldSQL compares it: trimmed, lower case,
// without Spanish accents, LIKE's wildcards escaped.
func foldSearch(q string) string {
	q = strings.ToLower(strings.TrimSpace(q))
	q = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n",
		`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q)
	return q
}

// foldSQL is col in lower case without Spanish accents (foldSearch).
func foldSQL(col string) string {
	return "lower(translate(" + col + ", 'ÁÉÍÓÚÜÑáéíóúüñ', 'AEIOUUNaeiouun'))"
}

// BranchConfig returns the draft configuration of a branch (HQ only: no
// scope). Errors: not_found hq.branch.not_found.
func (s *Store) BranchConfig(ctx context.Context, id string) (BranchConfig, error) {
	b, err := s.Branch(ctx, cloud.AllBranches, id)
	if err != nil {
		return BranchConfig{}, err
	}
	c := BranchConfig{BranchInfo: b, OpeningHours: "09:00-14:00", Rules: event.DefaultRules()}
	var apptRules []byte
	err = s.pool.QueryRow(ctx, `SELECT opening_hours, preferential_ratio, recall_limit, pre_notice_ahead, appointment_rules
		FROM hq_branch_settings WHERE branch = $1`, id).
		Scan(&c.OpeningHours, &c.Rules.PreferentialRatio, &c.Rules.RecallLimit, &c.Rules.PreNoticeAhead, &apptRules)
	if err != nil && err != pgx.ErrNoRows {
		return c, wrap("branch settings", err)
	}
	// Appointments and remote joining (saved by postgres/appt.SaveRules).
	if c.Rules.Appointments, err = appt.DecodeRules(apptRules); err != nil {
		return c, err
	}
	// The per-service pre-notice overrides travel in the rules; the branch
	// decides when a ticket is near.
	rows, err := s.pool.Query(ctx, `SELECT service, pre_notice_ahead FROM telegram_service_settings WHERE branch = $1`, id)
	if err != nil {
		return c, wrap("pre-notice settings", err)
	}
	var code string
	var ahead int
	if _, err := pgx.ForEachRow(rows, []any{&code, &ahead}, func() error {
		if c.Rules.PreNoticeByService == nil {
			c.Rules.PreNoticeByService = map[string]int{}
		}
		c.Rules.PreNoticeByService[code] = ahead
		return nil
	}); err != nil {
		return c, wrap("pre-notice settings", err)
	}
	rows, err = s.pool.Query(ctx, `SELECT code, name, target_wait_s, mean_service_s, priority FROM hq_services WHERE branch = $1 ORDER BY code`, id)
	if err != nil {
		return c, wrap("services", err)
	}
	if c.Services, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (queue.Service, error) {
		var v queue.Service
		return v, r.Scan(&v.Code, &v.Name, &v.TargetWaitS, &v.MeanServiceS, &v.Priority)
	}); err != nil {
		return c, wrap("services", err)
	}
	rows, err = s.pool.Query(ctx, `SELECT number, name FROM hq_counters WHERE branch = $1 ORDER BY number`, id)
	if err != nil {
		return c, wrap("counters", err)
	}
	if c.Counters, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (queue.Counter, error) {
		var v queue.Counter
		return v, r.Scan(&v.Number, &v.Name)
	}); err != nil {
		return c, wrap("counters", err)
	}
	rows, err = s.pool.Query(ctx, `SELECT e.id, e.name, e.services, e.pin_hash <> '',
			EXISTS (SELECT 1 FROM branch_reported_config r, jsonb_array_elements(r.report->'executives') x
				WHERE r.branch = e.branch AND x->>'id' = e.id)
		FROM hq_executives e WHERE e.branch = $1 ORDER BY e.id`, id)
	if err != nil {
		return c, wrap("executives", err)
	}
	if c.Executives, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConfigExecutive, error) {
		var v ConfigExecutive
		return v, r.Scan(&v.ID, &v.Name, &v.Services, &v.HasPIN, &v.AtBranch)
	}); err != nil {
		return c, wrap("executives", err)
	}
	rows, err = s.pool.Query(ctx, `SELECT version, published_at, published_by FROM hq_branch_configs WHERE branch = $1 ORDER BY version DESC LIMIT 20`, id)
	if err != nil {
		return c, wrap("versions", err)
	}
	if c.Versions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConfigVersion, error) {
		var v ConfigVersion
		return v, r.Scan(&v.Version, &v.PublishedAt, &v.PublishedBy)
	}); err != nil {
		return c, wrap("versions", err)
	}
	err = s.pool.QueryRow(ctx, `SELECT config_version FROM branch_sync WHERE branch = $1`, id).Scan(&c.Running)
	if err != nil && err != pgx.ErrNoRows {
		return c, wrap("running version", err)
	}
	return c, nil
}

// PutService creates or updates a service of a branch. Errors: invalid
// service.invalid_code, service.invalid; not_found hq.branch.not_found.
func (s *Store) PutService(ctx context.Context, branch string, v queue.Service) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if _, err := s.Branch(ctx, cloud.AllBranches, branch); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s, priority) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (branch, code) DO UPDATE SET name = EXCLUDED.name, target_wait_s = EXCLUDED.target_wait_s,
			mean_service_s = EXCLUDED.mean_service_s, priority = EXCLUDED.priority`,
		branch, v.Code, v.Name, v.TargetWaitS, v.MeanServiceS, v.Priority)
	return wrap("put service", err)
}

// DeleteService removes a service (and it from executives' lists).
func (s *Store) DeleteService(ctx context.Context, branch, code string) error {
	_, err := s.pool.Exec(ctx, `WITH d AS (DELETE FROM hq_services WHERE branch = $1 AND code = $2)
		UPDATE hq_executives SET services = array_remove(services, $2) WHERE branch = $1`, branch, code)
	return wrap("delete service", err)
}

// PutCounter creates or renames a counter. Errors: invalid hq.counter.invalid.
func (s *Store) PutCounter(ctx context.Context, branch string, c queue.Counter) error {
	if c.Number <= 0 || c.Number > 999 || len(c.Name) > 40 || !queue.ValidText(c.Name, 40) {
		return queue.Errorf(queue.CodeInvalid, "hq.counter.invalid", c.Number)
	}
	if _, err := s.Branch(ctx, cloud.AllBranches, branch); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO hq_counters (branch, number, name) VALUES ($1, $2, $3)
		ON CONFLICT (branch, number) DO UPDATE SET name = EXCLUDED.name`, branch, c.Number, c.Name)
	return wrap("put counter", err)
}

// DeleteCounter removes a counter.
func (s *Store) DeleteCounter(ctx context.Context, branch string, number int) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM hq_counters WHERE branch = $1 AND number = $2`, branch, number)
	return wrap("delete counter", err)
}

// PutExecutive creates or updates an executive; a non-empty pin sets his PIN
// (stored as bcrypt). Errors: invalid hq.executive.invalid, executive.pin_policy,
// service.unknown.
func (s *Store) PutExecutive(ctx context.Context, branch string, e queue.Executive, pin string) error {
	e.Name = strings.TrimSpace(e.Name)
	if !queue.ValidExecutiveID(e.ID) || e.Name == "" || len(e.Name) > 80 || !queue.ValidText(e.Name, 80) {
		return queue.Errorf(queue.CodeInvalid, "hq.executive.invalid", e.ID)
	}
	c, err := s.BranchConfig(ctx, branch)
	if err != nil {
		return err
	}
	for _, code := range e.Services {
		found := false
		for _, sv := range c.Services {
			found = found || sv.Code == code
		}
		if !found {
			return queue.Errorf(queue.CodeInvalid, "service.unknown", code)
		}
	}
	hash := ""
	if pin != "" {
		if hash, err = s.hashPIN(pin); err != nil {
			return err
		}
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO hq_executives (branch, id, name, services, pin_hash) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (branch, id) DO UPDATE SET name = EXCLUDED.name, services = EXCLUDED.services,
			pin_hash = CASE WHEN EXCLUDED.pin_hash = '' THEN hq_executives.pin_hash ELSE EXCLUDED.pin_hash END`,
		branch, e.ID, e.Name, nonNil(e.Services), hash)
	return wrap("put executive", err)
}

// SetPIN sets or resets an executive's PIN. Errors: invalid executive.pin_policy;
// not_found hq.executive.not_found.
func (s *Store) SetPIN(ctx context.Context, branch, id, pin string) error {
	hash, err := s.hashPIN(pin)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE hq_executives SET pin_hash = $3 WHERE branch = $1 AND id = $2`, branch, id, hash)
	if err != nil {
		return wrap("set pin", err)
	}
	if tag.RowsAffected() == 0 {
		return queue.Errorf(queue.CodeNotFound, "hq.executive.not_found", id)
	}
	return nil
}

// DeleteExecutive removes an executive.
func (s *Store) DeleteExecutive(ctx context.Context, branch, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM hq_executives WHERE branch = $1 AND id = $2`, branch, id)
	return wrap("delete executive", err)
}

func (s *Store) hashPIN(pin string) (string, error) {
	if !queue.ValidPIN(pin) {
		// The branch's own policy and message: a PIN HQ publishes is one
		// the branch would accept from its admin command.
		return "", queue.Errorf(queue.CodeInvalid, "executive.pin_policy", queue.MinPINLength)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pin), min(s.BcryptCost, bcrypt.DefaultCost))
	if err != nil {
		return "", wrap("hash pin", err)
	}
	return string(h), nil
}

// PutRules sets a branch's calling rules. A non-nil PreNoticeByService
// replaces the per-service pre-notice overrides (empty: none); nil leaves them.
// Non-zero Appointments replace the appointment rules (validated as the
// schedule page's, appt.SaveRules); zero leaves them.
// Errors: invalid hq.rules.invalid, hq.rules.notice_service_invalid (a service
// the branch does not have, or out of 0..50), the appointment rules' codes.
func (s *Store) PutRules(ctx context.Context, branch string, r event.Rules) error {
	if r.PreferentialRatio < 0 || r.PreferentialRatio > 20 || r.RecallLimit < 0 || r.RecallLimit > 10 || r.PreNoticeAhead < 0 || r.PreNoticeAhead > 50 {
		return queue.Errorf(queue.CodeInvalid, "hq.rules.invalid")
	}
	if _, err := s.Branch(ctx, cloud.AllBranches, branch); err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("put rules", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `INSERT INTO hq_branch_settings (branch, preferential_ratio, recall_limit, pre_notice_ahead, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (branch) DO UPDATE SET preferential_ratio = EXCLUDED.preferential_ratio,
		recall_limit = EXCLUDED.recall_limit, pre_notice_ahead = EXCLUDED.pre_notice_ahead, updated_at = EXCLUDED.updated_at`,
		branch, r.PreferentialRatio, r.RecallLimit, r.PreNoticeAhead, s.now()); err != nil {
		return wrap("put rules", err)
	}
	if r.PreNoticeByService != nil {
		if _, err := tx.Exec(ctx, `DELETE FROM telegram_service_settings WHERE branch = $1`, branch); err != nil {
			return wrap("put rules", err)
		}
		for code, n := range r.PreNoticeByService {
			var known bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hq_services WHERE branch = $1 AND code = $2)`, branch, code).
				Scan(&known); err != nil {
				return wrap("put rules", err)
			}
			if !known || n < 0 || n > 50 {
				return queue.Errorf(queue.CodeInvalid, "hq.rules.notice_service_invalid", fmt.Sprintf("%s=%d", code, n))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO telegram_service_settings (branch, service, pre_notice_ahead) VALUES ($1, $2, $3)`,
				branch, code, n); err != nil {
				return wrap("put rules", err)
			}
		}
	}
	if !zeroAppointmentRules(r.Appointments) {
		if err := appt.SaveRules(ctx, tx, branch, r.Appointments, "config-api", s.now()); err != nil {
			return apptInvalid(err)
		}
	}
	return wrap("put rules", tx.Commit(ctx))
}

// zeroAppointmentRules reports whether r sets nothing.
func zeroAppointmentRules(r event.AppointmentRules) bool {
	return r.EarlyMin == 0 && r.GraceMin == 0 && r.RunMax == 0 && r.HoldMin == 0 && r.SlideBy == 0 && r.Remote == nil
}

// Publish snapshots a branch's draft as the next config version, stores it and
// returns it for the caller to send on the branch's config topic. rutSealKey
// is the cloud's RUT sealing public key (base64; never the hash key). A publication that would leave waiting tickets
// (HQ's projection) without their service or without an executive serving it
// is refused, naming the service: the branch would orphan them. Errors:
// invalid hq.config.invalid; conflict hq.config.strands_service,
// hq.config.strands_unserved; not_found hq.branch.not_found.
func (s *Store) Publish(ctx context.Context, branch, by, rutSealKey string) (event.Config, error) {
	c, err := s.BranchConfig(ctx, branch)
	if err != nil {
		return event.Config{}, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return event.Config{}, wrap("publish", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('hq_publish:' || $1))`, branch); err != nil {
		return event.Config{}, wrap("publish lock", err)
	}
	cfg := event.Config{V: event.Version, Branch: branch, TimeZone: c.TimeZone, Services: c.Services,
		Counters: c.Counters, Rules: c.Rules, OpeningHours: c.OpeningHours, RUTSealKey: rutSealKey, PublishedAt: s.now().UTC(), PublishedBy: by,
		BranchName: c.Name, Region: c.Region}
	if cfg.Services == nil {
		cfg.Services = []queue.Service{}
	}
	if cfg.Counters == nil {
		cfg.Counters = []queue.Counter{}
	}
	// No PIN hash rides in the retained config (a 6-digit PIN's hash is
	// reversed offline in hours): PINs are set at the branch.
	rows, err := tx.Query(ctx, `SELECT id, name, services FROM hq_executives WHERE branch = $1 ORDER BY id`, branch)
	if err != nil {
		return event.Config{}, wrap("publish executives", err)
	}
	cfg.Executives, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (event.ConfigExecutive, error) {
		var e event.ConfigExecutive
		return e, r.Scan(&e.ID, &e.Name, &e.Services)
	})
	if err != nil {
		return event.Config{}, wrap("publish executives", err)
	}
	if cfg.Executives == nil {
		cfg.Executives = []event.ConfigExecutive{}
	}
	if cfg.Hours, err = s.publishedHours(ctx, tx, branch, cfg.Services); err != nil {
		return event.Config{}, err
	}
	// The branch's own outcome codes (a template's) or the network's.
	if cfg.Outcomes, _, err = s.BranchOutcomes(ctx, branch); err != nil {
		return event.Config{}, err
	}
	running, err := s.RunningConfig(ctx, branch)
	if err != nil {
		return event.Config{}, err
	}
	execs := make([]queue.Executive, 0, len(cfg.Executives))
	for _, x := range cfg.Executives {
		execs = append(execs, x.Executive)
	}
	st, err := s.stranded(ctx, tx, branch, cfg.TimeZone, cfg.Services, execs, running)
	if err != nil {
		return event.Config{}, err
	}
	if len(st) > 0 {
		return event.Config{}, strandedError(st)
	}
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM hq_branch_configs WHERE branch = $1`, branch).Scan(&cfg.Version); err != nil {
		return event.Config{}, wrap("publish version", err)
	}
	if err := cfg.Validate(); err != nil {
		return event.Config{}, queue.Errorf(queue.CodeInvalid, "hq.config.invalid", err.Error())
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return event.Config{}, wrap("publish marshal", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by) VALUES ($1, $2, $3, $4, $5)`,
		branch, cfg.Version, raw, cfg.PublishedAt, by); err != nil {
		return event.Config{}, wrap("publish insert", err)
	}
	return cfg, wrap("publish commit", tx.Commit(ctx))
}

// LatestConfig returns the newest published snapshot of a branch. Errors:
// not_found hq.config.none.
func (s *Store) LatestConfig(ctx context.Context, branch string) (event.Config, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT snapshot FROM hq_branch_configs WHERE branch = $1 ORDER BY version DESC LIMIT 1`, branch).Scan(&raw)
	if err != nil {
		return event.Config{}, notFound(wrap("latest config", err), "hq.config.none", branch)
	}
	var c event.Config
	return c, wrap("latest config", json.Unmarshal(raw, &c))
}
