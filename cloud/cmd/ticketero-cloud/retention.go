package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/retention"
	"github.com/ticketero/ticketero/shared/envflag"
)

// ParseRetentionEnv reads the personal-data retention: TICKETERO_RETENTION_DAYS
// (default 30) for RUT hashes on tickets and events and for Telegram RUT
// consents unused that long.
func ParseRetentionEnv(getenv func(string) string) (retention.Config, error) {
	c := retention.Config{Days: 30, Batch: 5000, Every: time.Hour}
	env := envflag.NewEnv(getenv)
	env.Int(&c.Days, "TICKETERO_RETENTION_DAYS")
	if err := env.Err(); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("config: TICKETERO_RETENTION_DAYS: %w", err)
	}
	return c, nil
}

// newRetention builds the retention job; serve runs it at start and hourly,
// one replica at a time, each run audited in hq_audit.
func newRetention(m *Main) (func(context.Context), error) {
	cfg := m.Config.Retention
	cfg.Logger = m.Log
	job, err := retention.New(&postgres.Anonymiser{Pool: m.Pool}, m.hq, cfg)
	if err != nil {
		return nil, err
	}
	return job.Run, nil
}
