package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// opsToken lets the fleet read its replicas' /metrics.
const opsToken = "fleet-ops-token-not-a-secret" // #nosec G101 -- the simulator's own local replicas, not a secret

// Stage is one stage's timing over the run, in milliseconds: from a cloud
// histogram (quantiles read off its buckets: an upper bound within a bucket)
// or from the bridge's own samples.
type Stage struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
}

// stagePrefixes are the cloud histograms the report keeps: where a batch
// waits between the queue and the commit.
var stagePrefixes = []string{"ticketero_cloud_sqs_", "ticketero_cloud_ingest_seconds", "ticketero_cloud_event_lag_seconds"}

// cloudStages reads the replicas' histograms and sums them by name.
func cloudStages(ctx context.Context, addrs []string) (map[string]Stage, error) {
	type acc struct {
		count  uint64
		sum    float64
		bounds []float64
		cum    []uint64
	}
	all := map[string]*acc{}
	for _, addr := range addrs {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+opsToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(res.Body)
		_ = res.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("metrics of %s: %w", addr, err)
		}
		for name, f := range fams {
			if f.GetType() != dto.MetricType_HISTOGRAM || !slices.ContainsFunc(stagePrefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
				continue
			}
			for _, m := range f.GetMetric() {
				h := m.GetHistogram()
				a := all[name]
				if a == nil {
					a = &acc{}
					for _, b := range h.GetBucket() {
						a.bounds = append(a.bounds, b.GetUpperBound())
					}
					a.cum = make([]uint64, len(a.bounds))
					all[name] = a
				}
				a.count += h.GetSampleCount()
				a.sum += h.GetSampleSum()
				for i, b := range h.GetBucket() {
					if i < len(a.cum) {
						a.cum[i] += b.GetCumulativeCount()
					}
				}
			}
		}
	}
	out := map[string]Stage{}
	for name, a := range all {
		if a.count == 0 {
			continue
		}
		q := func(p float64) float64 {
			rank := uint64(math.Ceil(p * float64(a.count)))
			for i, c := range a.cum {
				if c >= rank {
					return a.bounds[i] * 1000
				}
			}
			return math.Inf(1)
		}
		st := Stage{Count: a.count, Mean: a.sum / float64(a.count) * 1000, P50: q(0.5), P99: q(0.99)}
		if math.IsInf(st.P99, 1) {
			st.P99 = -1 // beyond the last bucket
		}
		out[strings.TrimPrefix(name, "ticketero_cloud_")] = st
	}
	return out, nil
}

// samples collects durations (the bridge's own stage).
type samples struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *samples) add(d time.Duration) {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
}

func (s *samples) stage() Stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.d) == 0 {
		return Stage{}
	}
	d := slices.Clone(s.d)
	slices.Sort(d)
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	return Stage{Count: uint64(len(d)), Mean: ms(sum / time.Duration(len(d))), P50: ms(d[len(d)/2]), P99: ms(d[min(len(d)-1, len(d)*99/100)])}
}
