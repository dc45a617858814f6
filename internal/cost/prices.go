package cost

import (
	"time"

	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/scheduler"
)

// DefaultGPUType keys the price of GPU types not listed.
const DefaultGPUType = "default"

// Prices are hourly prices in Currency.
type Prices struct {
	Currency string
	// GPU prices one GPU-hour by GPU type (DefaultGPUType for the rest).
	GPU map[string]PoolPrices
	// CPUCoreHour and MemoryGiBHour price a replica's CPU and memory.
	CPUCoreHour, MemoryGiBHour float64
}

// PoolPrices is a GPU type's hourly price in each node pool.
type PoolPrices struct {
	OnDemand float64
	Spot     float64 // 0 = OnDemand
}

var _ jobs.Pricer = Prices{}

// GPUHour is the price of one GPU of gpuType for an hour on a node of
// pool; an unknown pool is priced on demand.
func (p Prices) GPUHour(gpuType, pool string) float64 {
	pp, ok := p.GPU[gpuType]
	if !ok {
		pp = p.GPU[DefaultGPUType]
	}
	if pool == string(scheduler.PoolSpot) && pp.Spot > 0 {
		return pp.Spot
	}
	return pp.OnDemand
}

// AttemptCost is the price of j's resources (every replica's GPUs, CPU and
// memory) held for d on nodes of j.Pool.
func (p Prices) AttemptCost(j jobs.Job, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	h, replicas := d.Hours(), float64(max(j.Replicas, 1))
	c := float64(j.TotalGPUs()) * h * p.GPUHour(j.GPUType, j.Pool)
	c += float64(j.CPUMillis) / 1000 * replicas * h * p.CPUCoreHour
	c += float64(j.MemoryBytes) / (1 << 30) * replicas * h * p.MemoryGiBHour
	return c
}
