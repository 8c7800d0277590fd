package event_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

func hoursConfig() event.Config {
	grace := 45
	return event.Config{V: 1, Branch: "SCL-001", Version: 3, TimeZone: "America/Santiago",
		Services: queue.DefaultServices()[:2], Counters: []queue.Counter{}, Executives: []event.ConfigExecutive{},
		Rules: event.DefaultRules(), OpeningHours: "09:00-14:00",
		Hours: event.Hours{
			WeeklyHours:   map[string]string{"sat": "", "sun": "", "fri": "09:00-13:00"},
			Holidays:      []event.Holiday{{Date: "2026-12-08", Name: "Inmaculada Concepción"}, {Date: "2026-12-25", Name: "Navidad"}},
			CloseGraceMin: &grace,
			LastTicket:    map[string]string{"C": "30", "P": "13:00"},
		}}
}

// TestConfigHoursGolden pins the additive schedule fields of the config
// snapshot (flat beside opening_hours) and checks an old snapshot without them
// still decodes and validates.
func TestConfigHoursGolden(t *testing.T) {
	configGolden(t, hoursConfig(), "config_hours.json")

	var old event.Config
	require.NoError(t, json.Unmarshal([]byte(`{"v":1,"branch":"SCL-001","version":1,"time_zone":"America/Santiago","services":[],"counters":[],"executives":[],"rules":{},"opening_hours":"09:00-14:00","published_at":"2026-11-28T13:00:00Z"}`), &old))
	assert.NoError(t, old.Validate())
	assert.Equal(t, event.Hours{}, old.Hours)
	assert.Equal(t, 30, int(old.Hours.Grace().Minutes()), "default grace")
}

func TestConfigHoursValidate(t *testing.T) {
	bad := map[string]func(*event.Config){
		"weekday":       func(c *event.Config) { c.WeeklyHours = map[string]string{"lunes": "09:00-14:00"} },
		"weekly range":  func(c *event.Config) { c.WeeklyHours = map[string]string{"mon": "14:00-09:00"} },
		"holiday date":  func(c *event.Config) { c.Holidays = []event.Holiday{{Date: "2026-02-30"}} },
		"holiday twice": func(c *event.Config) { c.Holidays = append(c.Holidays, event.Holiday{Date: "2026-12-25"}) },
		"holiday name":  func(c *event.Config) { c.Holidays = []event.Holiday{{Date: "2026-12-25", Name: "Navidad\n"}} },
		"grace":         func(c *event.Config) { g := 241; c.CloseGraceMin = &g },
		"negative":      func(c *event.Config) { g := -1; c.CloseGraceMin = &g },
		"cutoff svc":    func(c *event.Config) { c.LastTicket = map[string]string{"X": "30"} },
		"cutoff value":  func(c *event.Config) { c.LastTicket = map[string]string{"C": "9:30"} },
	}
	for name, mut := range bad {
		c := hoursConfig()
		mut(&c)
		assert.Error(t, c.Validate(), name)
	}
	m, at, err := event.ParseCutoff("13:30")
	require.NoError(t, err)
	assert.Equal(t, 13*60+30, m)
	assert.True(t, at)
	m, at, err = event.ParseCutoff("45")
	require.NoError(t, err)
	assert.Equal(t, 45, m)
	assert.False(t, at)
}
