package tenancy

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
)

// Names of the objects Apply manages.
const (
	FieldManager      = "mlportal"
	QuotaName         = "mlportal-quota"
	LimitRangeName    = "mlportal-limits"
	NetworkPolicyName = "mlportal-isolation"
	ServiceAccount    = "mlportal-runner"
	RoleBindingName   = "mlportal-team"
)

// Labels Apply sets.
const (
	LabelTeam       = "mlportal.io/team"
	LabelProject    = "mlportal.io/project"
	LabelCostCenter = "mlportal.io/cost-center"
	LabelManagedBy  = "app.kubernetes.io/managed-by"
	ManagedByValue  = "mlportal"
)

// GPUResource is the extended resource of NVIDIA GPUs.
const GPUResource corev1.ResourceName = "nvidia.com/gpu"

// TeamGroup is the Kubernetes group whose members act for team.
func TeamGroup(team string) string { return "mlportal:team:" + team }

// objectLabels are the labels of every object but the namespace.
func objectLabels(s Spec) map[string]string {
	return map[string]string{LabelTeam: s.Team, LabelProject: s.Project, LabelManagedBy: ManagedByValue}
}

func namespaceAC(ns string, s Spec) *corev1ac.NamespaceApplyConfiguration {
	labels := objectLabels(s)
	labels[LabelCostCenter] = s.CostCenter
	return corev1ac.Namespace(ns).WithLabels(labels)
}

func count(n int) resource.Quantity { return *resource.NewQuantity(int64(n), resource.DecimalSI) }

func quotaAC(ns string, s Spec, q quantities) *corev1ac.ResourceQuotaApplyConfiguration {
	return corev1ac.ResourceQuota(QuotaName, ns).WithLabels(objectLabels(s)).
		WithSpec(corev1ac.ResourceQuotaSpec().WithHard(corev1.ResourceList{
			corev1.ResourceRequestsCPU:                         q.cpu,
			corev1.ResourceLimitsCPU:                           q.cpu,
			corev1.ResourceRequestsMemory:                      q.memory,
			corev1.ResourceLimitsMemory:                        q.memory,
			corev1.DefaultResourceRequestsPrefix + GPUResource: count(s.Quota.GPUs),
			corev1.ResourcePods:                                count(s.Quota.Pods),
			corev1.ResourceRequestsStorage:                     q.storage,
			corev1.ResourcePersistentVolumeClaims:              count(s.Quota.PVCs),
		}))
}

// limitRangeAC sets every default explicitly: the apiserver would otherwise
// default a missing default limit to the max, giving every container
// MaxGPUsPerContainer GPUs.
func limitRangeAC(ns string, s Spec, q quantities) *corev1ac.LimitRangeApplyConfiguration {
	gpus := count(s.Limits.MaxGPUsPerContainer)
	defaults := corev1.ResourceList{corev1.ResourceCPU: q.defCPU, corev1.ResourceMemory: q.defMemory, GPUResource: count(0)}
	return corev1ac.LimitRange(LimitRangeName, ns).WithLabels(objectLabels(s)).
		WithSpec(corev1ac.LimitRangeSpec().WithLimits(corev1ac.LimitRangeItem().
			WithType(corev1.LimitTypeContainer).
			WithMax(corev1.ResourceList{corev1.ResourceCPU: q.maxCPU, corev1.ResourceMemory: q.maxMemory, GPUResource: gpus}).
			WithDefault(defaults).
			WithDefaultRequest(defaults.DeepCopy())))
}

func networkPolicyAC(ns string, s Spec) *networkingv1ac.NetworkPolicyApplyConfiguration {
	team := func() *networkingv1ac.NetworkPolicyPeerApplyConfiguration {
		return networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(
			metav1ac.LabelSelector().WithMatchLabels(map[string]string{LabelTeam: s.Team}))
	}
	port := func(proto corev1.Protocol, p int) *networkingv1ac.NetworkPolicyPortApplyConfiguration {
		return networkingv1ac.NetworkPolicyPort().WithProtocol(proto).WithPort(intstr.FromInt32(int32(p)))
	}
	egress := []*networkingv1ac.NetworkPolicyEgressRuleApplyConfiguration{
		networkingv1ac.NetworkPolicyEgressRule().WithTo(team()),
		networkingv1ac.NetworkPolicyEgressRule().
			WithTo(networkingv1ac.NetworkPolicyPeer().
				WithNamespaceSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{corev1.LabelMetadataName: "kube-system"})).
				WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{"k8s-app": "kube-dns"}))).
			WithPorts(port(corev1.ProtocolUDP, 53), port(corev1.ProtocolTCP, 53)),
	}
	if p := s.APIPeer; !p.IsZero() {
		peer := networkingv1ac.NetworkPolicyPeer()
		if p.CIDR != "" {
			peer.WithIPBlock(networkingv1ac.IPBlock().WithCIDR(p.CIDR))
		} else {
			peer.WithNamespaceSelector(metav1ac.LabelSelector().WithMatchLabels(p.NamespaceLabels))
			if len(p.PodLabels) > 0 {
				peer.WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(p.PodLabels))
			}
		}
		egress = append(egress, networkingv1ac.NetworkPolicyEgressRule().WithTo(peer).WithPorts(port(corev1.ProtocolTCP, p.Port)))
	}
	return networkingv1ac.NetworkPolicy(NetworkPolicyName, ns).WithLabels(objectLabels(s)).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector()).
			WithPolicyTypes(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress).
			WithIngress(networkingv1ac.NetworkPolicyIngressRule().WithFrom(team())).
			WithEgress(egress...))
}

func serviceAccountAC(ns string, s Spec) *corev1ac.ServiceAccountApplyConfiguration {
	return corev1ac.ServiceAccount(ServiceAccount, ns).WithLabels(objectLabels(s))
}

func roleBindingAC(ns string, s Spec) *rbacv1ac.RoleBindingApplyConfiguration {
	return rbacv1ac.RoleBinding(RoleBindingName, ns).WithLabels(objectLabels(s)).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("ClusterRole").WithName(s.role())).
		WithSubjects(
			rbacv1ac.Subject().WithKind(rbacv1.GroupKind).WithAPIGroup(rbacv1.GroupName).WithName(TeamGroup(s.Team)),
			rbacv1ac.Subject().WithKind(rbacv1.ServiceAccountKind).WithName(ServiceAccount).WithNamespace(ns),
		)
}

// RequiredRules are the cluster-wide permissions mlportal's own identity
// needs for Apply and Delete with the given ClusterRole (bind lets it grant
// that role without holding all its permissions).
func RequiredRules(role string) []rbacv1.PolicyRule {
	if role == "" {
		role = DefaultRole
	}
	rw := []string{"get", "create", "patch"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "create", "patch", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"resourcequotas", "limitranges", "serviceaccounts"}, Verbs: rw},
		{APIGroups: []string{networkingv1.GroupName}, Resources: []string{"networkpolicies"}, Verbs: rw},
		{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"rolebindings"}, Verbs: append(rw, "delete")},
		{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"}, ResourceNames: []string{role}},
	}
}
