package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// checkInvariant is the sync invariant of cloud/e2e at fleet size, for every
// branch: the cloud holds each of its events once, seqs 1..LastSeq with no
// gap, the agent's ack and the cloud's applied mark both at LastSeq, and
// every ticket in the cloud with the branch's status. It returns what does
// not hold (at most 20 lines), after waiting up to 30 s for the projection.
func checkInvariant(ctx context.Context, pool *pgxpool.Pool, states []branchState) ([]string, error) {
	var bad []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		var err error
		if bad, err = invariantOnce(ctx, pool, states); err != nil || len(bad) == 0 || time.Now().After(deadline) {
			return bad, err
		}
	}
}

func invariantOnce(ctx context.Context, pool *pgxpool.Pool, states []branchState) ([]string, error) {
	type seqs struct{ n, distinct, lo, hi, applied int64 }
	got := map[string]seqs{}
	rows, err := pool.Query(ctx, `SELECT e.branch, count(*), count(DISTINCT e.seq), min(e.seq), max(e.seq), coalesce(max(s.applied_seq), 0)
		FROM events e LEFT JOIN branch_sync s ON s.branch = e.branch GROUP BY e.branch`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var b string
		var s seqs
		if err := rows.Scan(&b, &s.n, &s.distinct, &s.lo, &s.hi, &s.applied); err != nil {
			rows.Close()
			return nil, err
		}
		got[b] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	tickets := map[string]map[string]string{}
	rows, err = pool.Query(ctx, `SELECT branch, id, status FROM tickets`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var b, id, st string
		if err := rows.Scan(&b, &id, &st); err != nil {
			rows.Close()
			return nil, err
		}
		if tickets[b] == nil {
			tickets[b] = map[string]string{}
		}
		tickets[b][id] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var bad []string
	add := func(f string, a ...any) {
		if len(bad) < 20 {
			bad = append(bad, fmt.Sprintf(f, a...))
		}
	}
	for _, st := range states {
		s, want := got[st.ID], int64(st.LastSeq)
		switch {
		case st.LastAck != st.LastSeq:
			add("%s: acked %d of %d", st.ID, st.LastAck, st.LastSeq)
		case s.n != want || s.distinct != want || s.lo != 1 || s.hi != want:
			add("%s: cloud has %d rows (%d distinct, seq %d..%d), the branch %d events", st.ID, s.n, s.distinct, s.lo, s.hi, want)
		case s.applied != want:
			add("%s: cloud applied %d of %d", st.ID, s.applied, want)
		case len(tickets[st.ID]) != len(st.Tickets):
			add("%s: cloud has %d tickets, the branch %d", st.ID, len(tickets[st.ID]), len(st.Tickets))
		default:
			for id, status := range st.Tickets {
				if c := tickets[st.ID][id]; c != status {
					add("%s: ticket %s is %q in the cloud, %q at the branch", st.ID, id, c, status)
					break
				}
			}
		}
	}
	return bad, nil
}
