package telegram

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the Telegram delivery series, registered on the process's one
// registry.
type Metrics struct {
	Sent        *prometheus.CounterVec // by kind
	Failed      *prometheus.CounterVec // by reason: rate_limited, server, refused
	DeadLetters prometheus.Counter
	Latency     prometheus.Histogram // job written → Telegram accepted
}

// NewMetrics registers the series on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ticketero_telegram_sent_total",
			Help: "Messages Telegram accepted, by kind."}, []string{"kind"}),
		Failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ticketero_telegram_failed_total",
			Help: "Send attempts that failed, by reason (rate_limited, server, refused)."}, []string{"reason"}),
		DeadLetters: prometheus.NewCounter(prometheus.CounterOpts{Name: "ticketero_telegram_dead_letters_total",
			Help: "Jobs dead-lettered after their retries or a permanent refusal."}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ticketero_telegram_delivery_seconds",
			Help:    "Job written (event committed) to message accepted by Telegram.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
	}
	if reg != nil {
		reg.MustRegister(m.Sent, m.Failed, m.DeadLetters, m.Latency)
	}
	return m
}
