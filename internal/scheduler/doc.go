// Package scheduler is the decision core of mlportal's GPU scheduler: given
// an immutable Snapshot of the cluster (nodes, teams and their quotas, running
// allocations, pending jobs, the time) and a Policy, Schedule returns a
// Decision: which jobs to admit on which nodes, which running jobs to preempt
// and for whom, and for every job left pending why it waits and what would
// let it run.
//
// Schedule works in numbered steps (see schedule.go): index the snapshot,
// queue each team's pending jobs, serve jobs within nominal quota first and
// then borrowers in order of weighted dominant-resource share, place each job
// (all replicas or none) by best fit, preempt borrowed or preemptible work
// when a job is entitled to it, and explain what is left.
//
// It deliberately does no I/O and keeps no state between calls: no clock (the
// snapshot carries Now), no randomness, no store, no executor. The same
// snapshot and policy always give the same decision, so a controller can call
// it every cycle with a snapshot built from the store and the cluster and then
// act on the decision (start jobs, send SIGTERM with a grace period and
// MLPORTAL_CHECKPOINT_DIR to victims, requeue them to resume). Building that
// snapshot, acting on the decision, quotas requests and cost accounting live
// elsewhere. The trace generator (subpackage trace) and the replay simulator
// (subpackage sim) drive this same code.
package scheduler
