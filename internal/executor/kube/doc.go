// Package kube is the Kubernetes executor: it runs the jobs mlportal's
// scheduler admitted as batch/v1 Jobs in the project's namespace
// ("<team>-<project>", made by internal/tenancy), through client-go.
//
// What it does:
//   - Start creates, for each replica of an admitted job, one single-pod Job
//     ("mlp-<job>-a<attempt>-<index>") pinned to the node the scheduler chose
//     for that replica, and for more than one replica a headless Service
//     ("mlp-<job>-a<attempt>") for rendezvous. Each replica's pod gets RANK,
//     WORLD_SIZE, MASTER_ADDR (replica 0's DNS name under that Service) and
//     MASTER_PORT. Jobs run with backoffLimit 0 (mlportal requeues, not
//     Kubernetes), activeDeadlineSeconds from the timeout, requests = limits
//     for nvidia.com/gpu, cpu and memory, the team/project/job/cost-centre
//     labels on Jobs and pods, tolerations from the spec plus the GPU taint
//     (and the spot taint for preemptible jobs), the checkpoint directory
//     mounted and named in MLPORTAL_CHECKPOINT_DIR, and
//     terminationGracePeriodSeconds = Config.CheckpointGrace. Before creating
//     anything it checks the namespace's ResourceQuotas and refuses a job
//     that does not fit with the quota's numbers (*QuotaError).
//   - Status derives the run's phase from the Jobs, their pods and, when a
//     pod could not be created, the Job's FailedCreate events; Stop records
//     its reason in an annotation first, so Status after Stop says Cancelled
//     or Preempted.
//   - Logs streams every replica's container log, lines prefixed "[i] " when
//     there are several replicas.
//   - Stop annotates the Jobs, deletes their pods with the grace period
//     (Kubernetes sends SIGTERM, waits, then kills), suspends the Jobs so
//     that no pod is recreated, and waits until the pods are gone. The Jobs
//     stay until Cleanup, so Status keeps answering.
//   - Cleanup deletes every attempt's Jobs, pods and Services (foreground).
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
// Why one Job per replica and not an Indexed Job: the scheduler places each
// replica on a node of its choosing, possibly two replicas on one node. An
// Indexed Job has one pod template, so it can only say "any of these nodes"
// (node affinity) and "one per node" (anti-affinity), which is not the
// placement decided and cannot put two replicas on the same node. One Job
// per replica pins each pod exactly, by required node affinity on the node's
// name (metadata.name, as DaemonSets do; never spec.nodeName, which would
// bypass kube-scheduler's resource checks). The pods still form one group:
// they share the job's labels, a headless Service gives each a stable DNS
// name (hostname = its Job's name, subdomain = the Service), and RANK is set
// per pod, as an Indexed Job's completion index would.
//
// What it deliberately does not do:
//   - It does not decide placement, order or preemption (internal/scheduler
//     does) and does not retry failed pods (backoffLimit 0; the controller
//     requeues).
//   - Without Config.CheckpointPVC the checkpoint directory is an emptyDir:
//     checkpoints then do not survive preemption or a retry, only the pod.
//   - It does not garbage-collect: Jobs stay (ttlSecondsAfterFinished unset)
//     until Cleanup, so their status can be recorded first.
//   - Its quota check reads only unscoped ResourceQuotas; the apiserver's
//     admission remains the authority, and a pod it refuses later shows in
//     Status as Pending with the quota message.
//   - It does not read node usage by pods mlportal did not start: Inventory
//     reports allocatable capacity and the scheduler accounts its own jobs.
package kube
