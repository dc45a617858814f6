package config

import (
	"gopkg.in/yaml.v3"
	"net"
	"path/filepath"
	"time"
)

// Config is the typed form of the "mlportal:" section of app-config.yaml.
// docs/configuration.md documents every key.
type Config struct {
	Server    Server          `yaml:"server"`
	DataDir   string          `yaml:"dataDir"` // local mode state; default ".mlportal"
	Database  Database        `yaml:"database"`
	Auth      Auth            `yaml:"auth"`
	Log       Log             `yaml:"log"`
	Backstage Backstage       `yaml:"backstage"` // read by the Backstage plugin @mlportal/plugin-mlportal-backend; Go only validates it
	Lifecycle LifecycleConfig `yaml:"lifecycle"`
	// Kubernetes is the cluster projects get namespaces on; none = local mode.
	Kubernetes KubernetesConfig `yaml:"kubernetes"`
	Projects   ProjectsConfig   `yaml:"projects"`
	// SCM configures where projects' repositories live.
	SCM SCMConfig `yaml:"scm"`
	// Artifacts configures where runs' and models' files are stored.
	Artifacts ArtifactsConfig `yaml:"artifacts"`
	// Jobs configures the GPU scheduler and where jobs run.
	Jobs JobsConfig `yaml:"jobs"`
	// Costs prices GPU time for cost accounting and budgets.
	Costs CostsConfig `yaml:"costs"`
	// MLflow points tracking and the registry at an existing MLflow server.
	MLflow MLflowConfig `yaml:"mlflow"`
	// Catalog is read by the Backstage catalog module
	// (@mlportal/plugin-catalog-backend-module-mlportal, docs/plugins.md);
	// the server accepts any mapping there and uses none of it.
	Catalog Opaque `yaml:"catalog"`
}

