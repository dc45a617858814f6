package tenancy_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/mlportal/mlportal/internal/tenancy"
)

func TestApplyCreatesEveryObject(t *testing.T) {
	cs, p, ctx, s := setup(t, "vision", "detector")
	res, err := p.Apply(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	ns := tenancy.NamespaceName("vision", s.Project)
	if diff := cmp.Diff(allActions(ns, tenancy.Created), actions(res)); res.Namespace != ns || diff != "" {
		t.Fatalf("Apply result for %s (-want +got):\n%s", res.Namespace, diff)
	}
	objLabels := map[string]string{"mlportal.io/team": "vision", "mlportal.io/project": s.Project, "app.kubernetes.io/managed-by": "mlportal"}

	gotNS := mustGet(t, ctx, cs.CoreV1().Namespaces().Get, ns)
	wantNS := map[string]string{"mlportal.io/cost-center": "cc-1234", corev1.LabelMetadataName: ns}
	for k, v := range objLabels {
		wantNS[k] = v
	}
	if diff := cmp.Diff(wantNS, gotNS.Labels); diff != "" {
		t.Errorf("namespace labels (-want +got):\n%s", diff)
	}

	q := mustGet(t, ctx, cs.CoreV1().ResourceQuotas(ns).Get, tenancy.QuotaName)
	wantHard := corev1.ResourceList{
		"requests.cpu": resource.MustParse("8"), "limits.cpu": resource.MustParse("8"),
		"requests.memory": resource.MustParse("32Gi"), "limits.memory": resource.MustParse("32Gi"),
		"requests.nvidia.com/gpu": resource.MustParse("4"), "pods": resource.MustParse("20"),
		"requests.storage": resource.MustParse("500Gi"), "persistentvolumeclaims": resource.MustParse("10"),
	}
	if diff := cmp.Diff(wantHard, q.Spec.Hard, quantities); diff != "" {
		t.Errorf("quota hard limits (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(objLabels, q.Labels); diff != "" {
		t.Errorf("quota labels (-want +got):\n%s", diff)
	}

	lr := mustGet(t, ctx, cs.CoreV1().LimitRanges(ns).Get, tenancy.LimitRangeName)
	defaults := corev1.ResourceList{"cpu": resource.MustParse("500m"), "memory": resource.MustParse("1Gi"), "nvidia.com/gpu": resource.MustParse("0")}
	wantItems := []corev1.LimitRangeItem{{
		Type:           corev1.LimitTypeContainer,
		Max:            corev1.ResourceList{"cpu": resource.MustParse("4"), "memory": resource.MustParse("16Gi"), "nvidia.com/gpu": resource.MustParse("2")},
		Default:        defaults,
		DefaultRequest: defaults,
	}}
	if diff := cmp.Diff(wantItems, lr.Spec.Limits, quantities); diff != "" {
		t.Errorf("limit range items (-want +got):\n%s", diff)
	}

	np := mustGet(t, ctx, cs.NetworkingV1().NetworkPolicies(ns).Get, tenancy.NetworkPolicyName)
	if diff := cmp.Diff(wantPolicy("vision", networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "mlportal"}},
	}, 8080), np.Spec); diff != "" {
		t.Errorf("network policy (-want +got):\n%s", diff)
	}

	if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, tenancy.ServiceAccount, metav1.GetOptions{}); err != nil {
		t.Errorf("service account: %v", err)
	}
	rb := mustGet(t, ctx, cs.RbacV1().RoleBindings(ns).Get, tenancy.RoleBindingName)
	wantSubjects := []rbacv1.Subject{
		{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "mlportal:team:vision"},
		{Kind: "ServiceAccount", Name: "mlportal-runner", Namespace: ns},
	}
	if diff := cmp.Diff(wantSubjects, rb.Subjects); diff != "" {
		t.Errorf("role binding subjects (-want +got):\n%s", diff)
	}
	if want := (rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "edit"}); rb.RoleRef != want {
		t.Errorf("role ref %+v, want %+v", rb.RoleRef, want)
	}
}

