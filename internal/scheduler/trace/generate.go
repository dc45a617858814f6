package trace

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/scheduler"
)

// Config parameterises Generate. Zero fields take the defaults in
// parentheses.
type Config struct {
	Seed  uint64
	Teams int     // (8)
	Jobs  int     // (5000)
	Days  float64 // span of submissions (3)
	// GPUTypes jobs ask for; each team mostly uses one of them (a100).
	GPUTypes []string
	// MedianMinutes is the median run time of a one-GPU job (30).
	MedianMinutes float64
	// Sigma is the log-normal shape of run times (1.4): larger is heavier-tailed.
	Sigma float64
	// MaxHours caps run times (48).
	MaxHours float64
	// EstimateError is the log-normal sigma of users' duration estimates
	// around a 25 % overestimate (0.5); a tenth of jobs give none.
	EstimateError float64
	// Diurnal is the amplitude of the daily arrival cycle, 0 to 1 (0.6).
	Diurnal float64
}

func (c Config) withDefaults() Config {
	if c.Teams == 0 {
		c.Teams = 8
	}
	if c.Jobs == 0 {
		c.Jobs = 5000
	}
	if c.Days == 0 {
		c.Days = 3
	}
	if len(c.GPUTypes) == 0 {
		c.GPUTypes = []string{"a100"}
	}
	if c.MedianMinutes == 0 {
		c.MedianMinutes = 30
	}
	if c.Sigma == 0 {
		c.Sigma = 1.4
	}
	if c.MaxHours == 0 {
		c.MaxHours = 48
	}
	if c.EstimateError == 0 {
		c.EstimateError = 0.5
	}
	if c.Diurnal == 0 {
		c.Diurnal = 0.6
	}
	return c
}

// Validate refuses parameters the generator cannot honour.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []fault.FieldError
	if c.Teams < 1 || c.Teams > 1000 {
		errs = append(errs, fault.Field("teams", "must be 1-1000 (got %d)", c.Teams))
	}
	if c.Jobs < 1 || c.Jobs > 2_000_000 {
		errs = append(errs, fault.Field("jobs", "must be 1-2000000 (got %d)", c.Jobs))
	}
	if c.Days <= 0 || c.Days > 366 {
		errs = append(errs, fault.Field("days", "must be above 0 and at most 366 (got %g)", c.Days))
	}
	if c.MedianMinutes < 0 || c.Sigma < 0 || c.MaxHours < 0 || c.EstimateError < 0 || c.Diurnal < 0 || c.Diurnal > 1 {
		errs = append(errs, fault.Field("distribution", "medians, sigmas and caps must not be negative; diurnal must be 0-1"))
	}
	if len(errs) > 0 {
		return fault.Invalid("the trace generator's parameters are out of range", errs...)
	}
	return nil
}

// profile is a kind of team, after the workloads the published traces
// describe: research (many small exploratory jobs and sweeps), training
// (production models, large and long), notebooks (interactive, one GPU,
// short) and batch (hyper-parameter searches and offline inference,
// preemptible, in large sweeps).
type profile struct {
	name           string
	sizes          []int     // total GPUs
	sizeWeights    []float64 // same length
	durationScale  float64
	classWeights   [4]float64 // preemptible, batch, production, interactive
	preemptible    float64    // share of non-preemptible-class jobs flagged preemptible
	checkpointable float64
	burst          float64 // mean jobs per submission
	volume         float64 // relative number of jobs
}

var profiles = []profile{
	{name: "research", sizes: []int{1, 2, 4, 8, 16, 32}, sizeWeights: []float64{.62, .13, .12, .09, .03, .01},
		durationScale: 1, classWeights: [4]float64{.05, .75, .05, .15}, preemptible: .15, checkpointable: .5, burst: 3, volume: 1},
	{name: "training", sizes: []int{1, 2, 4, 8, 16, 32}, sizeWeights: []float64{.25, .15, .20, .25, .10, .05},
		durationScale: 2.5, classWeights: [4]float64{0, .45, .55, 0}, preemptible: .1, checkpointable: .85, burst: 1.3, volume: .5},
	{name: "notebooks", sizes: []int{1, 2, 4}, sizeWeights: []float64{.85, .12, .03},
		durationScale: .4, classWeights: [4]float64{0, .2, 0, .8}, checkpointable: .1, burst: 1, volume: .6},
	{name: "batch", sizes: []int{1, 2, 4, 8}, sizeWeights: []float64{.55, .25, .15, .05},
		durationScale: .6, classWeights: [4]float64{.3, .7, 0, 0}, preemptible: .6, checkpointable: .7, burst: 5, volume: 1.2},
}

// TeamName is the name Generate gives team i.
func TeamName(i int) string { return fmt.Sprintf("team-%02d", i) }

