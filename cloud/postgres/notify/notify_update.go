package notify

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// chatUpdate is the store bound to the transaction of one update.
type chatUpdate struct {
	s  *Store
	tx pgx.Tx
}

var _ cloud.ChatUpdate = chatUpdate{}

func (u chatUpdate) UpsertChat(ctx context.Context, hash string, sealed []byte, kind, lang string) (int64, error) {
	return u.s.UpsertChat(ctx, u.tx, hash, sealed, kind, lang)
}

func (u chatUpdate) Reply(ctx context.Context, chatID, updateID int64, m cloud.Text) error {
	return u.s.Reply(ctx, u.tx, chatID, updateID, m)
}

func (u chatUpdate) LinkToken(ctx context.Context, chatID int64, token, newID string) (cloud.ChatTicket, *event.Command, error) {
	return u.s.LinkToken(ctx, u.tx, chatID, token, newID)
}

func (u chatUpdate) ChatTicket(ctx context.Context, chatID int64) (cloud.ChatTicket, error) {
	return u.s.ChatTicket(ctx, u.tx, chatID)
}

func (u chatUpdate) LocateIfOld(ctx context.Context, t cloud.ChatTicket, newID string) (*event.Command, error) {
	return u.s.LocateIfOld(ctx, u.tx, t, newID)
}

func (u chatUpdate) RequestCancel(ctx context.Context, chatID int64, newID string) (cloud.ChatTicket, event.Command, bool, error) {
	return u.s.RequestCancel(ctx, u.tx, chatID, newID)
}

func (u chatUpdate) Remember(ctx context.Context, chatID int64) (bool, error) {
	return u.s.Remember(ctx, u.tx, chatID)
}

func (u chatUpdate) Unlink(ctx context.Context, chatID int64) error {
	return u.s.Unlink(ctx, u.tx, chatID)
}

func (u chatUpdate) AnswerSurvey(ctx context.Context, chatID, id int64, step string, v int) (string, error) {
	return u.s.AnswerSurvey(ctx, u.tx, chatID, id, step, v)
}

func (u chatUpdate) SurveyComment(ctx context.Context, chatID int64, text string) (bool, error) {
	return u.s.SurveyComment(ctx, u.tx, chatID, text)
}

// UsePhones makes the numbers branches send SMS recipients (sets Phones).
func (s *Store) UsePhones(k cloud.PhoneKeys) { s.Phones = k }
