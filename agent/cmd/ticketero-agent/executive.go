package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/envflag"
	"github.com/ticketero/ticketero/shared/queue"
)

var randRead = rand.Read

// executiveCmd is "ticketero-agent executive add|list|remove|set-pin|set-manager": the
// branch-local admin of executives until HQ configuration arrives. It works
// on the database file, also while the agent runs (it re-reads an executive
// at each sign-in).
func executiveCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	sub := args[0]
	set := envflag.New("executive "+sub, getenv, stderr)
	fs := set.Flags
	data, pin := "data", ""
	set.String(&data, "data", "", "data directory")
	id := fs.String("id", "", "executive ID, e.g. E01")
	name := fs.String("name", "", "full name")
	set.Secret(&pin, "pin", "", "PIN, 6 to 12 digits, not 111111 or 123456")
	services := fs.String("services", "", "service codes he serves, in preference order: C,P")
	manager := fs.Bool("manager", false, "branch manager role: signs in on the branch page (/branch) and acts there (add, set-manager)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if err := set.Env.Err(); err != nil {
		fmt.Fprintln(stderr, "ticketero-agent:", err)
		return 2
	}
	if err := os.MkdirAll(data, 0o700); err != nil { // #nosec G703 -- --data is the operator's own flag on his box
		fmt.Fprintln(stderr, "ticketero-agent: data:", err)
		return 1
	}
	a, err := sqlite.OpenAdmin(ctx, filepath.Join(data, "agent.db"))
	if err != nil {
		fmt.Fprintln(stderr, "ticketero-agent:", err)
		return 1
	}
	defer a.Close()
	a.User = osUser(getenv)
	switch sub {
	case "add":
		var codes []string
		for _, c := range strings.Split(*services, ",") {
			if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
				codes = append(codes, c)
			}
		}
		err = a.AddExecutive(ctx, queue.Executive{ID: *id, Name: *name, Services: codes}, pin)
		if err == nil && *manager {
			err = a.SetManager(ctx, *id, true)
		}
		if err == nil {
			fmt.Fprintf(stdout, "executive %s added\n", *id)
		}
	case "list":
		xs, lerr := a.Executives(ctx)
		if err = lerr; err == nil {
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			// PIN: whether he can sign in. HQ adds executives without a
			// PIN (PINs are set here): "falta" says set-pin is needed.
			fmt.Fprintln(tw, "ID\tNAME\tSERVICES\tPIN\tMANAGER")
			for _, x := range xs {
				pin := "ok"
				if x.PINHash == "" {
					pin = "falta: executive set-pin --id " + x.ID
				}
				role := "-"
				if x.Manager {
					role = "sí"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.ID, x.Name, strings.Join(x.Services, ","), pin, role)
			}
			_ = tw.Flush()
		}
	case "remove":
		if err = a.RemoveExecutive(ctx, *id); err == nil {
			fmt.Fprintf(stdout, "executive %s removed\n", *id)
		}
	case "set-pin":
		if err = a.SetPIN(ctx, *id, pin); err == nil {
			fmt.Fprintf(stdout, "PIN of %s changed\n", *id)
		}
	case "set-manager":
		if err = a.SetManager(ctx, *id, *manager); err == nil {
			fmt.Fprintf(stdout, "manager role of %s: %v\n", *id, *manager)
		}
	default:
		usage(stderr)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "ticketero-agent:", message(err, getenv))
		return 1
	}
	return 0
}

// osUser names who runs the admin command, for the events' actor: the
// account, and the one behind sudo.
func osUser(getenv func(string) string) string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if su := getenv("SUDO_USER"); su != "" && su != name {
		name += " (sudo " + su + ")"
	}
	return name
}