// Profile names the kind of team Generate makes team i.
func Profile(i int) string { return profiles[i%len(profiles)].name }

// Generate makes a trace of cfg.Jobs jobs sorted by submission.
func Generate(cfg Config) ([]Job, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6d6c706f7274616c))
	span := cfg.Days * 86400
	// Each team: a profile, a volume (a long tail of smaller teams), a
	// favourite GPU type and a time zone shifting its day.
	type teamGen struct {
		p      profile
		weight float64 // of submissions, so jobs follow volume
		typ    string
		phase  float64 // hours
	}
	teams := make([]teamGen, cfg.Teams)
	var total float64
	for i := range teams {
		p := profiles[i%len(profiles)]
		vol := p.volume / (1 + 0.25*float64(i/len(profiles)))
		teams[i] = teamGen{p: p, weight: vol / p.burst, typ: cfg.GPUTypes[i%len(cfg.GPUTypes)], phase: float64(i%4-2) * 2}
		total += teams[i].weight
	}
	jobs := make([]Job, 0, cfg.Jobs)
	for len(jobs) < cfg.Jobs {
		// A submission: one team, one time, one or more similar jobs.
		x, ti := rng.Float64()*total, 0
		for ti < len(teams)-1 && x >= teams[ti].weight {
			x -= teams[ti].weight
			ti++
		}
		tg := &teams[ti]
		at := diurnalTime(rng, span, cfg.Diurnal, tg.phase)
		n := 1
		if tg.p.burst > 1 {
			n += int(math.Floor(math.Log(1-rng.Float64()) / math.Log(1-1/tg.p.burst)))
		}
		size := pick(rng, tg.p.sizes, tg.p.sizeWeights)
		class := scheduler.PriorityClass(pick(rng, []int{0, 1, 2, 3}, tg.p.classWeights[:]))
		typ := tg.typ
		if rng.Float64() < 0.3 {
			typ = cfg.GPUTypes[rng.IntN(len(cfg.GPUTypes))]
		}
		// Run times grow with size; a sweep's jobs share a median.
		median := cfg.MedianMinutes * 60 * tg.p.durationScale * (1 + 0.35*math.Log2(float64(size)))
		median *= math.Exp(rng.NormFloat64() * cfg.Sigma)
		preemptible := class == scheduler.PriorityPreemptible || rng.Float64() < tg.p.preemptible
		ckpt := rng.Float64() < tg.p.checkpointable
		for k := 0; k < n && len(jobs) < cfg.Jobs; k++ {
			d := median
			if n > 1 {
				d *= math.Exp(rng.NormFloat64() * 0.4)
			}
			d = math.Min(math.Max(d, 60), cfg.MaxHours*3600)
			est := 0.0
			if rng.Float64() >= 0.1 {
				est = math.Max(60, math.Round(d*math.Exp(0.22+rng.NormFloat64()*cfg.EstimateError)))
			}
			gpus, replicas := size, 1
			if size > 8 {
				gpus, replicas = 8, size/8
			}
			jobs = append(jobs, Job{
				Team: TeamName(ti), Project: fmt.Sprintf("%s-p%d", TeamName(ti), rng.IntN(3)),
				Submit: math.Min(span, math.Round(at+float64(k)*rng.Float64()*30)), GPUType: typ, GPUs: gpus, Replicas: replicas,
				Priority: class, Preemptible: preemptible, Checkpointable: ckpt, Duration: math.Round(d), Estimate: est,
				CPUMillis: int64(max(4, 8*gpus)) * 1000, MemoryMiB: int64(max(32, 64*gpus)) * 1024,
			})
		}
	}
	slices.SortStableFunc(jobs, func(a, b Job) int {
		switch {
		case a.Submit < b.Submit:
			return -1
		case a.Submit > b.Submit:
			return 1
		}
		return 0
	})
	for i := range jobs {
		jobs[i].ID = fmt.Sprintf("j%06d", i+1)
	}
	return jobs, nil
}

// diurnalTime draws a submission time in [0, span) seconds whose density
// follows 1 + amp·cos over the day, peaking at 14:00 shifted by phase hours.
func diurnalTime(rng *rand.Rand, span, amp, phase float64) float64 {
	for {
		t := rng.Float64() * span
		h := math.Mod(t/3600, 24)
		if rng.Float64()*(1+amp) <= 1+amp*math.Cos(2*math.Pi*(h-14-phase)/24) {
			return t
		}
	}
}

func pick(rng *rand.Rand, values []int, weights []float64) int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	x := rng.Float64() * sum
	for i, w := range weights {
		if x < w {
			return values[i]
		}
		x -= w
	}
	return values[len(values)-1]
}
