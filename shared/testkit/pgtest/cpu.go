package pgtest

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU measures the CPU time (user and system) spent by this process and by
// the PostgreSQL backends connected to one database, which the load of other
// processes on a shared machine changes far less than a wall-clock rate.
// Backends are read from /proc (Linux; elsewhere they count zero) at
// nanosecond resolution (schedstat). A backend started meanwhile counts
// whole; one that ended meanwhile is missed.
type CPU struct {
	db      string
	goStart time.Duration
	pgStart map[int]time.Duration
}

// StartCPU starts measuring for the database of dbURL.
func StartCPU(dbURL string) *CPU {
	m := &CPU{}
	if u, err := url.Parse(dbURL); err == nil {
		m.db = strings.TrimPrefix(u.Path, "/")
	}
	// This process's time is read last here and first in Since: reading
	// /proc is not counted.
	m.pgStart = backendsCPU(m.db)
	m.goStart = selfCPU()
	return m
}

// Since returns the CPU time spent since StartCPU by this process and by the
// database's backends.
func (m *CPU) Since() (goCPU, pgCPU time.Duration) {
	goCPU = selfCPU() - m.goStart
	for pid, t := range backendsCPU(m.db) {
		pgCPU += t - m.pgStart[pid]
	}
	return goCPU, pgCPU
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendsCPU reads /proc for the PostgreSQL backends connected to db.
func backendsCPU(db string) map[int]time.Duration {
	out := map[int]time.Duration{}
	if db == "" {
		return out
	}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil || !strings.HasPrefix(string(cmd), "postgres: ") || !strings.Contains(string(cmd), " "+db+" ") {
			continue
		}
		// The first field of schedstat is the time on a CPU, in ns.
		st, err := os.ReadFile(filepath.Join("/proc", d.Name(), "schedstat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(st))
		if len(f) == 0 {
			continue
		}
		ns, _ := strconv.ParseInt(f[0], 10, 64)
		out[pid] = time.Duration(ns)
	}
	return out
}
