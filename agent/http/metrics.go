package http

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics registers the agent's metrics: tickets issued and called by
// service, waiting by service, outbox backlog and request latency.
func (s *Server) metrics() error {
	s.issued = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ticketero_agent_tickets_issued_total",
		Help: "Tickets issued, by service."}, []string{"service"})
	s.called = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ticketero_agent_tickets_called_total",
		Help: "Tickets called to a counter, by service."}, []string{"service"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ticketero_agent_http_request_duration_seconds",
		Help:    "LAN API request latency.",
		Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"method", "route", "status"})
	s.limited = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ticketero_agent_http_rate_limited_total",
		Help: "LAN API requests refused with 429 by the per-address rate limit, by route class."}, []string{"class"})
	for _, c := range []prometheus.Collector{s.issued, s.called, s.latency, s.limited, &stateCollector{s: s}} {
		if err := s.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

var (
	waitingDesc = prometheus.NewDesc("ticketero_agent_waiting", "Tickets waiting now, by service.", []string{"service"}, nil)
	backlogDesc = prometheus.NewDesc("ticketero_agent_outbox_backlog", "Outbox events not yet acknowledged by the cloud.", nil, nil)
	lastSeqDesc = prometheus.NewDesc("ticketero_agent_outbox_last_seq", "Last outbox seq written.", nil, nil)
	streamsDesc = prometheus.NewDesc("ticketero_agent_stream_clients", "Live stream subscribers.", nil, nil)
	resendsDesc = prometheus.NewDesc("ticketero_agent_relay_resends_total",
		"Sync relay resends by reason: ack_timeout (one batch, a probe), gap and idle (a rewind to the last ack).",
		[]string{"reason"}, nil)
)

// stateCollector reads the queue's state at scrape time.
type stateCollector struct{ s *Server }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- waitingDesc
	ch <- backlogDesc
	ch <- lastSeqDesc
	ch <- streamsDesc
	ch <- resendsDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx := context.Background()
	for _, sv := range c.s.cfg.Store.Services(ctx) {
		ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(sv.Waiting), sv.Code)
	}
	if st, err := c.s.cfg.Store.SyncState(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(st.Backlog()))
		ch <- prometheus.MustNewConstMetric(lastSeqDesc, prometheus.CounterValue, float64(st.LastSeq))
	}
	ch <- prometheus.MustNewConstMetric(streamsDesc, prometheus.GaugeValue, float64(c.s.cfg.Store.Broker().Subscribers()))
	if c.s.cfg.Link != nil {
		for reason, n := range c.s.cfg.Link.State().Resends {
			ch <- prometheus.MustNewConstMetric(resendsDesc, prometheus.CounterValue, float64(n), reason)
		}
	}
}
