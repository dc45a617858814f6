package scheduler_test

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time the calling OS thread has used (the benchmark
// locks its goroutine to one thread), so that cycle latency can be read
// apart from time spent waiting for a CPU on a shared machine.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
