package testenv

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Cluster is a running control plane. Its methods are safe for concurrent use.
type Cluster struct {
	runDir, logDir string
	server         string
	caPEM          []byte
	token          string
	kubeconfig     string

	mu         sync.Mutex
	components []*component
	keep       bool
	stopOnce   sync.Once
	nodeSeq    int
	clientset  *kubernetes.Clientset
}

// RESTConfig returns a fresh admin (system:masters) config for the
// kube-apiserver, with client rate limits raised for load tests.
func (c *Cluster) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            c.server,
		BearerToken:     c.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: append([]byte(nil), c.caPEM...)},
		QPS:             500,
		Burst:           1000,
		Timeout:         30 * time.Second,
	}
}

// Kubeconfig returns the path of an admin kubeconfig file, for tools such as
// kubectl or a controller under test started as a process.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// LogDir returns the directory holding one <component>.log per component.
// It is kept after the run when a test failed or MLPORTAL_TESTENV_KEEP is set.
func (c *Cluster) LogDir() string { return c.logDir }

// Clientset returns a shared admin clientset.
func (c *Cluster) Clientset() *kubernetes.Clientset { return c.clientset }

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// Namespace creates a namespace named after the test, waits until its default
// service account exists (pods are refused before that), and deletes it when
// the test ends.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	base := strings.Trim(nonName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 40 {
		base = strings.TrimRight(base[:40], "-")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs := c.Clientset()
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: "t-" + base + "-",
		Labels:       map[string]string{"mlportal.io/testenv": "true"},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("testenv: create namespace: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("testenv: delete namespace %s: %v", ns.Name, err)
		}
	})
	err = wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("testenv: namespace %s has no default service account (is kube-controller-manager running? see %s): %v",
			ns.Name, c.logDir, err)
	}
	return ns.Name
}
