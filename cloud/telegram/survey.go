package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ticketero/ticketero/cloud"
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
func SurveyButtons(st cloud.SurveyStep) [][]Button {
	lo, hi, split := 1, 5, 6
	if st.Step == cloud.StepNPS {
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
	if err1 != nil || err2 != nil || (parts[1] != cloud.StepCSAT && parts[1] != cloud.StepNPS) {
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
	_, err := b.Store.HandleUpdate(ctx, u.UpdateID, func(tx cloud.ChatUpdate) error {
		if cq.Message == nil || cq.Message.Chat.Type != "private" || cq.Message.Chat.ID == 0 {
			return nil
		}
		id, step, v, ok := parseSurveyData(cq.Data)
		appt := isApptData(cq.Data)
		if !ok && !appt {
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
		chat, err := tx.UpsertChat(ctx, b.Keys.ChatHash(cq.Message.Chat.ID), sealed, "private", lang)
		if err != nil {
			return err
		}
		if appt { // the appointments' buttons (appt.go)
			note, err = apptCtx{b: b, tx: tx, chat: chat, update: u.UpdateID, lang: i18n.Lang(lang)}.callback(ctx, cq.Data)
			return err
		}
		branch, err := tx.AnswerSurvey(ctx, chat, id, step, v)
		switch {
		case errors.Is(err, cloud.ErrSurveyAnswered):
			note = "feedback.already"
			return nil
		case errors.Is(err, cloud.ErrSurveyExpired):
			note = "feedback.expired"
			return tx.Reply(ctx, chat, u.UpdateID, cloud.Text{Key: "feedback.expired"})
		case errors.Is(err, cloud.ErrSurveyNotFound):
			note = "feedback.invalid"
			return nil
		case err != nil:
			return err
		}
		note = "feedback.recorded"
		b.log().Info("survey answered", "branch", branch, "survey", id, "step", step)
		if step == cloud.StepCSAT {
			return tx.Reply(ctx, chat, u.UpdateID, cloud.Text{Key: "feedback.ask_nps",
				Survey: &cloud.SurveyStep{ID: id, Step: cloud.StepNPS}})
		}
		return tx.Reply(ctx, chat, u.UpdateID, cloud.Text{Key: "feedback.ask_comment"})
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
			text = cloud.Text{Key: note}.Render(i18n.Lang(lang))
		}
		if err := b.Callbacks.AnswerCallbackQuery(ctx, cq.ID, text); err != nil {
			b.log().Warn("answerCallbackQuery failed", "err", err)
		}
	}
	return nil
}
