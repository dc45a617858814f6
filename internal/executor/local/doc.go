// Package local is the local executor: it runs admitted jobs as processes on
// this machine, behind executor.Executor. It is mlportal's default executor
// (local mode) and the one `make run` uses.
//
// For each job it
//   - copies the project's workspace into a per-attempt run directory (the
//     job never writes to the project's source),
//   - prepares the project's Python environment from requirements.txt once
//     per (requirements, interpreter) and shares it between jobs, as MLflow
//     Projects do,
//   - gives each replica free GPUs through CUDA_VISIBLE_DEVICES (the
//     inventory comes from nvidia-smi, or from a stand-in script in tests),
//   - runs each replica in the job's own process group under a small shell
//     wrapper that records the exit status in a file, so that the job
//     outlives a restart of the server and a new Executor over the same
//     directory still knows how it ended,
//   - captures stdout and stderr to a file per replica,
//   - on timeout, cancel or preemption sends SIGTERM to the whole process
//     group, waits the grace period and then sends SIGKILL to the group.
//
// It deliberately does not isolate jobs: there are no cgroups, namespaces or
// resource limits, CPU and memory requests are not enforced, and a process
// that leaves the job's process group (setsid) escapes Stop. Jobs run as the
// server's user. Use the Kubernetes executor for isolation.
//
// Linux only: liveness and identity of processes are read from /proc.
package local
