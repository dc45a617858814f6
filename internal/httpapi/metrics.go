package httpapi

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inflight prometheus.Gauge
	auditErr prometheus.Counter
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlportal_http_requests_total", Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mlportal_http_request_duration_seconds", Help: "HTTP request latency by method, route template and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mlportal_http_requests_in_flight", Help: "HTTP requests being served.",
		}),
		auditErr: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mlportal_audit_write_errors_total", Help: "Audit events that could not be stored.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.inflight, m.auditErr)
	return m
}

func (m *metrics) observe(method, route string, status int, seconds float64) {
	st := strconv.Itoa(status)
	m.requests.WithLabelValues(method, route, st).Inc()
	m.latency.WithLabelValues(method, route, st).Observe(seconds)
}
