package telegram_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/cloud/sns"
	"github.com/ticketero/ticketero/cloud/sns/snstest"
	"github.com/ticketero/ticketero/cloud/telegram"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/seal"
)

// smsEnv adds the SMS channel to env: the cloud's RUT key pair (branches
// seal numbers to it), a fake SNS and the channel's worker.
type smsEnv struct {
	*env
	rut    *seal.RUTKeys
	pub    *[seal.RUTSealKeySize]byte
	fakeSN *snstest.Server
	sms    *telegram.Worker
}

func newSMSEnv(t *testing.T, opt snstest.Options) *smsEnv {
	t.Helper()
	e := newEnv(t, telegramtest.Options{})
	rut, err := seal.NewRUTKeys([]byte("HQ network-wide RUT hash key 32b"))
	require.NoError(t, err)
	pub, err := seal.ParseRUTSealKey(rut.PublicKey())
	require.NoError(t, err)
	e.store.Phones = telegram.PhoneKeys{Keys: e.keys, RUT: rut}
	fk := snstest.New(opt)
	t.Cleanup(fk.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", snstest.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", snstest.SecretKey)
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	client, err := sns.New(context.Background(), sns.Config{Enabled: true, Region: snstest.Region, SenderID: "BancoCL",
		Endpoint: fk.URL, Rate: 20}, nil)
	require.NoError(t, err)
	w := &telegram.Worker{Store: e.store, Channel: notify.ChannelSMS, Keys: e.keys,
		Deliver: &sns.Deliverer{Client: client, Keys: e.keys, Store: e.store},
		Limiter: telegram.NewLimiter(20), Retries: []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond},
		Poll: 10 * time.Millisecond, Pacing: notify.Pacing{Private: 50 * time.Millisecond, Group: time.Second, Lease: time.Minute}}
	return &smsEnv{env: e, rut: rut, pub: pub, fakeSN: fk, sms: w}
}

func (e *smsEnv) issuedPhone(branch, ticket string, number, position int, token, phone string) event.Event {
	e.t.Helper()
	ev := e.issued(branch, ticket, "C", number, position, token, "")
	p, err := ev.Payload()
	require.NoError(e.t, err)
	iss := p.(*event.Issued)
	iss.PhoneSealed, err = seal.SealRUT(e.pub, phone)
	require.NoError(e.t, err)
	out, err := event.New(ev.Seq, ev.ID, ev.Type, ev.At, iss)
	require.NoError(e.t, err)
	return out
}

func (e *smsEnv) near(branch, ticket string, number, position int) event.Event {
	r := ref(ticket, "C", number)
	r.Place = &event.Place{Position: position, TypicalS: 300, UpperS: 420}
	return e.ev(branch, event.TicketNear, event.Near{TicketRef: r, Threshold: 3})
}

func (e *smsEnv) waitSMS(phone string, n int) []string {
	e.t.Helper()
	var got []string
	require.Eventually(e.t, func() bool { got = e.fakeSN.SentTo(phone); return len(got) >= n }, 20*time.Second,
		10*time.Millisecond, "%s: want %d SMS", phone, n)
	return got
}

// TestSMSNumberKeySpelledOtherwise: a number under a key Go decodes as
// phone_sealed in another spelling (upper case, the long s) is used like
// any other, and no spelling of it stays in the events table.
func TestSMSNumberKeySpelledOtherwise(t *testing.T) {
	e := newSMSEnv(t, snstest.Options{})
	run(t, e.sms)
	run(t, e.worker(29))
	const phone = "+56987654322"
	iss := e.issuedPhone("SCL-001", "s9", 9, 6, "tok-s9", phone)
	iss.Data = bytes.Replace(iss.Data, []byte(`"phone_sealed"`), []byte(`"PHONE_ſEALED"`), 1)
	require.Contains(t, string(iss.Data), "PHONE_ſEALED")
	e.feed("SCL-001", iss)
	got := e.waitSMS(phone, 1)
	assert.Contains(t, got[0], "C-009")
	assert.Zero(t, e.count(`SELECT count(*) FROM events, jsonb_object_keys(data) AS k
		WHERE replace(lower(k), 'ſ', 's') = 'phone_sealed'`), "no number in the events table, in any spelling")
}

