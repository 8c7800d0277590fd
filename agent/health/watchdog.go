package health

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Notify sends state (READY=1, WATCHDOG=1, STOPPING=1, STATUS=...) to the
// service manager's socket: one datagram on the unix socket socket (an
// abstract one when it starts with @), as sd_notify(3) does.
func Notify(socket, state string) error {
	if socket == "" {
		return errors.New("health: no notify socket")
	}
	addr := &net.UnixAddr{Name: socket, Net: "unixgram"}
	if strings.HasPrefix(socket, "@") {
		addr.Name = "\x00" + socket[1:]
	}
	c, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

// Watchdog tells systemd the agent is ready and, while its health holds,
// that it is alive (Type=notify, WatchdogSec=): once the checks fail, the
// pings stop and systemd restarts the agent after WatchdogSec.
type Watchdog struct {
	Checker Checker
	// Socket is $NOTIFY_SOCKET; Every the ping interval (half of
	// $WATCHDOG_USEC): FromEnv fills both.
	Socket string
	Every  time.Duration
	Log    *slog.Logger
}

// FromEnv reads the service manager's environment: ok is false when the
// agent does not run under systemd's notify protocol (no NOTIFY_SOCKET).
// Without WatchdogSec (no WATCHDOG_USEC, or one meant for another process)
// the watchdog still says READY and checks every 30 s.
func FromEnv(getenv func(string) string) (socket string, every time.Duration, ok bool) {
	socket = getenv("NOTIFY_SOCKET")
	if socket == "" {
		return "", 0, false
	}
	every = 30 * time.Second
	if pid := getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return socket, every, true
	}
	if us, err := strconv.ParseInt(getenv("WATCHDOG_USEC"), 10, 64); err == nil && us > 0 {
		every = time.Duration(us) * time.Microsecond / 2
	}
	return socket, every, true
}

// Run checks every Every until ctx ends: READY=1 with the first healthy
// check, then WATCHDOG=1 after each healthy one, none while unhealthy. It
// never says STOPPING=1: an update's restart execs the new version in the
// same process, which says READY=1 again.
func (w *Watchdog) Run(ctx context.Context) {
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "watchdog")
	ready, failing := false, false
	t := time.NewTicker(w.Every)
	defer t.Stop()
	for {
		if p := w.Checker.Problems(ctx); ctx.Err() != nil {
			return
		} else if len(p) > 0 {
			if !failing {
				log.Error("agent unhealthy: watchdog pings withheld (systemd restarts the agent if it lasts)", "problems", strings.Join(p, "; "))
			}
			failing = true
		} else {
			if failing {
				log.Info("agent healthy again: watchdog pings resumed")
			}
			failing = false
			state := "WATCHDOG=1"
			if !ready {
				state = "READY=1\nWATCHDOG=1"
			}
			if err := Notify(w.Socket, state); err != nil {
				log.Warn("sd_notify failed", "err", err)
			} else {
				ready = true
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
