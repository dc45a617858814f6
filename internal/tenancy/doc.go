// Package tenancy provisions an ML project's tenancy on a Kubernetes cluster
// by server-side apply, with field manager "mlportal".
//
// What it does:
//   - Apply creates or updates, in namespace NamespaceName(team, project), the
//     Namespace (labelled with team, project, cost centre and managed-by), the
//     ResourceQuota "mlportal-quota", the LimitRange "mlportal-limits", the
//     NetworkPolicy "mlportal-isolation" (traffic only within the team, plus
//     DNS and the mlportal API), the ServiceAccount "mlportal-runner" and the
//     RoleBinding "mlportal-team" that gives the team's Kubernetes group and
//     that service account a ClusterRole (edit by default). It is idempotent:
//     applying the same Spec twice changes nothing, and Result says which
//     objects changed.
//   - Delete removes the namespace (and so everything in it), for a saga's
//     rollback. It returns once the apiserver accepted the deletion.
//   - Both refuse to touch a namespace that mlportal did not create for the
//     same team and project, and map apiserver failures to fault kinds with
//     messages that say what to fix: a field another manager owns
//     (*ConflictError, fault.ErrConflict), mlportal lacking permissions
//     (fault.ErrPermissionDenied), an unreachable apiserver
//     (fault.ErrUnavailable).
//
// What it deliberately does not do:
//   - It does not force conflicts unless built WithForceConflicts: a field
//     someone else changed is reported, never silently overwritten.
//   - It does not decide the Spec (quota sizes, the API's address): the
//     project service and configuration do. It is not used in local mode,
//     where no cluster is configured.
//   - It does not wait for a namespace to finish terminating, and does not
//     garbage-collect namespaces whose project no longer exists.
//   - It does not grant mlportal its own permissions; RequiredRules lists
//     the ClusterRole rules it needs and a forbidden error says what to grant.
package tenancy
