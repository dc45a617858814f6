package cost_test

import (
	"math"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/cost"
	"github.com/mlportal/mlportal/internal/jobs"
)

var prices = cost.Prices{Currency: "USD", GPU: map[string]cost.PoolPrices{
	"a100":    {OnDemand: 3.2, Spot: 1.1},
	"h100":    {OnDemand: 6},
	"default": {OnDemand: 1, Spot: 0.5},
}}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestGPUHour(t *testing.T) {
	for _, tt := range []struct {
		gpuType, pool string
		want          float64
	}{
		{"a100", "on-demand", 3.2},
		{"a100", "spot", 1.1},
		{"a100", "", 3.2},     // unknown pool: on demand
		{"h100", "spot", 6},   // no spot price: on demand
		{"t4", "spot", 0.5},   // unlisted type: default
		{"t4", "reserved", 1}, // unlisted pool: on demand
	} {
		if got := prices.GPUHour(tt.gpuType, tt.pool); !near(got, tt.want) {
			t.Errorf("GPUHour(%s, %s) = %v, want %v", tt.gpuType, tt.pool, got, tt.want)
		}
	}
	if got := (cost.Prices{}).GPUHour("a100", "spot"); got != 0 {
		t.Errorf("no prices: %v", got)
	}
}

func TestAttemptCost(t *testing.T) {
	withCPU := prices
	withCPU.CPUCoreHour, withCPU.MemoryGiBHour = 0.05, 0.01
	for _, tt := range []struct {
		name   string
		prices cost.Prices
		job    jobs.Job
		d      time.Duration
		want   float64
	}{
		{"2 GPUs for 90 minutes on demand", prices, jobs.Job{GPUs: 2, GPUType: "a100", Pool: "on-demand"}, 90 * time.Minute, 2 * 1.5 * 3.2},
		{"replicas on spot", prices, jobs.Job{GPUs: 4, Replicas: 2, GPUType: "a100", Pool: "spot"}, time.Hour, 8 * 1.1},
		{"CPU and memory per replica", withCPU, jobs.Job{GPUs: 1, Replicas: 2, GPUType: "h100", CPUMillis: 8000, MemoryBytes: 32 << 30}, 2 * time.Hour,
			2*2*6 + 8*2*2*0.05 + 32*2*2*0.01},
		{"CPU-only job", withCPU, jobs.Job{CPUMillis: 500, MemoryBytes: 1 << 30}, time.Hour, 0.5*0.05 + 0.01},
		{"no time", prices, jobs.Job{GPUs: 8, GPUType: "a100"}, 0, 0},
	} {
		if got := tt.prices.AttemptCost(tt.job, tt.d); !near(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
