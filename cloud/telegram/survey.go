package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/shared/i18n"
)

// Button is an inline keyboard button whose tap comes back as a
// callback_query carrying Data (≤ 64 bytes).
type Button struct {
	Text string `json:"text"`
	Data string `json:"callback_data"`
}

// surveyPrefix starts the callback data of the survey's buttons:
// "fb:<survey>:<step>:<value>".
const surveyPrefix = "fb:"

// SurveyButtons are the answers of a survey step: 1–5 in one row for
// satisfaction, 0–10 in two rows for would-recommend.
func SurveyButtons(st notify.SurveyStep) [][]Button {
	lo, hi, split := 1, 5, 6
	if st.Step == notify.StepNPS {
		lo, hi, split = 0, 10, 6
	}
	var rows [][]Button
	var row []Button
	for v := lo; v <= hi; v++ {
		if v == split {
			rows, row = append(rows, row), nil
		}
		row = append(row, Button{Text: strconv.Itoa(v), Data: fmt.Sprintf("%s%d:%s:%d", surveyPrefix, st.ID, st.Step, v)})
	}
	return append(rows, row)
}

// parseSurveyData reads a survey button's callback data.
func parseSurveyData(data string) (id int64, step string, v int, ok bool) {
	rest, found := strings.CutPrefix(data, surveyPrefix)
	if !found {
		return 0, "", 0, false
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 {
		return 0, "", 0, false
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	v, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || (parts[1] != notify.StepCSAT && parts[1] != notify.StepNPS) {
		return 0, "", 0, false
	}
	return id, parts[1], v, true
}

// CallbackAnswerer acknowledges a button tap (answerCallbackQuery), so the
// customer's app stops its spinner and shows a short note.
type CallbackAnswerer interface {
	AnswerCallbackQuery(ctx context.Context, id, text string) error
}

// handleCallback records a survey answer from a button tap, once (the
// update's transaction), and asks the next question: would-recommend after
// satisfaction, the optional comment after that.
func (b *Bot) handleCallback(ctx context.Context, u Update) error {
	cq := u.CallbackQuery
	note := ""
	_, err := b.Store.HandleUpdate(ctx, u.UpdateID, func(tx pgx.Tx) error {
		if cq.Message == nil || cq.Message.Chat.Type != "private" || cq.Message.Chat.ID == 0 {
			return nil
		}
		id, step, v, ok := parseSurveyData(cq.Data)
		if !ok {
			note = "feedback.invalid"
			return nil
		}
		lang := "es"
		if strings.HasPrefix(strings.ToLower(cq.From.LanguageCode), "en") {
			lang = "en"
		}
		sealed, err := b.Keys.SealChat(cq.Message.Chat.ID)
		if err != nil {
			return err
		}
		chat, err := b.Store.UpsertChat(ctx, tx, b.Keys.ChatHash(cq.Message.Chat.ID), sealed, "private", lang)
		if err != nil {
			return err
		}
		branch, err := b.Store.AnswerSurvey(ctx, tx, chat, id, step, v)
		switch {
		case errors.Is(err, notify.ErrSurveyAnswered):
			note = "feedback.already"
			return nil
		case errors.Is(err, notify.ErrSurveyExpired):
			note = "feedback.expired"
			return b.Store.Reply(ctx, tx, chat, u.UpdateID, notify.Msg{Key: "feedback.expired"})
		case errors.Is(err, notify.ErrSurveyNotFound):
			note = "feedback.invalid"
			return nil
		case err != nil:
			return err
		}
		note = "feedback.recorded"
		b.log().Info("survey answered", "branch", branch, "survey", id, "step", step)
		if step == notify.StepCSAT {
			return b.Store.Reply(ctx, tx, chat, u.UpdateID, notify.Msg{Key: "feedback.ask_nps",
				Survey: &notify.SurveyStep{ID: id, Step: notify.StepNPS}})
		}
		return b.Store.Reply(ctx, tx, chat, u.UpdateID, notify.Msg{Key: "feedback.ask_comment"})
	})
	if err != nil {
		return err
	}
	if b.Callbacks != nil && cq.ID != "" {
		lang := "es"
		if strings.HasPrefix(strings.ToLower(cq.From.LanguageCode), "en") {
			lang = "en"
		}
		text := ""
		if note != "" {
			text = notify.Msg{Key: note}.Render(i18n.Lang(lang))
		}
		if err := b.Callbacks.AnswerCallbackQuery(ctx, cq.ID, text); err != nil {
			b.log().Warn("answerCallbackQuery failed", "err", err)
		}
	}
	return nil
}