// MLflowConfig makes an existing MLflow tracking server the system of
// record for experiments, runs, logged models and the model registry
// (internal/mlflowremote); empty TrackingURI = mlportal's own store.
type MLflowConfig struct {
	TrackingURI string `yaml:"trackingUri"` // e.g. http://mlflow.ml.svc:5000
	// Token is sent as a bearer token; Username and Password as basic auth.
	Token    string   `yaml:"token"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	Timeout  Duration `yaml:"timeout"` // per request
}

// JobsConfig configures training and batch jobs (internal/jobs).
type JobsConfig struct {
	// Executor runs admitted jobs: "local" (processes on this machine,
	// the default) or "kubernetes" (a pod per replica on
	// mlportal.kubernetes.kubeconfig's cluster).
	Executor string `yaml:"executor"`
	// GracePeriod is how long a cancelled or preempted job has between
	// SIGTERM and SIGKILL to write a checkpoint.
	GracePeriod Duration `yaml:"gracePeriod"`
	// StartWorkers bounds the starts and stops of admitted jobs under way
	// at once (128): on Kubernetes each waits for a pod creation, which
	// the namespace's ResourceQuota admission serialises per namespace,
	// so throughput grows with how many are in flight.
	StartWorkers int                      `yaml:"startWorkers"`
	Local        LocalExecutorConfig      `yaml:"local"`
	Kubernetes   KubernetesExecutorConfig `yaml:"kubernetes"`
}

// KubernetesExecutorConfig configures the Kubernetes executor.
type KubernetesExecutorConfig struct {
	// CheckpointClaim is a PersistentVolumeClaim, in each project
	// namespace, that holds checkpoints (one directory per job); empty =
	// an emptyDir, whose checkpoints do not survive preemption.
	CheckpointClaim string `yaml:"checkpointClaim"`
	// PriorityClassName is set on every job pod (optional).
	PriorityClassName string `yaml:"priorityClassName"`
	// Binding is who binds job pods to the nodes mlportal chose:
	// "mlportal" (spec.nodeName at creation, the default) or
	// "kube-scheduler" (required node affinity; for GPU nodes shared with
	// pods mlportal does not schedule). ADR 0012.
	Binding string `yaml:"binding"`
	// PodAnnotations are added to every job pod (e.g. an autoscaler's
	// safe-to-evict=false).
	PodAnnotations map[string]string `yaml:"podAnnotations"`
}

// LocalExecutorConfig configures the local executor.
type LocalExecutorConfig struct {
	Dir      string `yaml:"dir"`      // job state, logs and checkpoints; derived "<dataDir>/executor"
	CacheDir string `yaml:"cacheDir"` // prepared Python environments; default <dir>/cache
	NodeName string `yaml:"nodeName"` // this machine in the inventory; default the host name
	Python   string `yaml:"python"`   // interpreter for job virtualenvs; default python3
	// NvidiaSmi is the nvidia-smi to read the GPU inventory with (a fake
	// one in tests); default $MLPORTAL_FAKE_NVIDIA_SMI, else nvidia-smi
	// on PATH, else no GPUs.
	NvidiaSmi string `yaml:"nvidiaSmi"`
	// GPUTypes maps nvidia-smi product names to GPU types (the keys of
	// teams' GPU quotas), e.g. {"NVIDIA A100-SXM4-80GB": a100}.
	GPUTypes map[string]string `yaml:"gpuTypes"`
	// LimitCPUAndMemory makes the scheduler admit local jobs only while
	// their CPU and memory requests fit the machine. Off (the default),
	// only GPUs are counted: the local executor does not isolate CPU or
	// memory, and lifecycle templates ask for cluster-sized amounts.
	LimitCPUAndMemory bool `yaml:"limitCPUAndMemory"`
}

// Opaque is a section another process reads (Backstage's modules): the
// server checks only that it is a mapping.
type Opaque struct{ Node *yaml.Node }

// MarshalYAML writes the section as it was read (nothing when absent).
func (o Opaque) MarshalYAML() (any, error) {
	if o.Node == nil {
		return nil, nil
	}
	return o.Node, nil
}

// CostsConfig prices jobs (internal/cost): a job's cost is its GPU-hours
// times the hourly price of its GPU type in the pool its nodes belong to,
// plus its CPU core-hours and memory GiB-hours at their prices.
type CostsConfig struct {
	Currency string `yaml:"currency"` // ISO 4217 code, "USD"
	// GPUHourPrices maps a GPU type (as nodes report it, e.g. a100) to the
	// price of one GPU for one hour per pool; the key "default" prices
	// types not listed. None = GPU time costs nothing.
	GPUHourPrices      map[string]GPUHourPrice `yaml:"gpuHourPrices"`
	CPUCoreHourPrice   float64                 `yaml:"cpuCoreHourPrice"`   // 0
	MemoryGiBHourPrice float64                 `yaml:"memoryGiBHourPrice"` // 0
}

// GPUHourPrice is one GPU type's hourly price in each node pool.
type GPUHourPrice struct {
	OnDemand float64 `yaml:"onDemand"`
	Spot     float64 `yaml:"spot"` // 0 = the on-demand price
}

// ArtifactsConfig selects the artifact store (internal/artifact).
type ArtifactsConfig struct {
	Backend string      `yaml:"backend"` // "fs" (default) | "s3"
	FS      ArtifactsFS `yaml:"fs"`
	S3      ArtifactsS3 `yaml:"s3"`
}

// ArtifactsFS stores artifacts as files under a directory.
type ArtifactsFS struct {
	Root string `yaml:"root"` // derived "<dataDir>/artifacts" when empty
}

// ArtifactsS3 stores artifacts in an S3-compatible bucket (AWS S3, MinIO,
// Ceph).
type ArtifactsS3 struct {
	Endpoint string `yaml:"endpoint"` // e.g. https://s3.eu-west-1.amazonaws.com or http://minio:9000
	Region   string `yaml:"region"`
	Bucket   string `yaml:"bucket"`
	Prefix   string `yaml:"prefix"` // key prefix inside the bucket
	// AccessKeyID and SecretAccessKey: both empty = the AWS default
	// credential chain (environment, web identity, instance role).
	AccessKeyID     string   `yaml:"accessKeyId"`
	SecretAccessKey string   `yaml:"secretAccessKey"`
	PathStyle       bool     `yaml:"pathStyle"` // MinIO, Ceph and versitygw usually need it
	PartSize        ByteSize `yaml:"partSize"`  // multipart part size; 0 = the store's default (16MiB)
}

// SCMConfig configures the repository hosts (providers) of projects.
type SCMConfig struct {
	// Default is the host of a project that names none: "local" (default)
	// or "github".
	Default string `yaml:"default"`
	// GitHub enables the github provider when its token is set.
	GitHub GitHubConfig `yaml:"github"`
}

// GitHubConfig configures the github provider (github.com or GitHub
// Enterprise).
type GitHubConfig struct {
	// APIURL is GitHub's REST API: "" = github.com; GitHub Enterprise
	// Server: "https://ghe.example.com/api/v3/".
	APIURL string `yaml:"apiUrl"`
	// Token may create repositories in the organisations and administer
	// them (branch protection, environments, Actions variables and
	// secrets). Use ${GITHUB_TOKEN} or $file; never commit it.
	Token string `yaml:"token"`
	// Organizations maps a team to the GitHub organisation its projects'
	// repositories are created in; teams not listed use
	// DefaultOrganization.
	Organizations       map[string]string `yaml:"organizations"`
	DefaultOrganization string            `yaml:"defaultOrganization"`
}

// Enabled reports whether the github provider is configured.
func (g GitHubConfig) Enabled() bool { return g.Token != "" }

// Server configures the HTTP server.
type Server struct {
	Addr              string   `yaml:"addr"`              // default "127.0.0.1:8080"
	BaseURL           string   `yaml:"baseUrl"`           // derived from Addr when empty: "http://localhost:8080"
	ReadTimeout       Duration `yaml:"readTimeout"`       // 30s
	ReadHeaderTimeout Duration `yaml:"readHeaderTimeout"` // 10s
	WriteTimeout      Duration `yaml:"writeTimeout"`      // 60s
	IdleTimeout       Duration `yaml:"idleTimeout"`       // 120s
	ShutdownTimeout   Duration `yaml:"shutdownTimeout"`   // 30s
	MaxBodyBytes      ByteSize `yaml:"maxBodyBytes"`      // 1MiB; accepts 1048576, "1MiB", "512KiB", "10MB"
	// DebugAddr serves Go's profiles (/debug/pprof/) on a listener of its
	// own, without authentication: keep it on loopback. Empty (the
	// default): off.
	DebugAddr string `yaml:"debugAddr"`
}

// Database configures the state store.
type Database struct {
	Driver          string   `yaml:"driver"`          // "sqlite" (default) | "postgres"
	DSN             string   `yaml:"dsn"`             // sqlite: derived "<dataDir>/mlportal.db" when empty; required for postgres
	MaxOpenConns    int      `yaml:"maxOpenConns"`    // default 20
	MaxIdleConns    int      `yaml:"maxIdleConns"`    // default 10
	ConnMaxLifetime Duration `yaml:"connMaxLifetime"` // 30m
}

// Auth configures who may call the API.
type Auth struct {
	Admins    []string      `yaml:"admins"` // Backstage entity refs (users or groups) that are platform admins
	Tokens    Tokens        `yaml:"tokens"`
	Backstage BackstageAuth `yaml:"backstage"`
}

// Tokens configures the API tokens mlportal issues.
type Tokens struct {
	DefaultTTL Duration `yaml:"defaultTTL"` // 720h
	MaxTTL     Duration `yaml:"maxTTL"`     // 8760h
}

// BackstageAuth verifies tokens minted by the Backstage plugin for the
// calling user.
type BackstageAuth struct {
	PublicKeys  []string `yaml:"publicKeys"`  // PEM (PKIX) Ed25519 public keys; empty = Backstage identities not accepted
	Issuer      string   `yaml:"issuer"`      // "backstage"
	Audience    string   `yaml:"audience"`    // "mlportal"
	MaxTokenAge Duration `yaml:"maxTokenAge"` // 5m
}

// Log configures the process logger.
type Log struct {
	Level  string `yaml:"level"`  // debug|info|warn|error, default info
	Format string `yaml:"format"` // json|text, default text
}

// Backstage is read by the Backstage backend plugin
// (@mlportal/plugin-mlportal-backend). Go only validates it, so that one
// misconfigured file fails in both processes the same way.
type Backstage struct {
	BaseURL    string `yaml:"baseUrl"`    // URL of the mlportal API as the plugin reaches it; derived from server.baseUrl
	PrivateKey string `yaml:"privateKey"` // PEM (PKCS#8) Ed25519 private key the plugin signs user tokens with
	KeyID      string `yaml:"keyId"`      // optional kid
}

// LifecycleConfig configures the lifecycle template catalog
// (internal/lifecycle).
type LifecycleConfig struct {
	// TemplateDirs are directories whose *.yaml and *.yml files are read as
	// lifecycle templates next to the shipped ones; default none. Relative
	// paths are relative to the working directory.
	TemplateDirs []string `yaml:"templateDirs"`
}

// KubernetesConfig names the cluster mlportal provisions projects on.
type KubernetesConfig struct {
	// Kubeconfig is the path of a kubeconfig file; "" = no cluster (local
	// mode: the namespace step is skipped and mlportal records the quota).
	Kubeconfig string `yaml:"kubeconfig"`
}

// ProjectsConfig configures new ML projects (internal/project).
type ProjectsConfig struct {
	DefaultQuota ProjectQuota  `yaml:"defaultQuota"`
	Limits       ProjectLimits `yaml:"limits"`
	// APIPeer is where project pods reach the mlportal API through their
	// NetworkPolicy; unset = no egress to it is allowed.
	APIPeer APIPeer `yaml:"apiPeer"`
}

// APIPeer selects the mlportal API for projects' NetworkPolicy egress: an
// IP block (CIDR) or namespace (and pod) labels, and the port.
type APIPeer struct {
	CIDR            string            `yaml:"cidr"`            // e.g. "10.0.0.0/16"
	NamespaceLabels map[string]string `yaml:"namespaceLabels"` // e.g. {kubernetes.io/metadata.name: mlportal}
	PodLabels       map[string]string `yaml:"podLabels"`       // e.g. {app.kubernetes.io/name: mlportal}
	Port            int               `yaml:"port"`            // e.g. 8080
}

// IsZero reports whether no peer is configured.
func (p APIPeer) IsZero() bool {
	return p.CIDR == "" && len(p.NamespaceLabels) == 0 && len(p.PodLabels) == 0 && p.Port == 0
}

// ProjectQuota is a project namespace's ResourceQuota. Quantities use
// Kubernetes syntax ("32", "500m", "128Gi").
type ProjectQuota struct {
	CPU     string `yaml:"cpu"`     // "32"
	Memory  string `yaml:"memory"`  // "128Gi"
	GPUs    int    `yaml:"gpus"`    // 4 (requests.nvidia.com/gpu)
	Pods    int    `yaml:"pods"`    // 50
	Storage string `yaml:"storage"` // "500Gi"
	PVCs    int    `yaml:"pvcs"`    // 20
}

// ProjectLimits is a project namespace's per-container LimitRange.
type ProjectLimits struct {
	MaxGPUsPerContainer int    `yaml:"maxGPUsPerContainer"` // 8
	DefaultCPU          string `yaml:"defaultCPU"`          // "1"
	DefaultMemory       string `yaml:"defaultMemory"`       // "2Gi"
	MaxCPU              string `yaml:"maxCPU"`              // "32"
	MaxMemory           string `yaml:"maxMemory"`           // "256Gi"
}

// Default returns the static defaults: a local-mode server on
// 127.0.0.1:8080 with SQLite state under .mlportal. Derived values
// (DSN, base URLs) are left empty for [Config.Complete].
func Default() Config {
	return Config{
		Server: Server{
			Addr:              "127.0.0.1:8080",
			ReadTimeout:       Duration{30 * time.Second},
			ReadHeaderTimeout: Duration{10 * time.Second},
			WriteTimeout:      Duration{60 * time.Second},
			IdleTimeout:       Duration{120 * time.Second},
			ShutdownTimeout:   Duration{30 * time.Second},
			MaxBodyBytes:      1 * MiB,
		},
		DataDir: ".mlportal",
		Database: Database{
			Driver:          DriverSQLite,
			MaxOpenConns:    20,
			MaxIdleConns:    10,
			ConnMaxLifetime: Duration{30 * time.Minute},
		},
		Auth: Auth{
			Tokens: Tokens{
				DefaultTTL: Duration{720 * time.Hour},
				MaxTTL:     Duration{8760 * time.Hour},
			},
			Backstage: BackstageAuth{
				Issuer:      "backstage",
				Audience:    "mlportal",
				MaxTokenAge: Duration{5 * time.Minute},
			},
		},
		Log:       Log{Level: "info", Format: "text"},
		SCM:       SCMConfig{Default: "local"},
		Artifacts: ArtifactsConfig{Backend: "fs"},
		Jobs:      JobsConfig{Executor: "local", GracePeriod: Duration{30 * time.Second}, StartWorkers: 128, Kubernetes: KubernetesExecutorConfig{Binding: "mlportal"}},
		MLflow:    MLflowConfig{Timeout: Duration{30 * time.Second}},
		Costs:     CostsConfig{Currency: "USD"},
		Projects: ProjectsConfig{
			DefaultQuota: ProjectQuota{CPU: "32", Memory: "128Gi", GPUs: 4, Pods: 50, Storage: "500Gi", PVCs: 20},
			Limits:       ProjectLimits{MaxGPUsPerContainer: 8, DefaultCPU: "1", DefaultMemory: "2Gi", MaxCPU: "32", MaxMemory: "256Gi"},
		},
	}
}

// Database drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Complete fills the values derived from others, leaving explicitly set
// ones alone: the SQLite DSN from DataDir, Server.BaseURL from Server.Addr
// and Backstage.BaseURL from Server.BaseURL. It is idempotent. Apply flag
// overrides before calling it.
func (c *Config) Complete() {
	if c.Database.DSN == "" && c.Database.Driver == DriverSQLite && c.DataDir != "" {
		c.Database.DSN = filepath.Join(c.DataDir, "mlportal.db")
	}
	if c.Server.BaseURL == "" {
		c.Server.BaseURL = baseURLFor(c.Server.Addr)
	}
	if c.Backstage.BaseURL == "" {
		c.Backstage.BaseURL = c.Server.BaseURL
	}
	if c.Jobs.Local.Dir == "" && c.DataDir != "" {
		c.Jobs.Local.Dir = filepath.Join(c.DataDir, "executor")
	}
	if c.Artifacts.Backend == "fs" && c.Artifacts.FS.Root == "" && c.DataDir != "" {
		c.Artifacts.FS.Root = filepath.Join(c.DataDir, "artifacts")
	}
}

// baseURLFor derives the URL a local client uses to reach addr: loopback and
// unspecified hosts become "localhost". It returns "" for a malformed addr,
// which Validate reports.
func baseURLFor(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return ""
	}
	switch host {
	case "", "0.0.0.0", "::", "127.0.0.1", "::1":
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
