package telegram_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/sns/snstest"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
)

// TestDeliveryFaultRun measures delivery across both channels of the one
// pipeline under faults: N customers on Telegram and N by SMS each get their
// confirmation while the fake Bot API fails 15 % of calls (and rate-limits
// at 30/s per bot, 1/s per chat) and the fake SNS fails 15 % and throttles
// at 20/s; a tenth of the Telegram customers also gave a number and blocked
// the bot (403 for every call), so their message must
// fall back to SMS. Retry delays are scaled down (50, 100, 200 ms for 30,
// 60, 120 s). It reports delivered/expected and duplicates; a measurement,
// run with TICKETERO_BENCH=1 (N=300 by default, TICKETERO_BENCH_N).
func TestDeliveryFaultRun(t *testing.T) {
	if os.Getenv("TICKETERO_BENCH") == "" {
		t.Skip("measurement: set TICKETERO_BENCH=1")
	}
	n := 300
	if v, err := strconv.Atoi(os.Getenv("TICKETERO_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	e := newSMSEnv(t, snstest.Options{Rate: 20, FailRate: 0.15, Seed: 7})
	e.fake.Close()
	e.fake = telegramtest.New(testToken, telegramtest.Options{FailRate: 0.15, Seed: 9, ChatGap: 100 * time.Millisecond})
	t.Cleanup(e.fake.Close)
	tw := e.worker(29)
	tw.Retries = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
	e.sms.Retries = tw.Retries
	run(t, tw)
	run(t, e.sms)
	start := time.Now()
	dead := n / 10
	for i := range n {
		chat := int64(50000 + i)
		if i < dead {
			e.fake.Block(chat) // refused for good: 403, the job dead-letters at once
		}
		tok := fmt.Sprintf("tg%d", i)
		e.say(chat, "es", "/start "+tok)
		if i < dead {
			e.feed("B-TG", e.issuedPhone("B-TG", "tg"+strconv.Itoa(i), i+1, 1, tok, fmt.Sprintf("+5698%07d", i)))
		} else {
			e.feed("B-TG", e.issued("B-TG", "tg"+strconv.Itoa(i), "C", i+1, 1, tok, ""))
		}
		e.feed("B-SMS", e.issuedPhone("B-SMS", "s"+strconv.Itoa(i), i+1, 1, "s"+tok, fmt.Sprintf("+5699%07d", i)))
	}
	ingested := time.Since(start)
	want := 2 * n
	delivered := func() (tg, sms, dups int) {
		seen := map[string]int{}
		for _, s := range e.fake.Sent() {
			if contains([]string{s.Text}, "Tu número es") {
				seen[strconv.FormatInt(s.ChatID, 10)]++
			}
		}
		for _, s := range e.fakeSN.Sent() {
			if contains([]string{s.Message}, "su numero es") {
				seen[s.Phone]++
			}
		}
		for k, c := range seen {
			if c > 1 {
				dups += c - 1
			}
			if k[0] == '+' {
				sms++
			} else {
				tg++
			}
		}
		return
	}
	require.Eventually(t, func() bool { tg, sms, _ := delivered(); return tg+sms >= want }, 5*time.Minute, 100*time.Millisecond)
	took := time.Since(start)
	time.Sleep(time.Second)
	tg, sms, dups := delivered()
	counts := map[string]int{}
	for k, v := range e.jobCounts() {
		counts[k] = v
	}
	ts, ss := e.fake.Stats(), e.fakeSN.Stats()
	t.Logf("delivery fault run: %d customers (%d Telegram, %d SMS, %d Telegram→SMS fallbacks): delivered %d/%d (%.2f %%), duplicates %d; "+
		"ingest %s, all delivered in %s; Bot API: %d calls, %d failed, %d 429; SNS: %d calls, %d failed, %d throttled, %d bad signatures; jobs %v",
		want, n, n, dead, tg+sms, want, float64(tg+sms)*100/float64(want), dups, ingested.Round(time.Millisecond), took.Round(time.Millisecond),
		ts.Requests, ts.Failed, ts.TooMany, ss.Requests, ss.Failed, ss.Throttled, ss.BadSig, counts)
	assert.Equal(t, want, tg+sms)
	assert.Zero(t, dups)
	assert.Zero(t, ss.BadSig)
}
