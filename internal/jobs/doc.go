// Package jobs is mlportal's training and batch jobs: submission with the
// defaults of the project's lifecycle template, the queue the GPU scheduler
// (internal/scheduler) decides over, and the controller that applies the
// scheduler's decisions through an executor (internal/executor) and records
// every transition: queued → starting → running → succeeded, failed,
// cancelled or timed out; a preempted job goes back to the queue and
// resumes from its last checkpoint.
//
// One controller runs at a time, whichever replica holds the scheduler's
// lease; the others serve the API. Everything the controller knows is in
// the store, so a new leader carries on where the old one stopped.
package jobs
