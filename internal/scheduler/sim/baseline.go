package sim

// baselinePolicy models a namespace ResourceQuota and the default
// kube-scheduler, with each job a Kubernetes Job of one pod per replica:
//
//   - The job controller creates pods in submission order; quota admission
//     refuses a pod that would take its team over the nominal GPUs of its
//     type, counting every pod not finished, pending ones included. Refused
//     pods are retried at the next event, and other jobs' pods go ahead.
//   - The scheduler binds created pods in creation order, each to the first
//     node (by name) that has its GPU type and enough free GPUs, CPU and
//     memory, on-demand nodes before spot ones, spot only for preemptible
//     jobs (spot nodes are tainted). A pod that fits nowhere waits; others
//     go ahead.
//   - A job runs once all its pods are bound; until then the bound ones hold
//     their GPUs idle (stranded). Nothing is borrowed or preempted.
type baselinePolicy struct {
	quota  [][]int // team × type: nominal GPUs
	used   [][]int // GPUs of created pods
	active []int   // jobs with created pods
}

func newBaseline(e *engine) *baselinePolicy {
	b := &baselinePolicy{}
	for range e.teamNames {
		b.quota = append(b.quota, make([]int, len(e.types)))
		b.used = append(b.used, make([]int, len(e.types)))
	}
	for ti, t := range e.cluster.Teams {
		for _, q := range t.Quota {
			for ty, name := range e.types {
				if name == q.GPUType {
					b.quota[ti][ty] = q.Nominal
				}
			}
		}
	}
	return b
}

func (b *baselinePolicy) step(e *engine) {
	// Pods of jobs that ended leave the quota.
	live := b.active[:0]
	for _, ji := range b.active {
		j := &e.jobs[ji]
		if j.phase == done {
			b.used[j.team][j.typ] -= j.created * j.tj.GPUs
			continue
		}
		live = append(live, ji)
	}
	b.active = live
	// Job controller: create pods the quota admits.
	for _, ji := range e.queue {
		j := &e.jobs[ji]
		before := j.created
		for j.created < j.tj.Replicas && b.used[j.team][j.typ]+j.tj.GPUs <= b.quota[j.team][j.typ] {
			j.created++
			b.used[j.team][j.typ] += j.tj.GPUs
		}
		if before == 0 && j.created > 0 {
			b.active = append(b.active, ji)
		}
	}
	// Scheduler: bind created pods first-fit, in creation order.
	var started []int
	for _, ji := range e.queue {
		j := &e.jobs[ji]
		for len(j.nodes) < j.created {
			k := b.firstFit(e, j)
			if k < 0 {
				break
			}
			e.hold(ji, k)
		}
		if len(j.nodes) == j.tj.Replicas {
			started = append(started, ji)
		}
	}
	for _, ji := range started {
		e.start(ji)
	}
}

func (b *baselinePolicy) firstFit(e *engine, j *jobState) int {
	for pass := 0; pass < 2; pass++ {
		if pass == 1 && !j.sj.IsPreemptible() {
			break
		}
		for k, n := range e.cluster.Nodes {
			if e.pool[k] != pass || n.GPUType != j.tj.GPUType || n.Unschedulable {
				continue
			}
			if e.free[k] >= j.tj.GPUs && e.freeCPU[k] >= j.tj.CPUMillis && e.freeMem[k] >= j.tj.MemoryMiB<<20 {
				return k
			}
		}
	}
	return -1
}