// wantPolicy is the isolation policy of a team's namespace with api as the
// mlportal API peer.
func wantPolicy(team string, api networkingv1.NetworkPolicyPeer, apiPort int32) networkingv1.NetworkPolicySpec {
	sameTeam := []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"mlportal.io/team": team}}}}
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dns, port := intstr.FromInt32(53), intstr.FromInt32(apiPort)
	return networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{},
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: sameTeam}},
		Egress: []networkingv1.NetworkPolicyEgressRule{
			{To: sameTeam},
			{
				To: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "kube-system"}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
				}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
			},
			{To: []networkingv1.NetworkPolicyPeer{api}, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}}},
		},
	}
}

func TestApplyWithIPBlockPeer(t *testing.T) {
	cs, p, ctx, s := setup(t, "vision", "cidr")
	s.APIPeer = tenancy.Peer{CIDR: "10.0.12.0/24", Port: 443}
	if _, err := p.Apply(ctx, s); err != nil {
		t.Fatal(err)
	}
	np := mustGet(t, ctx, cs.NetworkingV1().NetworkPolicies(tenancy.NamespaceName(s.Team, s.Project)).Get, tenancy.NetworkPolicyName)
	want := wantPolicy("vision", networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.12.0/24"}}, 443)
	if diff := cmp.Diff(want, np.Spec); diff != "" {
		t.Errorf("network policy (-want +got):\n%s", diff)
	}
}

func TestApplyIsIdempotentAndReappliesOnlyWhatChanged(t *testing.T) {
	cs, p, ctx, s := setup(t, "nlp", "chat")
	ns := tenancy.NamespaceName(s.Team, s.Project)
	if _, err := p.Apply(ctx, s); err != nil {
		t.Fatal(err)
	}
	waitQuotaStatus(t, ctx, cs, ns, "4")
	before := resourceVersions(t, ctx, cs, ns)

	res, err := p.Apply(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Objects {
		if o.Action != tenancy.Unchanged || o.ResourceVersion != before[o.Kind] {
			t.Errorf("second Apply: %s %s %s at resourceVersion %s, want unchanged at %s", o.Kind, o.Name, o.Action, o.ResourceVersion, before[o.Kind])
		}
	}
	if res.Changed() {
		t.Error("second Apply reports a change")
	}
	if diff := cmp.Diff(before, resourceVersions(t, ctx, cs, ns)); diff != "" {
		t.Errorf("resourceVersions moved on a no-op Apply (-before +after):\n%s", diff)
	}

	s.Quota.GPUs = 8
	res, err = p.Apply(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]tenancy.Action{
		"Namespace/" + ns: tenancy.Unchanged, "ServiceAccount/mlportal-runner": tenancy.Unchanged,
		"ResourceQuota/mlportal-quota": tenancy.Updated, "LimitRange/mlportal-limits": tenancy.Unchanged,
		"NetworkPolicy/mlportal-isolation": tenancy.Unchanged, "RoleBinding/mlportal-team": tenancy.Unchanged,
	}
	if diff := cmp.Diff(want, actions(res)); diff != "" {
		t.Errorf("Apply after a quota change (-want +got):\n%s", diff)
	}
	q := mustGet(t, ctx, cs.CoreV1().ResourceQuotas(ns).Get, tenancy.QuotaName)
	if got := q.Spec.Hard["requests.nvidia.com/gpu"]; got.Cmp(resource.MustParse("8")) != 0 {
		t.Errorf("quota GPUs %s, want 8", got.String())
	}

	// A new role replaces the RoleBinding, whose roleRef is immutable.
	s.Role = "view"
	if res, err = p.Apply(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := actions(res)["RoleBinding/mlportal-team"]; got != tenancy.Updated {
		t.Errorf("RoleBinding after a role change: %s, want updated", got)
	}
	if rb := mustGet(t, ctx, cs.RbacV1().RoleBindings(ns).Get, tenancy.RoleBindingName); rb.RoleRef.Name != "view" {
		t.Errorf("role ref %s, want view", rb.RoleRef.Name)
	}
}
