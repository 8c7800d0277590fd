package booking

import (
	"context"
	"time"

	"github.com/ticketero/ticketero/cloud"
)

// gated bounds the book's calls that hash a RUT: a booking, a move and a
// remote join with a RUT compute seal.CheckInHash, argon2id with 16 MiB of
// memory and ~20 ms of CPU by design (so a stolen branch box's table is
// costly to reverse). Unbounded, a burst of a thousand bookings would ask
// for 16 GB at once; through the gate at most Config.Hashing run together
// and the rest queue (their wait counts against the request's context).
type gated struct {
	cloud.Appointments
	sem chan struct{}
}

func (g gated) enter(ctx context.Context) error {
	select {
	case g.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g gated) leave() { <-g.sem }

func (g gated) Book(ctx context.Context, r cloud.BookRequest) (cloud.Booking, error) {
	if err := g.enter(ctx); err != nil {
		return cloud.Booking{}, err
	}
	defer g.leave()
	return g.Appointments.Book(ctx, r)
}

func (g gated) Reschedule(ctx context.Context, id, code, rut string, start time.Time) (cloud.Booking, error) {
	if err := g.enter(ctx); err != nil {
		return cloud.Booking{}, err
	}
	defer g.leave()
	return g.Appointments.Reschedule(ctx, id, code, rut, start)
}

func (g gated) Cancel(ctx context.Context, id, code, rut string) (cloud.Booking, error) {
	if err := g.enter(ctx); err != nil {
		return cloud.Booking{}, err
	}
	defer g.leave()
	return g.Appointments.Cancel(ctx, id, code, rut)
}

func (g gated) Join(ctx context.Context, r cloud.JoinRequest) (cloud.RemoteJoin, error) {
	if r.RUT == "" {
		return g.Appointments.Join(ctx, r)
	}
	if err := g.enter(ctx); err != nil {
		return cloud.RemoteJoin{}, err
	}
	defer g.leave()
	return g.Appointments.Join(ctx, r)
}