// TestSMSWithoutTelegram: a customer who gave a number and no Telegram gets
// the three messages by SMS (issued, near, your turn), each one GSM-7 SMS,
// transactional with the bank's sender ID; nothing else goes by SMS; the
// stored events keep no number.
func TestSMSWithoutTelegram(t *testing.T) {
	e := newSMSEnv(t, snstest.Options{})
	run(t, e.sms)
	run(t, e.worker(29))
	const phone = "+56987654321"
	e.feed("SCL-001", e.issuedPhone("SCL-001", "s1", 7, 6, "tok-s1", phone))
	e.feed("SCL-001", e.near("SCL-001", "s1", 7, 3))
	e.feed("SCL-001", e.called("SCL-001", "s1", "C", 7, 2, "Ana María", 0))
	e.feed("SCL-001", e.called("SCL-001", "s1", "C", 7, 2, "Ana María", 1)) // recall: Telegram only
	got := e.waitSMS(phone, 3)
	time.Sleep(200 * time.Millisecond)
	got = e.fakeSN.SentTo(phone)
	require.Len(t, got, 3, "the three messages, and only those")
	assert.Equal(t, "Ticketero: su numero es C-007. Personas antes: 5. Espera estimada: entre 30 y 42 min. Le avisaremos por SMS cuando falte poco.", got[0])
	assert.Equal(t, "Ticketero: su numero C-007 se acerca, quedan 2 personas antes. Vuelva a la sucursal.", got[1])
	assert.Equal(t, "Ticketero: es su turno. Numero C-007, modulo 2, le atiende Ana.", got[2])
	for _, m := range e.fakeSN.Sent() {
		n, ok := sns.Septets(m.Message)
		assert.True(t, ok && n <= sns.MaxSeptets, m.Message)
		assert.Equal(t, "BancoCL", m.SenderID)
		assert.Equal(t, "Transactional", m.SMSType)
	}
	assert.Zero(t, e.count(`SELECT count(*) FROM events WHERE data ? 'phone_sealed'`), "no number in the events table")
	assert.Zero(t, e.fakeSN.Stats().BadSig)
	assert.Zero(t, e.fakeSN.Stats().BadShape)
	var enc []byte
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT chat_enc FROM telegram_chats WHERE kind = 'sms'`).Scan(&enc))
	assert.NotContains(t, string(enc), "987654321", "sealed at rest")
	assert.Empty(t, e.fake.Sent(), "nothing on Telegram")

	// The number goes with the ticket's links (two days), whatever the retention of history.
	e.exec(`UPDATE sms_ticket_phones SET created_at = now() - interval '3 days'`)
	e.exec(`UPDATE telegram_chats SET created_at = now() - interval '3 days' WHERE kind = 'sms'`)
	_, err := e.store.Purge(context.Background(), notify.DefaultRetention)
	require.NoError(t, err)
	assert.Zero(t, e.count(`SELECT count(*) FROM sms_ticket_phones`))
	assert.Zero(t, e.count(`SELECT count(*) FROM telegram_chats WHERE kind = 'sms'`), "the sealed number is gone")
}

// TestTelegramDeadLetterFallsBackToSMS: a linked customer whose Telegram
// messages keep failing gets the message by SMS once the job dead-letters,
// and only once, even when the dead job is buried again.
func TestTelegramDeadLetterFallsBackToSMS(t *testing.T) {
	e := newSMSEnv(t, snstest.Options{})
	e.fake.SetFailRate(1)
	run(t, e.sms)
	run(t, e.worker(29))
	const phone = "+56911112222"
	e.say(2001, "es", "/start tok-f1")
	e.feed("SCL-001", e.issuedPhone("SCL-001", "f1", 3, 2, "tok-f1", phone))
	got := e.waitSMS(phone, 1)
	assert.Contains(t, got[0], "su numero es C-003")
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_jobs WHERE channel = 'telegram' AND kind = 'confirm' AND status = 'dead'`))
	require.Eventually(t, func() bool {
		return e.count(`SELECT count(*) FROM telegram_jobs WHERE channel = 'sms' AND kind = 'confirm' AND status = 'sent'`) == 1
	}, 5*time.Second, 10*time.Millisecond, "the SMS job is marked sent")
	// A replayed bury (a second replica) writes no second SMS job.
	var id int64
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT id FROM telegram_jobs WHERE channel = 'telegram' AND kind = 'confirm'`).Scan(&id))
	e.exec(`UPDATE telegram_jobs SET status = 'sending' WHERE id = $1`, id)
	require.NoError(t, e.store.Bury(context.Background(), id, "again"))
	time.Sleep(300 * time.Millisecond)
	assert.Len(t, e.fakeSN.SentTo(phone), 1)
}

// TestSMSOptOutHonoured: a number that replied STOP gets nothing: the
// recipient is marked, its jobs dropped, and SNS is never asked to publish.
func TestSMSOptOutHonoured(t *testing.T) {
	e := newSMSEnv(t, snstest.Options{})
	const phone = "+56933334444"
	e.fakeSN.OptOut(phone)
	run(t, e.sms)
	e.feed("SCL-001", e.issuedPhone("SCL-001", "o1", 1, 1, "tok-o1", phone))
	require.Eventually(t, func() bool {
		return e.count(`SELECT count(*) FROM telegram_chats WHERE kind = 'sms' AND opted_out_at IS NOT NULL`) == 1
	}, 10*time.Second, 10*time.Millisecond)
	e.feed("SCL-001", e.called("SCL-001", "o1", "C", 1, 1, "Ana", 0))
	time.Sleep(300 * time.Millisecond)
	assert.Empty(t, e.fakeSN.Sent())
	assert.Zero(t, e.count(`SELECT count(*) FROM telegram_jobs WHERE channel = 'sms' AND status IN ('pending', 'sending', 'sent')`))
}

// TestSMSFaultRun: SNS throttles (5/s) and fails 20 % of calls; the SDK's
// retries and the pipeline's deliver every message exactly once.
func TestSMSFaultRun(t *testing.T) {
	e := newSMSEnv(t, snstest.Options{Rate: 5, FailRate: 0.2, Seed: 3})
	e.sms.Limiter = telegram.NewLimiter(8) // above the fake's 5/s: throttling happens
	run(t, e.sms)
	const n = 40
	phones := make([]string, n)
	for i := range n {
		phones[i] = "+5699000" + strings.Repeat("0", 4-len(itoa(i))) + itoa(i)
		e.feed("SCL-002", e.issuedPhone("SCL-002", "x"+itoa(i), i+1, 1, "tok-x"+itoa(i), phones[i]))
	}
	require.Eventually(t, func() bool { return len(e.fakeSN.Sent()) >= n }, 60*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	for _, p := range phones {
		assert.Len(t, e.fakeSN.SentTo(p), 1, p)
	}
	st := e.fakeSN.Stats()
	t.Logf("fake SNS: %+v", st)
	assert.Positive(t, st.Failed, "faults were injected")
	assert.Zero(t, st.BadSig)
	assert.Zero(t, e.count(`SELECT count(*) FROM telegram_jobs WHERE status = 'dead'`))
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestOneSendInFlightPerRecipient: a recipient's next message is not claimed
// while the one before it is still being sent, even once the recipient's
// pacing allows it: parallel workers would otherwise race the two sends (the
// SMS "your turn" arrived before "a few ahead" once in eight loaded runs).
func TestOneSendInFlightPerRecipient(t *testing.T) {
	e := newSMSEnv(t, snstest.Options{})
	const phone = "+56955556666"
	e.feed("SCL-001", e.issuedPhone("SCL-001", "o1", 8, 6, "tok-o1", phone))
	e.feed("SCL-001", e.near("SCL-001", "o1", 8, 3))
	ctx := context.Background()
	p := notify.Pacing{Private: time.Millisecond, Group: time.Millisecond, Lease: time.Minute}
	first, err := e.store.ClaimChannel(ctx, notify.ChannelSMS, 10, p)
	require.NoError(t, err)
	require.Len(t, first, 1)
	assert.Equal(t, "sms.confirm", first[0].Msg.Key)

	e.exec(`UPDATE telegram_chats SET next_send_at = '-infinity' WHERE kind = 'sms'`)
	next, err := e.store.ClaimChannel(ctx, notify.ChannelSMS, 10, p)
	require.NoError(t, err)
	assert.Empty(t, next, "the next message waits for the one being sent")

	require.NoError(t, e.store.MarkSent(ctx, first[0].ID, 0))
	e.exec(`UPDATE telegram_chats SET next_send_at = '-infinity' WHERE kind = 'sms'`)
	next, err = e.store.ClaimChannel(ctx, notify.ChannelSMS, 10, p)
	require.NoError(t, err)
	require.Len(t, next, 1)
	assert.Greater(t, next[0].ID, first[0].ID)
}
