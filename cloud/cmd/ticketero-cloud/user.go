package main

// The `user create` and `token create` subcommands.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/envflag"
	"github.com/ticketero/ticketero/shared/queue"
)

// adminFlags are the flags shared by the admin subcommands.
type adminFlags struct {
	DB        string
	NoMigrate bool
	Role      string
	Regions   string
	Branches  string
	envErr    error // a bad TICKETERO_* value (a TICKETERO_DB_FILE that cannot be read)
}

func (a *adminFlags) register(fs *flag.FlagSet) {
	env := envflag.NewEnv(os.Getenv)
	env.Secret(&a.DB, "TICKETERO_DB")
	a.envErr = env.Err()
	fs.StringVar(&a.DB, "db", a.DB, "PostgreSQL URL (TICKETERO_DB or TICKETERO_DB_FILE)")
	fs.BoolVar(&a.NoMigrate, "no-migrate", false, "do not migrate the database first")
	fs.StringVar(&a.Role, "role", "", "admin, supervisor or viewer")
	fs.StringVar(&a.Regions, "regions", "", "comma-separated regions (supervisor scope)")
	fs.StringVar(&a.Branches, "branches", "", "comma-separated branch IDs (supervisor scope)")
}

func (a *adminFlags) open(ctx context.Context) (*hq.Store, func(), error) {
	if a.envErr != nil {
		return nil, nil, a.envErr
	}
	if a.DB == "" {
		return nil, nil, errors.New("config: db (--db, TICKETERO_DB) is required")
	}
	pool, err := postgres.Open(ctx, a.DB)
	if err != nil {
		return nil, nil, err
	}
	if !a.NoMigrate {
		if err := postgres.Migrate(ctx, pool); err != nil {
			pool.Close()
			return nil, nil, err
		}
	}
	return hq.New(pool, time.Now), pool.Close, nil
}

// parseAdminFlags parses an admin subcommand's flags; --help lists them on
// stderr (the error still says help was requested, so the exit is not 0).
func parseAdminFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) && stderr != nil {
		fmt.Fprintf(stderr, "usage of ticketero-cloud %s:\n", fs.Name())
		fs.SetOutput(stderr)
		fs.PrintDefaults()
	}
	return err
}

// appError prints an application error's Spanish message with its reason.
func appError(err error) error {
	var e *queue.Error
	if errors.As(err, &e) {
		return fmt.Errorf("%s (%s)", e.Message("es"), e.Reason)
	}
	return err
}

// userCommand: ticketero-cloud user create --email E --role R [--name N]
// [--regions A,B] [--branches X,Y] [--password P]; without --password one is
// generated and printed once.
func userCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: ticketero-cloud user create --email E --role admin|supervisor|viewer [--regions R] [--branches B]")
	}
	var a adminFlags
	var email, name, password string
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.register(fs)
	env := envflag.NewEnv(os.Getenv)
	env.Secret(&password, "TICKETERO_USER_PASSWORD")
	if err := env.Err(); err != nil {
		return err
	}
	fs.StringVar(&email, "email", "", "the user's e-mail (sign-in name)")
	fs.StringVar(&name, "name", "", "display name")
	fs.StringVar(&password, "password", password, "password (generated when empty; TICKETERO_USER_PASSWORD or TICKETERO_USER_PASSWORD_FILE)")
	if err := parseAdminFlags(fs, args[1:], stderr); err != nil {
		return fmt.Errorf("user create: %w", err)
	}
	generated := password == ""
	if generated {
		password = newPassword()
	}
	store, closeFn, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	u, err := store.CreateUser(ctx, cloud.NewUser{Email: email, Name: name, Password: password, Role: cloud.Role(a.Role),
		Regions: cloud.SplitList(a.Regions), Branches: cloud.SplitList(a.Branches)})
	if err != nil {
		return appError(err)
	}
	_ = store.Audit(ctx, cloud.AuditEntry{Actor: "cli", Action: cloud.AuditUserCreate, Target: "user:" + u.Email, Detail: "role=" + string(u.Role)})
	fmt.Fprintf(stdout, "created %s user %s\n", u.Role, u.Email)
	if generated {
		fmt.Fprintf(stdout, "password: %s\n", password)
	}
	return nil
}

// tokenCommand: ticketero-cloud token create --name N --role R [--regions]
// [--branches] [--expires YYYY-MM-DD]; prints the token once.
func tokenCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: ticketero-cloud token create --name N --role admin|supervisor|viewer [--regions R] [--branches B] [--expires YYYY-MM-DD]")
	}
	var a adminFlags
	var name, expires string
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.register(fs)
	fs.StringVar(&name, "name", "", "the integration's name")
	fs.StringVar(&expires, "expires", "", "the token's last day, YYYY-MM-DD in Santiago (empty: never expires)")
	if err := parseAdminFlags(fs, args[1:], stderr); err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	store, closeFn, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	until, err := cloud.TokenLastDay(expires)
	if err != nil {
		return appError(err)
	}
	tok, err := store.CreateAPIToken(ctx, cloud.NewToken{Name: name, Role: cloud.Role(a.Role), Regions: cloud.SplitList(a.Regions),
		Branches: cloud.SplitList(a.Branches), ExpiresAt: until, CreatedBy: "cli"})
	if err != nil {
		return appError(err)
	}
	detail := "role=" + a.Role
	if expires != "" {
		detail += " expires=" + expires
	}
	_ = store.Audit(ctx, cloud.AuditEntry{Actor: "cli", Action: cloud.AuditTokenCreate, Target: "token:" + name, Detail: detail})
	fmt.Fprintln(stdout, tok)
	return nil
}

func newPassword() string {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
