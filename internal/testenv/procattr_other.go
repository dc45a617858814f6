//go:build !linux

package testenv

import "syscall"

// childProcAttr puts a component in its own process group. Outside Linux
// there is no parent-death signal: Main's teardown must run to stop it.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
