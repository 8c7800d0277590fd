package queue_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

var (
	allStatuses = []queue.Status{queue.StatusWaiting, queue.StatusCalled, queue.StatusServing,
		queue.StatusDone, queue.StatusNoShow, queue.StatusCancelled, queue.StatusAbandoned, queue.StatusParked}
	allActions = []queue.Action{queue.ActionCall, queue.ActionRecall, queue.ActionStart,
		queue.ActionComplete, queue.ActionNoShow, queue.ActionRequeue, queue.ActionTransfer,
		queue.ActionCancel, queue.ActionAbandon, queue.ActionPark, queue.ActionUnpark}
)

// TestTransition checks every (status, action) pair: the legal ones reach the
// expected state, every other one is a conflict with the stable reason.
func TestTransition(t *testing.T) {
	legal := map[queue.Status]map[queue.Action]queue.Status{
		queue.StatusWaiting: {
			queue.ActionCall: queue.StatusCalled, queue.ActionTransfer: queue.StatusWaiting,
			queue.ActionCancel: queue.StatusCancelled, queue.ActionAbandon: queue.StatusAbandoned,
		},
		queue.StatusCalled: {
			queue.ActionRecall: queue.StatusCalled, queue.ActionStart: queue.StatusServing,
			queue.ActionNoShow: queue.StatusNoShow, queue.ActionRequeue: queue.StatusWaiting,
			queue.ActionTransfer: queue.StatusWaiting, queue.ActionAbandon: queue.StatusAbandoned,
		},
		queue.StatusServing: {
			queue.ActionComplete: queue.StatusDone, queue.ActionTransfer: queue.StatusWaiting,
			queue.ActionAbandon: queue.StatusAbandoned, queue.ActionPark: queue.StatusParked,
		},
		queue.StatusParked: {
			queue.ActionUnpark: queue.StatusCalled, queue.ActionCancel: queue.StatusCancelled,
			queue.ActionAbandon: queue.StatusAbandoned,
		},
	}
	n := 0
	for _, from := range allStatuses {
		for _, a := range allActions {
			t.Run(string(from)+"/"+string(a), func(t *testing.T) {
				got, err := queue.Transition(from, a)
				if want, ok := legal[from][a]; ok {
					require.NoError(t, err)
					assert.Equal(t, want, got)
					n++
					return
				}
				require.Error(t, err)
				assert.Equal(t, queue.CodeConflict, queue.ErrorCode(err))
				assert.Equal(t, "ticket.illegal_transition", queue.ErrorReason(err))
				assert.Empty(t, got)
			})
		}
	}
	assert.Equal(t, 17, n, "legal transitions")
}

func TestTransitionMessageLanguages(t *testing.T) {
	_, err := queue.Transition(queue.StatusDone, queue.ActionCall)
	assert.Equal(t, "No se puede llamar un número en estado atendido.", queue.ErrorMessage(i18n.ES, err))
	assert.Equal(t, "Cannot call a ticket that is done.", queue.ErrorMessage(i18n.EN, err))
}

func TestFinal(t *testing.T) {
	for _, s := range allStatuses {
		_, err := queue.Transition(s, queue.ActionAbandon)
		assert.Equal(t, s.Final(), err != nil, s)
	}
}

func TestDisplayNumber(t *testing.T) {
	assert.Equal(t, "C-023", queue.DisplayNumber("C", 23))
	assert.Equal(t, "G-001", queue.DisplayNumber("G", 1))
	assert.Equal(t, "C-1000", queue.DisplayNumber("C", 1000))
}

func TestParseBranchID(t *testing.T) {
	for _, ok := range []string{"SCL-001", "A", "VAL-12-B"} {
		_, err := queue.ParseBranchID(ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "scl-001", "SCL/001", "SCL+", "SCL#", "SCL 001", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"} {
		_, err := queue.ParseBranchID(bad)
		assert.Equal(t, "branch.invalid", queue.ErrorReason(err), bad)
	}
}

func TestValidExecutiveID(t *testing.T) {
	for _, ok := range []string{"E01", "e", "ana_perez", "EJ-7", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"} {
		assert.True(t, queue.ValidExecutiveID(ok), ok)
	}
	for _, bad := range []string{"", "E 01", "E/01", "E.01", "Ñandú", "E01\n", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"} {
		assert.False(t, queue.ValidExecutiveID(bad), bad)
	}
}

func TestParsePriorityClass(t *testing.T) {
	p, err := queue.ParsePriorityClass("")
	require.NoError(t, err)
	assert.Equal(t, queue.Normal, p)
	p, err = queue.ParsePriorityClass("preferential")
	require.NoError(t, err)
	assert.Equal(t, queue.Preferential, p)
	_, err = queue.ParsePriorityClass("vip")
	assert.Equal(t, "priority.invalid", queue.ErrorReason(err))
}

func TestDefaultServicesValid(t *testing.T) {
	svcs := queue.DefaultServices()
	require.Len(t, svcs, 4)
	for _, s := range svcs {
		assert.NoError(t, s.Validate())
	}
	assert.Equal(t, "G", svcs[3].Code)
	assert.Greater(t, svcs[3].Priority, svcs[0].Priority)
	bad := queue.Service{Code: "cc", Name: "x", TargetWaitS: 1, MeanServiceS: 1}
	assert.Equal(t, "service.invalid_code", queue.ErrorReason(bad.Validate()))
}

func TestErrorCodeOfForeignError(t *testing.T) {
	assert.Equal(t, queue.CodeInternal, queue.ErrorCode(assert.AnError))
	assert.Equal(t, queue.Code(""), queue.ErrorCode(nil))
	assert.Equal(t, "Ocurrió un error interno. Intente nuevamente.", queue.ErrorMessage(i18n.ES, assert.AnError))
}
