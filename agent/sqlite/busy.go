package sqlite

import (
	"context"
	"fmt"

	"github.com/ticketero/ticketero/shared/queue"
)

// Busy says why the branch should not be disturbed by an agent update now
// ("" when it may): it is open by its hours, or tickets of today are still
// open (customers waiting or being served, also after closing time or in a
// branch without hours).
func (s *Store) Busy(context.Context) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.cfg.Now().In(s.eng.Location())
	if sched := s.eng.Schedule(); sched != nil && sched.CheckIssue(queue.Service{}, now) == nil {
		return "the branch is open (hours today " + sched.Today(now) + ")"
	}
	if n := len(s.eng.Open()); n > 0 {
		return fmt.Sprintf("%d tickets still open", n)
	}
	return ""
}
