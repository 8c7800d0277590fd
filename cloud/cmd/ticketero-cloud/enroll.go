package main

// Field enrolment: the API boxes call (`ticketero-agent enroll`) and the
// `enroll-code create` subcommand HQ admins use to hand a technician a code.

import (
	"context"
	"flag"
	"fmt"
	"io"
	nethttp "net/http"
	"os"
	"strings"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/enroll"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/envflag"
	"github.com/ticketero/ticketero/shared/queue"
)

// ParseEnrollEnv reads enrolment's configuration and validates it:
// TICKETERO_ENROLL_PROVISIONER (local-ca, aws-iot or empty: disabled);
// local-ca: TICKETERO_ENROLL_CA_CERT, TICKETERO_ENROLL_CA_KEY,
// TICKETERO_ENROLL_BROKER, TICKETERO_ENROLL_VALIDITY (a Go duration);
// aws-iot: TICKETERO_IOT_POLICY, TICKETERO_IOT_THING_TYPE,
// TICKETERO_IOT_CA_FILE, TICKETERO_IOT_ENDPOINT, TICKETERO_IOT_PORT.
func ParseEnrollEnv(getenv func(string) string) (enroll.Config, error) {
	var c enroll.Config
	env := envflag.NewEnv(getenv)
	env.String(&c.Provisioner, "TICKETERO_ENROLL_PROVISIONER")
	env.String(&c.CACert, "TICKETERO_ENROLL_CA_CERT")
	env.String(&c.CAKey, "TICKETERO_ENROLL_CA_KEY")
	env.String(&c.Broker, "TICKETERO_ENROLL_BROKER")
	env.Duration(&c.Validity, "TICKETERO_ENROLL_VALIDITY")
	env.String(&c.IoTPolicy, "TICKETERO_IOT_POLICY")
	env.String(&c.IoTThingType, "TICKETERO_IOT_THING_TYPE")
	env.String(&c.IoTCAFile, "TICKETERO_IOT_CA_FILE")
	env.String(&c.IoTEndpoint, "TICKETERO_IOT_ENDPOINT")
	env.Int(&c.IoTPort, "TICKETERO_IOT_PORT")
	if err := env.Err(); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, c.Validate()
}

// newEnroll builds the enrolment handler from Config.Enroll; nil when no
// provisioner is configured. Creating codes over the API takes an HQ admin's
// API token (Authorization: Bearer).
func newEnroll(ctx context.Context, m *Main) (nethttp.Handler, error) {
	cfg := m.Config.Enroll
	store := m.hq
	authorize := func(r *nethttp.Request) (string, error) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			return "", queue.Errorf(queue.CodeUnauthorized, "enroll.admin_required")
		}
		p, err := store.TokenPrincipal(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			return "", queue.Errorf(queue.CodeUnauthorized, "enroll.admin_required")
		}
		if p.Role != cloud.RoleAdmin {
			return "", queue.Errorf(queue.CodeForbidden, "enroll.admin_required")
		}
		return p.Actor(), nil
	}
	h, err := enroll.New(ctx, cfg, &postgres.EnrollStore{Pool: m.Pool, Keys: m.rutKeys}, m.Log, authorize)
	if err != nil || h == nil {
		return nil, err
	}
	// The audit keys redeemed codes on the client behind the same trusted
	// proxy as the HQ web's sign-ins, never on a forgeable header.
	h.Proxy = m.Config.Web.Proxy()
	m.Log.Info("field enrolment enabled", "provisioner", cfg.Provisioner)
	return h, nil
}

// enrollCodeCommand: ticketero-cloud enroll-code create --branch SCL-001 [--ttl 24h].
// It prints the one-time code for the technician; its use is audited.
func enrollCodeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: ticketero-cloud enroll-code create --branch ID [--ttl 24h] [--db URL]")
	}
	fs := flag.NewFlagSet("enroll-code create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := envflag.NewEnv(os.Getenv)
	var dbURL string
	env.Secret(&dbURL, "TICKETERO_DB")
	if err := env.Err(); err != nil {
		return err
	}
	db := fs.String("db", dbURL, "PostgreSQL URL (TICKETERO_DB or TICKETERO_DB_FILE)")
	branch := fs.String("branch", "", "branch ID the box will serve, e.g. SCL-001")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the code stays valid (at most 7 days)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *db == "" {
		return fmt.Errorf("config: db (--db, TICKETERO_DB) is required")
	}
	pool, err := postgres.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool); err != nil {
		return err
	}
	code, err := (&postgres.EnrollStore{Pool: pool}).CreateCode(ctx, queue.BranchID(*branch), "cli:"+os.Getenv("USER"), *ttl)
	if err != nil {
		return appError(err)
	}
	fmt.Fprintf(stdout, "%s\n(sucursal %s, válido hasta %s)\n", code.Code, code.Branch, code.ExpiresAt.Local().Format(time.RFC3339))
	return nil
}
