package config

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ValidationError lists every problem Validate found.
type ValidationError struct{ Problems []Problem }

// Problem is one invalid value. Field is the full key path, e.g.
// "mlportal.server.addr".
type Problem struct{ Field, Reason string }

func (p Problem) String() string { return p.Field + ": " + p.Reason }

// Error lists the problems, one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

type problems []Problem

func (ps *problems) add(field, format string, args ...any) {
	*ps = append(*ps, Problem{Field: "mlportal." + field, Reason: fmt.Sprintf(format, args...)})
}

// Validate checks a completed Config and returns every problem at once as a
// *ValidationError, or nil. It never echoes key material.
func (c Config) Validate() error {
	var ps problems
	c.Server.validate(&ps)
	if c.DataDir == "" {
		ps.add("dataDir", "required")
	}
	c.Database.validate(&ps)
	c.Auth.validate(&ps)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		ps.add("log.level", "must be one of debug, info, warn, error (got %q)", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		ps.add("log.format", "must be json or text (got %q)", c.Log.Format)
	}
	c.Backstage.validate(&ps, c.Auth.Backstage.PublicKeys)
	for i, dir := range c.Lifecycle.TemplateDirs {
		if strings.TrimSpace(dir) == "" {
			ps.add(fmt.Sprintf("lifecycle.templateDirs[%d]", i), "must be a directory path, not empty")
		}
	}
	c.Projects.validate(&ps)
	c.SCM.validate(&ps)
	c.Artifacts.validate(&ps)
	c.MLflow.validate(&ps)
	switch c.Jobs.Executor {
	case "local":
		if c.Jobs.Local.Dir == "" {
			ps.add("jobs.local.dir", "required (Complete derives it from dataDir)")
		}
	case "kubernetes":
		if c.Kubernetes.Kubeconfig == "" {
			ps.add("jobs.executor", "is kubernetes but kubernetes.kubeconfig is not set: name the cluster jobs run on")
		}
	default:
		ps.add("jobs.executor", "must be local or kubernetes (got %q)", c.Jobs.Executor)
	}
	if b := c.Jobs.Kubernetes.Binding; b != "mlportal" && b != "kube-scheduler" {
		ps.add("jobs.kubernetes.binding", "must be mlportal or kube-scheduler (got %q)", b)
	}
	positive(&ps, "jobs.gracePeriod", c.Jobs.GracePeriod)
	if c.Jobs.StartWorkers < 1 || c.Jobs.StartWorkers > 4096 {
		ps.add("jobs.startWorkers", "must be between 1 and 4096 (got %d)", c.Jobs.StartWorkers)
	}
	c.Costs.validate(&ps)
	if len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

func (s Server) validate(ps *problems) {
	if host, port, err := net.SplitHostPort(s.Addr); err != nil || strings.ContainsAny(host, " /") || !validPort(port) {
		ps.add("server.addr", "must be host:port (got %q)", s.Addr)
	}
	checkURL(ps, "server.baseUrl", s.BaseURL)
	for _, t := range []struct {
		field string
		d     Duration
	}{
		{"server.readTimeout", s.ReadTimeout},
		{"server.readHeaderTimeout", s.ReadHeaderTimeout},
		{"server.writeTimeout", s.WriteTimeout},
		{"server.idleTimeout", s.IdleTimeout},
		{"server.shutdownTimeout", s.ShutdownTimeout},
	} {
		positive(ps, t.field, t.d)
	}
	if s.MaxBodyBytes < KiB || s.MaxBodyBytes > GiB {
		ps.add("server.maxBodyBytes", "must be between 1KiB and 1GiB (got %s)", s.MaxBodyBytes)
	}
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535 && p == strconv.Itoa(n)
}

func (d Database) validate(ps *problems) {
	switch d.Driver {
	case DriverSQLite:
		if d.DSN == "" {
			ps.add("database.dsn", "required (Complete derives it from dataDir)")
		}
	case DriverPostgres:
		if d.DSN == "" {
			ps.add("database.dsn", "required when driver is postgres")
		}
	default:
		ps.add("database.driver", "must be sqlite or postgres (got %q)", d.Driver)
	}
	if d.MaxOpenConns < 1 {
		ps.add("database.maxOpenConns", "must be at least 1 (got %d)", d.MaxOpenConns)
	}
	if d.MaxIdleConns < 0 || d.MaxIdleConns > d.MaxOpenConns {
		ps.add("database.maxIdleConns", "must be between 0 and maxOpenConns (got %d)", d.MaxIdleConns)
	}
	positive(ps, "database.connMaxLifetime", d.ConnMaxLifetime)
}

// entityRefRE follows Backstage's rules for the namespace (DNS-label-like)
// and name (alphanumerics separated by [-_.]) of a user or group.
var entityRefRE = regexp.MustCompile(`^(?i:user|group):[a-z0-9]+(?:-+[a-z0-9]+)*/[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*$`)

func (a Auth) validate(ps *problems) {
	for i, ref := range a.Admins {
		_, nsName, _ := strings.Cut(ref, ":")
		ns, name, _ := strings.Cut(nsName, "/")
		if !entityRefRE.MatchString(ref) || len(ns) > 63 || len(name) > 63 {
			ps.add(fmt.Sprintf("auth.admins[%d]", i),
				`must be an entity ref "user:<namespace>/<name>" or "group:<namespace>/<name>" (got %q)`, ref)
		}
	}
	positive(ps, "auth.tokens.defaultTTL", a.Tokens.DefaultTTL)
	positive(ps, "auth.tokens.maxTTL", a.Tokens.MaxTTL)
	if a.Tokens.DefaultTTL.Duration > a.Tokens.MaxTTL.Duration {
		ps.add("auth.tokens.defaultTTL", "must not exceed maxTTL (%s > %s)", a.Tokens.DefaultTTL, a.Tokens.MaxTTL)
	}
	for i, k := range a.Backstage.PublicKeys {
		if _, err := ParsePublicKey(k); err != nil {
			ps.add(fmt.Sprintf("auth.backstage.publicKeys[%d]", i), "not an Ed25519 public key: %v", err)
		}
	}
	if a.Backstage.Issuer == "" {
		ps.add("auth.backstage.issuer", "required")
	}
	if a.Backstage.Audience == "" {
		ps.add("auth.backstage.audience", "required")
	}
	positive(ps, "auth.backstage.maxTokenAge", a.Backstage.MaxTokenAge)
}

func (b Backstage) validate(ps *problems, publicKeys []string) {
	if b.BaseURL != "" {
		checkURL(ps, "backstage.baseUrl", b.BaseURL)
	}
	if b.PrivateKey == "" {
		return
	}
	priv, err := ParsePrivateKey(b.PrivateKey)
	if err != nil {
		ps.add("backstage.privateKey", "not an Ed25519 private key: %v", err)
		return
	}
	// Both keys are visible only when one process sees the whole file; then
	// tokens the plugin signs must verify.
	if len(publicKeys) == 0 {
		return
	}
	pub := priv.Public().(ed25519.PublicKey)
	if !slices.ContainsFunc(publicKeys, func(s string) bool {
		k, err := ParsePublicKey(s)
		return err == nil && k.Equal(pub)
	}) {
		ps.add("backstage.privateKey", "its public key is not in auth.backstage.publicKeys, so tokens it signs would be rejected")
	}
}

func checkURL(ps *problems, field, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ps.add(field, "must be an absolute http(s) URL (got %q)", raw)
	}
}

