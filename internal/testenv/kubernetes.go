package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
)

// Readiness bounds. A cold kube-apiserver on a busy 2-core machine needs
// about ten seconds; the bounds leave room for a loaded CI machine.
const (
	etcdReadyTimeout      = 30 * time.Second
	apiserverReadyTimeout = 90 * time.Second
	componentReadyTimeout = 60 * time.Second
)

var (
	clusterOnce sync.Once
	shared      *Cluster
	sharedErr   error
	failed      atomic.Bool // set by Main when the tests failed: keep the logs
)

// Kubernetes returns the control plane shared by all tests of this test
// binary, starting it on first use. It skips under -short and fails t, with
// the component's log and the fix, when the environment cannot start.
func Kubernetes(t testing.TB) *Cluster {
	t.Helper()
	skipUnitTier(t, "the Kubernetes control plane")
	if !mainCalled.Load() {
		t.Fatal("testenv: the package's TestMain must call testenv.Main(m), which stops the control plane after the tests")
	}
	clusterOnce.Do(func() {
		start := time.Now()
		shared, sharedErr = startCluster()
		if sharedErr == nil {
			t.Logf("testenv: control plane ready in %s (logs: %s)", time.Since(start).Round(time.Millisecond), shared.LogDir())
		}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// startCluster starts etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok, in that order, each after the previous is ready.
func startCluster() (_ *Cluster, err error) {
	binDir, err := BinDir()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(binDir, ".complete")); err != nil {
		return nil, &componentError{name: "binaries", hint: fixHint,
			msg: fmt.Sprintf("no complete build in %s (%s=%q)", binDir, EnvBinDir, os.Getenv(EnvBinDir))}
	}
	runDir, err := newRunDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{runDir: runDir, logDir: filepath.Join(runDir, "logs")}
	onTeardown(c.stop)
	defer func() {
		if err != nil {
			c.keep = true // the error points into the logs
			c.stop()
		}
	}()
	for _, d := range []string{c.logDir, filepath.Join(runDir, "pki"), filepath.Join(runDir, "etcd")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	p, err := writePKI(filepath.Join(runDir, "pki"))
	if err != nil {
		return nil, fmt.Errorf("testenv: credentials: %w", err)
	}
	ports, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	etcdPort, etcdPeerPort, apiPort, kcmPort, schedPort, kwokPort := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	bin := func(name string) string { return filepath.Join(binDir, name) }
	loop := func(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

	// 1. etcd: in-memory speed, no fsync; the data dies with the run.
	etcd, err := c.start("etcd", bin("etcd"),
		"--name=testenv",
		"--data-dir="+filepath.Join(runDir, "etcd"),
		"--listen-client-urls=http://"+loop(etcdPort),
		"--advertise-client-urls=http://"+loop(etcdPort),
		"--listen-peer-urls=http://"+loop(etcdPeerPort),
		"--initial-advertise-peer-urls=http://"+loop(etcdPeerPort),
		"--initial-cluster=testenv=http://"+loop(etcdPeerPort),
		"--unsafe-no-fsync",
		"--quota-backend-bytes=4294967296",
		"--log-level=warn",
	)
	if err != nil {
		return nil, err
	}
	if err := etcd.waitReady(etcdReadyTimeout, httpProbe("http://"+loop(etcdPort)+"/health", "", `"health":"true"`)); err != nil {
		return nil, err
	}

	// 2. kube-apiserver.
	c.server = "https://" + loop(apiPort)
	c.caPEM, c.token = p.caPEM, p.adminToken
	api, err := c.start("kube-apiserver", bin("kube-apiserver"),
		"--etcd-servers=http://"+loop(etcdPort),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(apiPort),
		"--tls-cert-file="+p.servingCert,
		"--tls-private-key-file="+p.servingKey,
		"--client-ca-file="+p.caCert,
		"--token-auth-file="+p.tokenFile,
		"--authorization-mode=RBAC",
		"--enable-admission-plugins=ResourceQuota,LimitRanger,NamespaceLifecycle",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+p.saPub,
		"--service-account-signing-key-file="+p.saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--cert-dir="+filepath.Join(runDir, "pki"),
		"--allow-privileged=true",
		"--max-requests-inflight=2000",
		"--max-mutating-requests-inflight=1000",
		"--profiling=false",
		"--v=1",
	)
	if err != nil {
		return nil, err
	}
	if err := api.waitReady(apiserverReadyTimeout, httpProbe(c.server+"/readyz", p.adminToken, "ok")); err != nil {
		return nil, err
	}
	if c.clientset, err = kubernetes.NewForConfig(c.RESTConfig()); err != nil {
		return nil, fmt.Errorf("testenv: clientset: %w", err)
	}
	c.kubeconfig = filepath.Join(runDir, "admin.kubeconfig")
	if err := writeKubeconfig(c.kubeconfig, c.server, p.caPEM, p.adminToken); err != nil {
		return nil, err
	}
	kubeconfigFor := func(user string) (string, error) {
		path := filepath.Join(runDir, user+".kubeconfig")
		return path, writeKubeconfig(path, c.server, p.caPEM, p.controlTokens[user])
	}

	// 3. kube-controller-manager: every controller but nodeipam (no pod CIDRs
	// here); node lifecycle must run to lift the not-ready taint of new nodes.
	kcmConfig, err := kubeconfigFor("kube-controller-manager")
	if err != nil {
		return nil, err
	}
	kcmArgs := []string{
		"--kubeconfig=" + kcmConfig,
		"--authentication-kubeconfig=" + kcmConfig,
		"--authorization-kubeconfig=" + kcmConfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(kcmPort),
		"--cert-dir=" + filepath.Join(runDir, "pki", "kcm"),
		"--controllers=*,-nodeipam",
		"--leader-elect=false",
		"--service-account-private-key-file=" + p.saKey,
		"--root-ca-file=" + p.caCert,
		"--use-service-account-credentials=false",
		"--node-monitor-period=2s",
		"--v=1",
	}
	stock := os.Getenv(EnvStockLimits) != ""
	if !stock {
		kcmArgs = append(kcmArgs, "--kube-api-qps=1000", "--kube-api-burst=2000", "--concurrent-job-syncs=20")
	}
	kcm, err := c.start("kube-controller-manager", bin("kube-controller-manager"), kcmArgs...)
	if err != nil {
		return nil, err
	}
	if err := kcm.waitReady(componentReadyTimeout, httpProbe("https://"+loop(kcmPort)+"/healthz", "", "ok")); err != nil {
		return nil, err
	}

	// 4. kube-scheduler, configured by file (client QPS has no flag).
	schedConfig, err := kubeconfigFor("kube-scheduler")
	if err != nil {
		return nil, err
	}
	schedFile := filepath.Join(runDir, "kube-scheduler.yaml")
	limits := schedulerLimits
	if stock {
		limits = ""
	}
	if err := os.WriteFile(schedFile, fmt.Appendf(nil, schedulerConfig, schedConfig, limits), 0o600); err != nil {
		return nil, err
	}
	sched, err := c.start("kube-scheduler", bin("kube-scheduler"),
		"--config="+schedFile,
		"--authentication-kubeconfig="+schedConfig,
		"--authorization-kubeconfig="+schedConfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(schedPort),
		"--cert-dir="+filepath.Join(runDir, "pki", "scheduler"),
		"--v=1",
	)
	if err != nil {
		return nil, err
	}
	if err := sched.waitReady(componentReadyTimeout, httpProbe("https://"+loop(schedPort)+"/healthz", "", "ok")); err != nil {
		return nil, err
	}

	// 5. kwok: only nodes annotated kwok.x-k8s.io/node=fake, with the stages
	// build.sh copied from the kwok module and testenv's own (stages.go):
	// nodes renew a Lease every 10 s and report their status every 5 min,
	// as kubelets do.
	kwokConfig, err := kubeconfigFor("kwok")
	if err != nil {
		return nil, err
	}
	kwokArgs := []string{
		"--kubeconfig=" + kwokConfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + KwokNodeAnnotation + "=fake",
		"--server-address=" + loop(kwokPort),
		"--node-lease-duration-seconds=40",
	}
	stages, err := stageFiles(filepath.Join(binDir, "stages"), "node-fast", "pod-general")
	if err != nil {
		return nil, err
	}
	extra, err := extraStages(runDir)
	if err != nil {
		return nil, err
	}
	for _, f := range append(stages, extra...) {
		kwokArgs = append(kwokArgs, "--config="+f)
	}
	kwok, err := c.start("kwok", bin("kwok"), kwokArgs...)
	if err != nil {
		return nil, err
	}
	if err := kwok.waitReady(componentReadyTimeout, httpProbe("http://"+loop(kwokPort)+"/healthz", "", "ok")); err != nil {
		return nil, err
	}
	return c, nil
}

const schedulerConfig = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: %s
%sleaderElection:
  leaderElect: false
`

// schedulerLimits raises kube-scheduler's client rate limits (defaults: 50
// and 100) unless EnvStockLimits is set.
const schedulerLimits = "  qps: 1000\n  burst: 2000\n"

// stageFiles lists the kwok Stage manifests in the named subdirectories of dir.
func stageFiles(dir string, sets ...string) ([]string, error) {
	var files []string
	for _, s := range sets {
		matches, err := filepath.Glob(filepath.Join(dir, s, "*.yaml"))
		if err != nil {
			return nil, err
		}
		if len(matches) == 0 {
			return nil, &componentError{name: "kwok", msg: "no stage manifests in " + filepath.Join(dir, s), hint: fixHint}
		}
		sort.Strings(matches)
		files = append(files, matches...)
	}
	return files, nil
}

// start launches a component and records it for teardown.
func (c *Cluster) start(name, bin string, args ...string) (*component, error) {
	p, err := startComponent(name, bin, args, c.logDir)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.components = append(c.components, p)
	c.mu.Unlock()
	return p, nil
}

// stop stops the components in reverse start order and removes the run
// directory unless tests failed or MLPORTAL_TESTENV_KEEP is set.
func (c *Cluster) stop() {
	c.stopOnce.Do(c.stopNow)
}

func (c *Cluster) stopNow() {
	c.mu.Lock()
	comps := c.components
	c.components = nil
	c.mu.Unlock()
	for i := len(comps) - 1; i >= 0; i-- {
		comps[i].stop()
	}
	if c.keep || failed.Load() || os.Getenv(EnvKeep) != "" {
		fmt.Fprintf(os.Stderr, "testenv: component logs kept in %s\n", c.logDir)
		return
	}
	if err := os.RemoveAll(c.runDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "testenv: remove %s: %v\n", c.runDir, err)
	}
}
