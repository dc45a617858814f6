package models

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/tracking"
)

// Node kinds of a lineage graph.
const (
	NodeDataset      = "dataset"
	NodeRun          = "run"
	NodeModelVersion = "model-version"
	NodeDeployment   = "deployment"
	NodeJob          = "job"
)

// Edge kinds of a lineage graph.
const (
	EdgeTrainedOn  = "trained-on"  // dataset version → run
	EdgeProduced   = "produced"    // run → model version
	EdgeDeployedAs = "deployed-as" // model version → deployment
	EdgeRan        = "ran"         // job → run
)

// Node is one vertex of a lineage graph.
type Node struct {
	ID         string // dataset:<name>@<version>, run:<id>, model:<name>@<version>, deployment:<env>, job:<id>
	Kind       string
	Label      string
	Attributes map[string]string
}

// Edge links two nodes.
type Edge struct {
	From, To, Kind string
}

// Lineage is the graph dataset → run → model version → deployment (and
// job → run) of a model's versions.
type Lineage struct {
	Nodes []Node
	Edges []Edge
}

// Lineage returns the graph of every version of the model.
func (s *Service) Lineage(ctx context.Context, p identity.Principal, name string) (Lineage, error) {
	if err := tracking.CanRead(p); err != nil {
		return Lineage{}, err
	}
	m, err := s.GetModel(ctx, p, name)
	if err != nil {
		return Lineage{}, err
	}
	vs, err := s.allVersions(ctx, name)
	if err != nil {
		return Lineage{}, err
	}
	return BuildLineage(vs, m.Deployments), nil
}

// ModelNodeID is the lineage id of a model version.
func ModelNodeID(model string, version int64) string {
	return fmt.Sprintf("model:%s@%d", model, version)
}

// BuildLineage makes the graph of versions and where they are deployed.
// Nodes are sorted by id and edges by (from, to), so the same versions
// give the same graph.
func BuildLineage(vs []Version, deployments []Deployment) Lineage {
	nodes := map[string]Node{}
	edges := map[Edge]bool{}
	add := func(n Node) {
		if _, ok := nodes[n.ID]; !ok {
			nodes[n.ID] = n
		}
	}
	for _, v := range vs {
		mid := ModelNodeID(v.Model, v.Version)
		attrs := map[string]string{"stage": v.Stage, "approval": v.Approval.Status}
		for k, val := range map[string]string{"digest": v.Digest, "framework": v.Framework, "artifactUri": v.ArtifactURI} {
			if val != "" {
				attrs[k] = val
			}
		}
		add(Node{ID: mid, Kind: NodeModelVersion, Label: fmt.Sprintf("%s v%d", v.Model, v.Version), Attributes: attrs})
		if v.RunID == "" {
			continue
		}
		rid := "run:" + v.RunID
		rattrs := map[string]string{}
		for k, val := range map[string]string{"experimentId": v.ExperimentID, "codeRepository": v.CodeRepository, "commit": v.Commit, "imageDigest": v.ImageDigest} {
			if val != "" {
				rattrs[k] = val
			}
		}
		add(Node{ID: rid, Kind: NodeRun, Label: "run " + shortID(v.RunID), Attributes: rattrs})
		edges[Edge{From: rid, To: mid, Kind: EdgeProduced}] = true
		if v.JobID != "" {
			jid := "job:" + v.JobID
			add(Node{ID: jid, Kind: NodeJob, Label: "job " + v.JobID, Attributes: map[string]string{}})
			edges[Edge{From: jid, To: rid, Kind: EdgeRan}] = true
		}
		for _, d := range v.Datasets {
			did := fmt.Sprintf("dataset:%s@%d", d.Name, d.Version)
			dattrs := map[string]string{"quality": d.Quality}
			for k, val := range map[string]string{"uri": d.URI, "digest": d.Digest} {
				if val != "" {
					dattrs[k] = val
				}
			}
			add(Node{ID: did, Kind: NodeDataset, Label: fmt.Sprintf("%s v%d", d.Name, d.Version), Attributes: dattrs})
			edges[Edge{From: did, To: rid, Kind: EdgeTrainedOn}] = true
		}
	}
	for _, d := range deployments {
		did := "deployment:" + d.Environment
		add(Node{ID: did, Kind: NodeDeployment, Label: d.Environment, Attributes: map[string]string{"state": d.State, "version": strconv.FormatInt(d.Version, 10)}})
		if len(vs) > 0 {
			edges[Edge{From: ModelNodeID(vs[0].Model, d.Version), To: did, Kind: EdgeDeployedAs}] = true
		}
	}
	out := Lineage{Nodes: make([]Node, 0, len(nodes)), Edges: make([]Edge, 0, len(edges))}
	for _, n := range nodes {
		out.Nodes = append(out.Nodes, n)
	}
	for e := range edges {
		out.Edges = append(out.Edges, e)
	}
	sort.Slice(out.Nodes, func(i, j int) bool { return out.Nodes[i].ID < out.Nodes[j].ID })
	sort.Slice(out.Edges, func(i, j int) bool {
		a, b := out.Edges[i], out.Edges[j]
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	return out
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
