package browsertest

import (
	"testing"
	"time"

	cd "github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

// TestCounterActions drives the executive's counter actions in the real
// terminal against the real agent, at 1280×800: the customer in front of him
// (masked RUT, preferential, today's history), park and call back, a
// transfer to a named executive undone inside its undo window and then sent,
// and HQ's outcome codes at "Finalizar".
func TestCounterActions(t *testing.T) {
	data := t.TempDir()
	// The branch runs an HQ configuration with outcome codes (what the cloud
	// publishes), applied to its database before the agent starts.
	var counters []queue.Counter
	for i := 1; i <= 6; i++ {
		counters = append(counters, queue.Counter{Number: i})
	}
	seedAgent(t, data, event.Config{V: event.Version, Branch: "SCL-001", Version: 1, TimeZone: "America/Santiago",
		Services: queue.DefaultServices(), Counters: counters, Rules: event.DefaultRules(),
		Outcomes: []queue.Outcome{{Code: "deposit", Name: "Depósito"}, {Code: "card.new", Name: "Tarjeta nueva"}, {Code: "info", Name: "Información"}}})
	agentCLI(t, "executive", "add", "--data", data, "--id", "E01", "--name", "Ana Pérez", "--pin", "240681", "--services", "C,P")
	agentCLI(t, "executive", "add", "--data", data, "--id", "E02", "--name", "Beto Soto", "--pin", "531962", "--services", "E")
	ag := startAgent(t, data, "127.0.0.1:0")
	base := ag.URL()

	type tk struct {
		ID              string   `json:"id"`
		Number          string   `json:"number"`
		Status          string   `json:"status"`
		Service         string   `json:"service"`
		Counter         *int     `json:"counter"`
		TargetExecutive string   `json:"target_executive"`
		Outcomes        []string `json:"outcomes"`
	}
	issue := func(body map[string]string) tk {
		var x tk
		call(t, ag, "POST", "/tickets", "", body, &x)
		return x
	}
	first := issue(map[string]string{"service": "P", "rut": "12.345.678-5", "priority": "preferential"})
	second := issue(map[string]string{"service": "P"})
	ticket := func(id string) tk {
		var x tk
		call(t, ag, "GET", "/tickets/"+id, "", nil, &x)
		return x
	}
	// Beto is at counter 2, serving Empresas.
	var beto struct {
		Token string `json:"token"`
	}
	call(t, ag, "POST", "/sessions", "", map[string]any{"executive": "E02", "pin": "531962", "counter": 2}, &beto)

	browser := newBrowser(t)
	var jsErr jsErrors
	jsErr.watch(browser, "terminal")
	defer func() { assert.Empty(t, jsErr.all(), "JavaScript errors in the terminal") }()
	term := browser

	do(t, term, "sign in at counter 1",
		cd.EmulateViewport(1280, 800),
		cd.Navigate(base+"/terminal?undo_s=3"),
		cd.WaitReady(cd.CSS(`#si-counter option[value="1"]`)),
		cd.SendKeys(cd.ID("si-executive"), "e01"),
		cd.SendKeys(cd.ID("si-pin"), "240681"),
		cd.SetValue(cd.ID("si-counter"), "1"),
		chrometest.Click(cd.ID("si-submit")),
		until(`document.body.dataset.signedIn === 'true'`, 10*time.Second),
		cd.WaitReady(cd.CSS(`#my-queues li[data-number="`+first.Number+`"]`)),
	)

	// The customer in front of her: masked RUT, preferential, history.
	do(t, term, "call and see the customer",
		chrometest.Click(cd.ID("act-call")),
		until(`document.body.dataset.current === '`+first.Number+`'`, 10*time.Second),
		until(`!document.getElementById('customer').hidden && document.getElementById('cust-rut').textContent === '12.***.***-5'`, 10*time.Second),
		chrometest.Click(cd.ID("act-start")),
		until(`document.body.dataset.currentStatus === 'serving'`, 10*time.Second),
		until(`document.querySelectorAll('#cust-history li').length === 3`, 10*time.Second),
		shot(t, "counter-customer-1280x800"),
	)
	assert.Equal(t, "preferencial", get(t, term, cd.Text(cd.ID("cust-priority"))))
	assert.Equal(t, []string{"ticket.issued", "ticket.called", "ticket.started"},
		get(t, term, cd.Evaluate[[]string](`[...document.querySelectorAll('#cust-history li')].map(li => li.dataset.type)`)))
	checkA11y(t, term, "terminal with a customer")

	// Park: she is free for the next customer; the visit waits with her.
	do(t, term, "park",
		chrometest.Click(cd.ID("act-park")),
		until(`document.body.dataset.current === undefined && document.querySelector('#parked-list li[data-number="`+first.Number+`"]')`, 10*time.Second),
		shot(t, "counter-parked-1280x800"),
	)
	assert.Equal(t, "parked", ticket(first.ID).Status)

	// The next one, transferred to Beto by name first in line: undone, then sent.
	do(t, term, "next and open the transfer",
		chrometest.Click(cd.ID("act-call")),
		until(`document.body.dataset.current === '`+second.Number+`'`, 10*time.Second),
		chrometest.Click(cd.ID("act-start")),
		until(`document.body.dataset.currentStatus === 'serving'`, 10*time.Second),
	)
	transfer := func() {
		do(t, term, "transfer to Beto",
			chrometest.Click(cd.ID("act-transfer")),
			until(`document.getElementById('dlg-transfer').open && document.querySelector('#transfer-executive option[value="E02"]')`, 10*time.Second),
			chrometest.Click(cd.ID("tk-executive")),
			cd.SetValue(cd.ID("transfer-executive"), "E02"),
			chrometest.Click(cd.ID("transfer-first")),
			chrometest.Click(cd.ID("transfer-confirm")),
			until(`document.body.dataset.pending === 'transfer'`, 5*time.Second),
		)
	}
	transfer()
	assert.Contains(t, get(t, term, cd.Text(cd.ID("undo-text"))), second.Number+" se derivará a Beto Soto")
	do(t, term, "the undo bar", shot(t, "counter-transfer-undo-1280x800"), chrometest.Click(cd.ID("undo-btn")),
		until(`document.body.dataset.pending === undefined`, 5*time.Second))
	assert.Contains(t, get(t, term, cd.Text(cd.ID("term-info"))), "Acción deshecha")
	time.Sleep(3500 * time.Millisecond) // past the window: nothing was sent
	got := ticket(second.ID)
	assert.Equal(t, "serving", got.Status, "an undone transfer never reaches the branch")

	transfer()
	do(t, term, "the transfer goes after its window",
		until(`document.body.dataset.pending === undefined`, 10*time.Second),
		until(`document.getElementById('term-info').textContent.includes('derivado a Beto Soto')`, 10*time.Second),
		until(`document.body.dataset.current === undefined`, 10*time.Second),
		shot(t, "counter-transferred-1280x800"),
	)
	assert.Equal(t, second.Number+" derivado a Beto Soto · Módulo 2", get(t, term, cd.Text(cd.ID("term-info"))))
	got = ticket(second.ID)
	assert.Equal(t, "waiting", got.Status)
	assert.Equal(t, "E02", got.TargetExecutive)
	var called tk
	call(t, ag, "POST", "/counters/2/call-next", beto.Token, nil, &called)
	assert.Equal(t, second.ID, called.ID, "Beto calls it although Personal Banker is not his service")

	// Call the parked visit back and finish it with HQ's outcome codes.
	do(t, term, "call back and finish",
		until(`!document.querySelector('#parked-list li[data-number="`+first.Number+`"] .unpark').disabled`, 10*time.Second),
		chrometest.Click(cd.CSS(`#parked-list li[data-number="`+first.Number+`"] .unpark`)),
		until(`document.body.dataset.current === '`+first.Number+`' && document.body.dataset.currentStatus === 'called'`, 10*time.Second),
		chrometest.Click(cd.ID("act-start")),
		until(`document.body.dataset.currentStatus === 'serving'`, 10*time.Second),
		chrometest.Click(cd.ID("act-complete")),
		until(`document.getElementById('dlg-complete').open && document.querySelectorAll('#outcomes-list input').length === 3`, 5*time.Second),
		chrometest.Click(cd.CSS(`#outcomes-list input[value="deposit"]`)),
		chrometest.Click(cd.CSS(`#outcomes-list input[value="card.new"]`)),
		shot(t, "counter-finalizar-1280x800"),
		chrometest.Click(cd.ID("complete-confirm")),
		until(`document.body.dataset.current === undefined && document.getElementById('parked-box').hidden`, 10*time.Second),
	)
	done := ticket(first.ID)
	assert.Equal(t, "done", done.Status)
	assert.Equal(t, []string{"deposit", "card.new"}, done.Outcomes)

	// A specific waiting ticket out of order, with a reason; then a walk-in.
	older := issue(map[string]string{"service": "C"})
	chosen := issue(map[string]string{"service": "C"})
	do(t, term, "call out of order",
		cd.WaitReady(cd.CSS(`#my-queues li[data-number="`+chosen.Number+`"] .call-this`)),
		until(`!document.querySelector('#my-queues li[data-number="`+chosen.Number+`"] .call-this').disabled`, 10*time.Second),
		chrometest.Click(cd.CSS(`#my-queues li[data-number="`+chosen.Number+`"] .call-this`)),
		until(`document.getElementById('dlg-call').open`, 5*time.Second),
		cd.SendKeys(cd.ID("call-reason"), "cliente con hora agendada"),
		chrometest.Click(cd.ID("call-confirm")),
		until(`document.body.dataset.current === '`+chosen.Number+`'`, 10*time.Second),
		until(`[...document.querySelectorAll('#cust-history li')].some(li => li.textContent.includes('cliente con hora agendada'))`, 10*time.Second),
		chrometest.Click(cd.ID("act-start")),
		until(`document.body.dataset.currentStatus === 'serving'`, 10*time.Second),
		chrometest.Click(cd.ID("act-complete")),
		until(`document.getElementById('dlg-complete').open`, 5*time.Second),
		chrometest.Click(cd.ID("complete-confirm")),
		until(`document.body.dataset.current === undefined`, 10*time.Second),
	)
	assert.Equal(t, "waiting", ticket(older.ID).Status, "the skipped ticket still waits")
	do(t, term, "walk-in",
		until(`!document.getElementById('act-walkin').disabled`, 10*time.Second),
		chrometest.Click(cd.ID("act-walkin")),
		until(`document.getElementById('dlg-walkin').open`, 5*time.Second),
		cd.SetValue(cd.ID("walkin-service"), "C"),
		cd.SetValue(cd.ID("walkin-priority"), "premium"),
		cd.SendKeys(cd.ID("walkin-rut"), "12.345.678-5"),
		cd.SendKeys(cd.ID("walkin-name"), "Rosa Díaz"),
		shot(t, "counter-walkin-1280x800"),
		chrometest.Click(cd.ID("walkin-confirm")),
		until(`document.body.dataset.currentStatus === 'serving' && document.getElementById('cust-name').textContent === 'Rosa Díaz'`, 10*time.Second),
	)
	assert.Equal(t, "12.***.***-5", get(t, term, cd.Text(cd.ID("cust-rut"))))
	assert.Equal(t, "premium", get(t, term, cd.Text(cd.ID("cust-priority"))))
}
