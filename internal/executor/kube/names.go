package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/mlportal/mlportal/internal/tenancy"
)

// Labels and annotations the executor sets. Team, project and cost centre use
// internal/tenancy's keys, so a namespace and its jobs are selected alike.
const (
	LabelTeam       = tenancy.LabelTeam
	LabelProject    = tenancy.LabelProject
	LabelCostCenter = tenancy.LabelCostCenter
	LabelManagedBy  = tenancy.LabelManagedBy
	// LabelJob is the mlportal job id: every Job, pod and Service of the job.
	LabelJob = "mlportal.io/job"
	// LabelAttempt is the attempt (1, 2, … after requeues).
	LabelAttempt = "mlportal.io/attempt"
	// LabelReplica is the replica index (its RANK).
	LabelReplica = "mlportal.io/replica"

	// AnnotationReplicas is the number of replicas, on each Job.
	AnnotationReplicas = "mlportal.io/replicas"
	// AnnotationNode is the node the scheduler placed the replica on.
	AnnotationNode = "mlportal.io/node"
	// AnnotationStopReason is Stop's reason (cancel, preempt), set before the
	// pods are deleted.
	AnnotationStopReason = "mlportal.io/stop-reason"
	// AnnotationStoppedAt is when Stop was called (RFC 3339).
	AnnotationStoppedAt = "mlportal.io/stopped-at"

	// GPUTypeLabel names a node's GPU type for mlportal; it takes precedence
	// over Config.GPUTypeLabel.
	GPUTypeLabel = "mlportal.io/gpu-type"
	// GPUMemoryLabel is NVIDIA feature discovery's memory per GPU, in MiB.
	GPUMemoryLabel = "nvidia.com/gpu.memory"

	// containerName is the job's one container.
	containerName = "job"
	// checkpointVolume is the volume mounted at the checkpoint directory.
	checkpointVolume = "checkpoint"
)

var (
	nonName = regexp.MustCompile(`[^a-z0-9-]+`)
	dashes  = regexp.MustCompile(`-{2,}`)
)

// idPart is jobID as a DNS label part of at most 40 characters: lower-cased,
// other characters as '-', and, when that changed the id at all (even only
// its case), a hash suffix so that distinct ids keep distinct names.
func idPart(jobID string) string {
	lower := strings.ToLower(jobID)
	s := strings.Trim(dashes.ReplaceAllString(nonName.ReplaceAllString(lower, "-"), "-"), "-")
	if s == jobID && len(s) <= 40 {
		return s
	}
	sum := sha256.Sum256([]byte(jobID))
	if len(s) > 31 {
		s = strings.TrimRight(s[:31], "-")
	}
	if s == "" {
		return hex.EncodeToString(sum[:])[:8]
	}
	return s + "-" + hex.EncodeToString(sum[:])[:8]
}

// baseName names an attempt's rendezvous Service and prefixes its Jobs.
func baseName(jobID string, attempt int) string {
	return fmt.Sprintf("mlp-%s-a%d", idPart(jobID), attempt)
}

// replicaName names replica i's Job; its pod's hostname is the same.
func replicaName(jobID string, attempt, i int) string {
	return fmt.Sprintf("%s-%d", baseName(jobID, attempt), i)
}

// jobSelector selects everything of the job (every attempt).
func jobSelector(jobID string) string {
	return labels.SelectorFromSet(labels.Set{LabelJob: jobID}).String()
}

// attemptSelector selects one attempt of the job.
func attemptSelector(jobID string, attempt int) string {
	return labels.SelectorFromSet(labels.Set{LabelJob: jobID, LabelAttempt: strconv.Itoa(attempt)}).String()
}