func positive(ps *problems, field string, d Duration) {
	if d.Duration <= 0 {
		ps.add(field, "must be positive (got %s)", d)
	}
}

// ParsePublicKey parses one PEM "PUBLIC KEY" (PKIX) block holding an
// Ed25519 key, as in auth.backstage.publicKeys.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	der, err := pemBlock(s, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("got a %T", k)
	}
	return pub, nil
}

// ParsePrivateKey parses one PEM "PRIVATE KEY" (PKCS#8) block holding an
// Ed25519 key, as in backstage.privateKey.
func ParsePrivateKey(s string) (ed25519.PrivateKey, error) {
	der, err := pemBlock(s, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("malformed PKCS#8 key") // x509's message is safe, but keep key errors terse
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("got a %T", k)
	}
	return priv, nil
}

func pemBlock(s, wantType string) ([]byte, error) {
	block, rest := pem.Decode([]byte(strings.TrimSpace(s)))
	if block == nil {
		return nil, fmt.Errorf("no PEM %q block found", wantType)
	}
	if block.Type != wantType {
		return nil, fmt.Errorf("PEM block is %q, want %q", block.Type, wantType)
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("unexpected data after the PEM block")
	}
	return block.Bytes, nil
}

// validate checks the project defaults' shape; the Kubernetes quantities
// themselves are parsed where they are used (internal/tenancy), at start-up.
func (p ProjectsConfig) validate(ps *problems) {
	q, l := p.DefaultQuota, p.Limits
	for _, f := range []struct {
		field, v string
	}{
		{"defaultQuota.cpu", q.CPU}, {"defaultQuota.memory", q.Memory}, {"defaultQuota.storage", q.Storage},
		{"limits.defaultCPU", l.DefaultCPU}, {"limits.defaultMemory", l.DefaultMemory}, {"limits.maxCPU", l.MaxCPU}, {"limits.maxMemory", l.MaxMemory},
	} {
		if strings.TrimSpace(f.v) == "" {
			ps.add("projects."+f.field, "required: a Kubernetes quantity such as 32, 500m or 128Gi")
		}
	}
	for _, f := range []struct {
		field string
		n     int
	}{
		{"defaultQuota.gpus", q.GPUs}, {"defaultQuota.pods", q.Pods}, {"defaultQuota.pvcs", q.PVCs}, {"limits.maxGPUsPerContainer", l.MaxGPUsPerContainer},
	} {
		if f.n < 0 {
			ps.add("projects."+f.field, "must not be negative (got %d)", f.n)
		}
	}
	if peer := p.APIPeer; !peer.IsZero() {
		if peer.CIDR != "" {
			if _, _, err := net.ParseCIDR(peer.CIDR); err != nil {
				ps.add("projects.apiPeer.cidr", "must be a CIDR like 10.0.0.0/16 (got %q)", peer.CIDR)
			}
			if len(peer.NamespaceLabels)+len(peer.PodLabels) > 0 {
				ps.add("projects.apiPeer", "set either cidr or namespaceLabels/podLabels, not both")
			}
		} else if len(peer.NamespaceLabels) == 0 {
			ps.add("projects.apiPeer.namespaceLabels", "required unless cidr is set: the labels of the namespace mlportal runs in")
		}
		if peer.Port < 1 || peer.Port > 65535 {
			ps.add("projects.apiPeer.port", "must be the mlportal API's port, 1-65535 (got %d)", peer.Port)
		}
	}
}

