package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

type queueSnapshot struct {
	pos     map[string]int    // waiting ticket → position in its service
	service map[string]string // waiting ticket → service
}

// positions reads the agent's queues: the calling order the branch has now.
func (e *env) positions() queueSnapshot {
	e.t.Helper()
	var body struct {
		Queues []struct {
			Service string `json:"service"`
			Tickets []struct {
				ID       string `json:"id"`
				Position int    `json:"position"`
			} `json:"tickets"`
		} `json:"queues"`
	}
	code, err := e.do("GET", "/api/v1/queues", "", nil, &body)
	require.NoError(e.t, err)
	require.Equal(e.t, 200, code)
	s := queueSnapshot{pos: map[string]int{}, service: map[string]string{}}
	for _, q := range body.Queues {
		for _, tk := range q.Tickets {
			s.pos[tk.ID], s.service[tk.ID] = tk.Position, q.Service
		}
	}
	return s
}

var aheadRe = regexp.MustCompile(`(?:Personas antes que tú: |quedan )(\d+)`)

// thenRe is a confirmation's figure told with its time: the chat linked after
// the branch issued or placed other tickets, which may rank ahead.
var thenRe = regexp.MustCompile(`A las \d\d:\d\d tenías (\d+) personas`)

// TestOneTruth runs a branch day through the real agent, Mosquitto, cloud and
// a fake Bot API, with preferential and premium customers, overdue tickets,
// transfers and requeues, two executives serving overlapping services, and
// every ticket followed on Telegram. At every step, each people-ahead figure
// Telegram sent because of it equals the agent's position − 1 right then
// (confirmation at issue, transfer, pre-notice at every call); every called
// ticket was at position 1 of its service; HQ shows each ticket's printed
// number, also after a transfer (C-004 stays C-004).
func TestOneTruth(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-TRUTH")
	fake := telegramEnv(t, e)

	pin, err := bcrypt.GenerateFromPassword([]byte("240681"), bcrypt.MinCost)
	require.NoError(t, err)
	cfg := event.Config{V: event.Version, Branch: e.branch, Version: 1, TimeZone: "America/Santiago",
		Services: []queue.Service{
			// Caja's 2 s target makes its tickets overdue within the test.
			{Code: "C", Name: "Caja", TargetWaitS: 2, MeanServiceS: 300, Priority: 1},
			{Code: "P", Name: "Personal Banker", TargetWaitS: 3600, MeanServiceS: 900, Priority: 2},
		},
		Counters: []queue.Counter{{Number: 1, Name: "Módulo 1"}, {Number: 2, Name: "Módulo 2"}},
		Executives: []event.ConfigExecutive{
			{Executive: queue.Executive{ID: "E01", Name: "Ana Pérez", Services: []string{"P", "C"}}, PINHash: string(pin)},
			{Executive: queue.Executive{ID: "E02", Name: "Luis Soto", Services: []string{"C"}}, PINHash: string(pin)},
		},
		Rules: event.Rules{PreferentialRatio: 2, RecallLimit: 3, PreNoticeAhead: 2,
			PreNoticeByService: map[string]int{"P": 1}},
		PublishedAt: time.Now().UTC(),
	}
	e.publishConfig(cfg)
	require.Eventually(t, func() bool {
		var body struct {
			Services []struct {
				Code        string `json:"code"`
				TargetWaitS int    `json:"target_wait_s"`
			} `json:"services"`
		}
		_, _ = e.do("GET", "/api/v1/services", "", nil, &body)
		return len(body.Services) == 2 && body.Services[0].TargetWaitS == 2
	}, 30*time.Second, 50*time.Millisecond, "config applied at the branch")

	chats := map[string]int64{}    // ticket → chat
	printed := map[string]string{} // ticket → number as printed
	seen := map[int64]int{}        // chat → messages already checked
	var next int64 = 9600
	issue := func(service string, p queue.PriorityClass) (string, int) {
		t.Helper()
		var tk struct {
			ID       string `json:"id"`
			Number   string `json:"number"`
			Token    string `json:"token"`
			Position int    `json:"position"`
		}
		code, err := e.do("POST", "/api/v1/tickets", "", map[string]string{"service": service, "priority": string(p)}, &tk)
		require.NoError(t, err)
		require.Equal(t, 201, code)
		next++
		chats[tk.ID], printed[tk.ID] = next, tk.Number
		fake.AddUpdate(telegramtest.TextUpdate(next, "es", "/start "+tk.Token))
		return tk.ID, tk.Position
	}
	// settle waits until the branch's events are stored and projected,
	// every /start so far has linked its chat (on a loaded machine the long
	// poll can bring one after the next call: its confirmation would then
	// be checked against the wrong step), and every Telegram message they
	// caused is sent; then it returns the new messages per ticket.
	settle := func() map[string][]string {
		t.Helper()
		s := e.converge(60 * time.Second)
		var applied int64
		var linked, open int
		require.Eventually(t, func() bool {
			require.NoError(t, e.db.QueryRow(context.Background(), `SELECT
				(SELECT coalesce(max(applied_seq), 0) FROM branch_sync WHERE branch = $1),
				(SELECT count(DISTINCT ticket) FROM telegram_ticket_chats WHERE branch = $1),
				(SELECT count(*) FROM telegram_jobs WHERE status IN ('pending', 'sending'))`, e.branch).Scan(&applied, &linked, &open))
			return applied >= int64(s.LastSeq) && linked >= len(chats) && open == 0
		}, 60*time.Second, 20*time.Millisecond, "applied %d of %d, %d of %d chats linked, %d messages to send",
			applied, s.LastSeq, linked, len(chats), open)
		out := map[string][]string{}
		for id, c := range chats {
			msgs := fake.SentTo(c)
			out[id] = msgs[seen[c]:]
			seen[c] = len(msgs)
		}
		return out
	}
	// check: every people-ahead figure sent is the agent's position − 1 now.
	checks := 0
	check := func(step string, msgs map[string][]string, snap queueSnapshot) {
		t.Helper()
		for id, ms := range msgs {
			for _, m := range ms {
				if !strings.Contains(m, printed[id]) {
					continue
				}
				mm := aheadRe.FindStringSubmatch(m)
				if mm == nil {
					continue
				}
				n, _ := strconv.Atoi(mm[1])
				pos, ok := snap.pos[id]
				require.True(t, ok, "%s: %s told %q but is not waiting", step, printed[id], m)
				assert.Equal(t, pos-1, n, "%s: %s told %q, agent position %d", step, printed[id], m, pos)
				checks++
			}
		}
	}

	// Morning: normal, premium and preferential customers in both services.
	classes := []struct {
		svc string
		p   queue.PriorityClass
	}{
		{"C", queue.Normal}, {"C", queue.Normal}, {"P", queue.Normal}, {"C", queue.Premium}, {"C", queue.Normal},
		{"P", queue.Preferential}, {"C", queue.Normal}, {"P", queue.Normal}, {"C", queue.Preferential},
		{"C", queue.Normal}, {"P", queue.Premium}, {"P", queue.Normal}, {"C", queue.Normal}, {"C", queue.Normal},
	}
	quoted := map[string]int{}
	for _, c := range classes {
		id, pos := issue(c.svc, c.p)
		quoted[id] = pos
	}
	msgs := settle()
	for id, pos := range quoted {
		// The confirmation (at issue or at link) quotes the issue's figure;
		// a link after later arrivals tells it with its time ("A las 16:05
		// tenías 2 personas"), the branch then says where it stands now.
		found := false
		for _, m := range msgs[id] {
			mm := aheadRe.FindStringSubmatch(m)
			if mm == nil {
				mm = thenRe.FindStringSubmatch(m)
			}
			if mm != nil {
				assert.Equal(t, strconv.Itoa(pos-1), mm[1], "confirmation of %s: %q", printed[id], m)
				found = true
				checks++
			}
		}
		assert.True(t, found, "%s got its confirmation: %v", printed[id], msgs[id])
	}

	// Caja's tickets are now overdue; a preferential customer arrives in Caja
	// and is next there all the same (overdue never overtakes preferential).
	time.Sleep(2500 * time.Millisecond)
	pref, pos := issue("C", queue.Preferential)
	assert.Equal(t, 2, pos, "behind the preferential customer already waiting, before every overdue ticket")
	check("late preferential", settle(), e.positions())

	tokens := map[string]string{}
	for i, x := range []string{"E01", "E02"} {
		var s struct {
			Token string `json:"token"`
		}
		code, err := e.do("POST", "/api/v1/sessions", "", map[string]any{"executive": x, "pin": "240681", "counter": i + 1}, &s)
		require.NoError(t, err)
		require.Contains(t, []int{200, 201}, code)
		tokens[x] = s.Token
	}
	counter := map[string]int{"E01": 1, "E02": 2}

	var transferred []string
	for step := 0; step < 60; step++ {
		x := []string{"E01", "E02"}[step%2]
		// Read the order just before the call: a ticket transferred into Caja
		// becomes overdue by itself two seconds later.
		before := e.positions()
		var called struct {
			ID     string `json:"id"`
			Number string `json:"number"`
		}
		code, err := e.do("POST", fmt.Sprintf("/api/v1/counters/%d/call-next", counter[x]), tokens[x], nil, &called)
		require.NoError(t, err)
		if code == 204 || called.ID == "" {
			if len(before.pos) == 0 {
				break
			}
			continue
		}
		require.Equal(t, 200, code)
		require.Equal(t, 1, before.pos[called.ID], "step %d: %s called at position 1 of its service", step, called.Number)
		if called.ID == pref {
			pref = ""
		}
		snap := e.positions()
		check(fmt.Sprintf("call %d (%s)", step, called.Number), settle(), snap)

		act := "complete"
		switch {
		case step%7 == 3:
			act = "transfer"
		case step%11 == 5:
			act = "requeue"
		}
		switch act {
		case "transfer":
			to := map[string]string{"C": "P", "P": "C"}[before.service[called.ID]]
			code, err = e.do("POST", "/api/v1/tickets/"+called.ID+"/transfer", tokens[x],
				map[string]any{"service": to, "keep_arrival": true}, nil)
			require.NoError(t, err)
			require.Equal(t, 200, code, "transfer %s", called.Number)
			transferred = append(transferred, called.ID)
		case "requeue":
			code, err = e.do("POST", "/api/v1/tickets/"+called.ID+"/requeue", tokens[x], nil, nil)
			require.NoError(t, err)
			require.Equal(t, 200, code)
		default:
			e.do("POST", "/api/v1/tickets/"+called.ID+"/start", tokens[x], nil, nil)
			code, err = e.do("POST", "/api/v1/tickets/"+called.ID+"/complete", tokens[x], map[string]string{"outcome": "ok"}, nil)
			require.NoError(t, err)
			require.Equal(t, 200, code)
		}
		if step%5 == 2 { // afternoon arrivals in Personal Banker
			issue("P", []queue.PriorityClass{queue.Normal, queue.Premium, queue.Preferential}[step%3])
		}
		after := e.positions()
		check(fmt.Sprintf("%s of %s", act, called.Number), settle(), after)
	}
	assert.Empty(t, pref, "the late preferential customer was served")
	require.NotEmpty(t, transferred)
	assert.Greater(t, checks, 20, "people-ahead figures checked")
	pre := 0
	for _, c := range chats {
		for _, m := range fake.SentTo(c) {
			if strings.Contains(m, "se acerca") {
				pre++
			}
		}
	}
	assert.Positive(t, pre, "pre-notices were sent")

	// A customer links his chat long after the branch's last figure for his
	// ticket (made old here in the cloud's projection): the confirmation says
	// when that figure was true, and the branch, asked over MQTT
	// (ticket.locate), answers with where the ticket stands now.
	for range 3 {
		issue("P", queue.Normal) // people ahead of the late one
	}
	var late struct {
		ID     string `json:"id"`
		Number string `json:"number"`
		Token  string `json:"token"`
	}
	code, err := e.do("POST", "/api/v1/tickets", "", map[string]string{"service": "P"}, &late)
	require.NoError(t, err)
	require.Equal(t, 201, code)
	settle()
	_, err = e.db.Exec(context.Background(), `UPDATE tickets SET place_at = place_at - interval '10 minutes' WHERE id = $1`, late.ID)
	require.NoError(t, err)
	chats[late.ID], printed[late.ID] = 9599, late.Number
	fake.AddUpdate(telegramtest.TextUpdate(9599, "es", "/start "+late.Token))
	got := waitTexts(t, fake, 9599, 3)
	snap := e.positions()
	assert.True(t, slicesContainsPrefix(got, "Tu número es "+late.Number+". A las "), got)
	want := fmt.Sprintf("Número %s ahora: personas antes que tú: %d.", late.Number, snap.pos[late.ID]-1)
	assert.True(t, slicesContainsPrefix(got, want), "%q in %v", want, got)

	// HQ: every ticket under its printed number, also the transferred ones.
	tok, err := exec.Command(cloudBin, "token", "create", "--db", e.dbURL, "--name", "truth", "--role", "viewer").Output()
	require.NoError(t, err)
	req, err := http.NewRequest("GET", "http://"+e.cloudAddr+"/hq/v1/branches/"+e.branch, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var view struct {
		Tickets []struct {
			ID      string `json:"id"`
			Display string `json:"display"`
			Service string `json:"service"`
		} `json:"tickets"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&view))
	displays := map[string]string{}
	count := map[string]int{}
	for _, tk := range view.Tickets {
		displays[tk.ID] = tk.Display
		count[tk.Display]++
	}
	for id, p := range printed {
		assert.Equal(t, p, displays[id], "HQ shows ticket %s as printed", id)
	}
	for d, n := range count {
		assert.Equal(t, 1, n, "%s shown once", d)
	}
	moved := 0
	for _, tk := range view.Tickets {
		if slicesContains(transferred, tk.ID) && tk.Service != tk.Display[:1] {
			moved++
		}
	}
	assert.Positive(t, moved, "a ticket shown under its printed number in another service")
	t.Logf("%d people-ahead figures checked, %d pre-notices, %d transfers", checks, pre, len(transferred))
}

func slicesContainsPrefix(s []string, prefix string) bool {
	for _, x := range s {
		if strings.HasPrefix(x, prefix) {
			return true
		}
	}
	return false
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
