// Package quota is mlportal's self-service GPU quota: what a team holds
// (nominal and borrowing limit per GPU type), what its jobs use right now
// and by which jobs, and quota requests — a member asks for more GPUs with
// a justification, optionally for a limited time; a platform admin approves
// or denies. On approval the team's quota and, when the request names a
// project, the project's namespace ResourceQuota change together, in a
// sequence of idempotent steps that is retried until it is applied; a
// temporary grant is reverted when it ends.
//
// It decides and records; it does not schedule (internal/scheduler enforces
// team quotas), nor talk to Kubernetes (NamespaceQuotas is the consumer-side
// port an adapter implements), nor enforce per-project quotas in local
// mode beyond recording them.
package quota