func (s SCMConfig) validate(ps *problems) {
	switch s.Default {
	case "local":
	case "github":
		if !s.GitHub.Enabled() {
			ps.add("scm.default", "is github but scm.github.token is not set")
		}
	default:
		ps.add("scm.default", "must be local or github (got %q)", s.Default)
	}
	g := s.GitHub
	if g.APIURL != "" {
		checkURL(ps, "scm.github.apiUrl", g.APIURL)
	}
	if g.Enabled() && g.DefaultOrganization == "" && len(g.Organizations) == 0 {
		ps.add("scm.github.defaultOrganization", "required when scm.github.token is set and scm.github.organizations is empty: the organisation new repositories are created in")
	}
	for team, org := range g.Organizations {
		if !githubNameRE.MatchString(org) {
			ps.add("scm.github.organizations."+team, "must be a GitHub organisation name (got %q)", org)
		}
	}
	if o := g.DefaultOrganization; o != "" && !githubNameRE.MatchString(o) {
		ps.add("scm.github.defaultOrganization", "must be a GitHub organisation name (got %q)", o)
	}
}

// githubNameRE is GitHub's rule for organisation logins.
var githubNameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$`)

func (m MLflowConfig) validate(ps *problems) {
	positive(ps, "mlflow.timeout", m.Timeout)
	if m.TrackingURI == "" {
		return
	}
	checkURL(ps, "mlflow.trackingUri", m.TrackingURI)
	if m.Token != "" && (m.Username != "" || m.Password != "") {
		ps.add("mlflow.token", "set a token or username/password, not both")
	}
	if m.Password != "" && m.Username == "" {
		ps.add("mlflow.username", "required when mlflow.password is set")
	}
}

func (a ArtifactsConfig) validate(ps *problems) {
	switch a.Backend {
	case "fs":
		if a.FS.Root == "" {
			ps.add("artifacts.fs.root", "required (Complete derives it from dataDir)")
		}
	case "s3":
		if a.S3.Endpoint == "" {
			ps.add("artifacts.s3.endpoint", "required when backend is s3, e.g. https://s3.eu-west-1.amazonaws.com")
		} else {
			checkURL(ps, "artifacts.s3.endpoint", a.S3.Endpoint)
		}
		if a.S3.Bucket == "" {
			ps.add("artifacts.s3.bucket", "required when backend is s3")
		}
		if (a.S3.AccessKeyID == "") != (a.S3.SecretAccessKey == "") {
			ps.add("artifacts.s3.secretAccessKey", "set both accessKeyId and secretAccessKey, or neither (the AWS default credential chain)")
		}
		if a.S3.PartSize != 0 && a.S3.PartSize < 5*MiB {
			ps.add("artifacts.s3.partSize", "must be at least 5MiB, S3's smallest part (got %s)", a.S3.PartSize)
		}
	default:
		ps.add("artifacts.backend", "must be fs or s3 (got %q)", a.Backend)
	}
}

var (
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	gpuTypeRE  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
)

func (c CostsConfig) validate(ps *problems) {
	if !currencyRE.MatchString(c.Currency) {
		ps.add("costs.currency", "must be an ISO 4217 currency code such as USD or EUR (got %q)", c.Currency)
	}
	price := func(field string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1e6 {
			ps.add(field, "must be a price per hour between 0 and 1000000 (got %v)", v)
		}
	}
	for gpuType, p := range c.GPUHourPrices {
		if !gpuTypeRE.MatchString(gpuType) {
			ps.add("costs.gpuHourPrices."+gpuType, "must be a GPU type as nodes report it (lower-case letters, digits, '-' or '.') or default")
		}
		price("costs.gpuHourPrices."+gpuType+".onDemand", p.OnDemand)
		price("costs.gpuHourPrices."+gpuType+".spot", p.Spot)
	}
	price("costs.cpuCoreHourPrice", c.CPUCoreHourPrice)
	price("costs.memoryGiBHourPrice", c.MemoryGiBHourPrice)
}
