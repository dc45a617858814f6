package testenv

import "syscall"

// childProcAttr puts a component in its own process group (so stop can
// signal it and its children) and has the kernel SIGKILL it when the test
// binary dies, even by SIGKILL or a test timeout.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
