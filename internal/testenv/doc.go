// Package testenv is the integration tier's real test environment: a real
// Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler) with kwok-simulated GPU nodes, a real PostgreSQL and a real
// S3-compatible server.
//
// What it does:
//   - Kubernetes starts the control plane lazily, once per test binary, from
//     binaries that build.sh compiled and cached (make testenv). Every test of
//     the binary shares it; Cluster.Namespace isolates tests, AddGPUNodes adds
//     kwok fake nodes with nvidia.com/gpu resources.
//   - Postgres returns the DSN of a fresh database per test, created on the
//     server named by MLPORTAL_TEST_POSTGRES_DSN (postgres.sh) and dropped on
//     cleanup.
//   - S3 starts a versitygw (an S3-compatible server over a directory) per
//     call, from the binary versitygw.sh built (make versitygw), with one
//     empty bucket and random keys; it is killed when the test ends.
//   - Main, called from TestMain, stops every component when the tests end.
//     Components run in their own process group with a parent-death signal, so
//     they also die when the test binary is killed.
//
// What it deliberately does not do:
//   - It never builds or downloads binaries and never installs PostgreSQL:
//     a missing piece fails the test with the command that fixes it.
//   - It never skips silently. Under go test -short (the unit tier) both entry
//     points skip with an "integration tier" message; otherwise any failure is
//     fatal.
//   - It runs no kubelet, container runtime or network: pods are scheduled to
//     kwok nodes and their lifecycle is simulated by kwok stages (pods owned by
//     a Job complete one to six seconds after they start running, or after
//     the delay in the annotation pod-complete.stage.kwok.x-k8s.io/delay).
//   - It does not reset cluster-scoped state (nodes, CRDs) between tests.
package testenv
