// Package kube is the Kubernetes executor: it runs the jobs mlportal's
// scheduler admitted as pods in the project's namespace ("<team>-<project>",
// made by internal/tenancy), through client-go.
//
// What it does:
//   - Start creates, for each replica of an admitted job, one pod
//     ("mlp-<job>-a<attempt>-<index>", restartPolicy Never, no owner) pinned
//     to the node the scheduler chose for that replica, and for more than one
//     replica a headless Service ("mlp-<job>-a<attempt>") for rendezvous.
//     Each pod gets RANK, WORLD_SIZE, MASTER_ADDR (replica 0's DNS name under
//     that Service) and MASTER_PORT, activeDeadlineSeconds from the timeout,
//     requests = limits for nvidia.com/gpu, cpu and memory, the
//     team/project/job/attempt/cost-centre labels, tolerations from the spec
//     plus the GPU taint (and the spot taint for preemptible jobs), the
//     checkpoint directory mounted and named in MLPORTAL_CHECKPOINT_DIR, and
//     terminationGracePeriodSeconds = Config.CheckpointGrace. Deterministic
//     names make a replayed Start a no-op. Before creating anything it checks
//     the namespace's ResourceQuotas and refuses a job that does not fit with
//     the quota's numbers (*QuotaError); a pod the quota admission refuses is
//     Start's error too.
//   - Status, Inventory, Stop's wait and the quota pre-check read watch
//     caches the executor starts on first use (Close stops them): the pods
//     labelled mlportal.io/job, indexed by job; the nodes; the quotas. A
//     controller cycle over thousands of jobs makes no API call per job.
//   - Status derives the run's phase from the latest attempt's pods; a job
//     this process started whose pods the cache has not seen yet is Pending.
//     A live pod past its deadline is TimedOut even if its node (kwok) does
//     not enforce activeDeadlineSeconds.
//   - Stop records its reason (in the executor and on the pods), deletes the
//     pods with the grace period (Kubernetes sends SIGTERM, waits, then
//     kills) and waits until they are gone; Status then says Cancelled or
//     Preempted until Cleanup. After a restart the pods are gone and Status
//     says not found: the controller, which asked for the stop, knows why.
//   - Logs streams every replica's container log, lines prefixed "[i] " when
//     there are several replicas.
//   - Cleanup deletes every attempt's pods (one deletecollection) and
//     Services.
//   - Inventory lists the nodes with nvidia.com/gpu allocatable as
//     scheduler.Nodes: GPU type from mlportal.io/gpu-type, else the
//     configured product label (nvidia.com/gpu.product) lower-cased into a
//     DNS-like name; pool from mlportal.io/pool (spot or on-demand); taints;
//     unschedulable when cordoned, not Ready, or tainted not-ready.
//   - Errors are internal/fault errors that say what to fix: the project's
//     namespace missing, the namespace quota exceeded (*QuotaError), a
//     permission mlportal's service account lacks (RequiredRules lists them
//     all), an unreachable apiserver.
//
// Why pods and not batch/v1 Jobs (docs/adr/0011): mlportal's scheduler
// already places, gangs and retries (requeue with resume), so a Job
// controller adds only latency. With one single-pod Job per replica, jobs
// were bound at 25–48 per second, the Job controller being the bottleneck;
// docs/benchmarks.md has the numbers with pods.
//
// Why one pod per replica and not an Indexed Job: the scheduler places each
// replica on a node of its choosing, possibly two replicas on one node. An
// Indexed Job has one pod template, so it can only say "any of these nodes"
// (node affinity) and "one per node" (anti-affinity). Each pod is pinned by
// required node affinity on the node's name (metadata.name, as DaemonSets
// do; never spec.nodeName, which would bypass kube-scheduler's resource
// checks). The pods form one group: they share the job's labels, a headless
// Service gives each a stable DNS name (hostname = its pod's name, subdomain
// = the Service), and RANK is set per pod.
//
// What it deliberately does not do:
//   - It does not decide placement, order or preemption (internal/scheduler
//     does) and does not recreate failed or deleted pods (the controller
//     requeues).
//   - Without Config.CheckpointPVC the checkpoint directory is an emptyDir:
//     checkpoints then do not survive preemption or a retry, only the pod.
//   - It does not garbage-collect: pods stay until Cleanup, so their status
//     can be recorded first.
//   - Its quota pre-check reads only unscoped ResourceQuotas; the apiserver's
//     admission remains the authority.
//   - It does not read node usage by pods mlportal did not start: Inventory
//     reports allocatable capacity and the scheduler accounts its own jobs.
package kube
