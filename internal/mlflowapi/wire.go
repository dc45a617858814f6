package mlflowapi

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/tracking"
)

// num is a JSON int64 that accepts a number or a numeric string, as
// protobuf's JSON parser does, and is written as a number, as MLflow does.
type num int64

func (n *num) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := strconv.ParseInt(s, 10, 64)
		*n = num(v)
		return err
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = num(v)
	return nil
}

// float is a JSON double that carries NaN and ±Infinity as protobuf's JSON
// mapping does: the strings "NaN", "Infinity", "-Infinity".
type float float64

func (f float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(v)
}

func (f *float) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			*f = float(math.NaN())
		case "Infinity":
			*f = float(math.Inf(1))
		case "-Infinity":
			*f = float(math.Inf(-1))
		default:
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return err
			}
			*f = float(v)
		}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = float(v)
	return nil
}

type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func tagsIn(kvs []keyValue) []tracking.Tag {
	out := make([]tracking.Tag, len(kvs))
	for i, kv := range kvs {
		out[i] = tracking.Tag{Key: kv.Key, Value: kv.Value}
	}
	return out
}

func tagsOut(ts []tracking.Tag) []keyValue {
	if len(ts) == 0 {
		return nil
	}
	out := make([]keyValue, len(ts))
	for i, t := range ts {
		out[i] = keyValue{Key: t.Key, Value: t.Value}
	}
	return out
}

func paramsOut(ps []tracking.Param) []keyValue {
	if len(ps) == 0 {
		return nil
	}
	out := make([]keyValue, len(ps))
	for i, p := range ps {
		out[i] = keyValue{Key: p.Key, Value: p.Value}
	}
	return out
}

type experimentJSON struct {
	ExperimentID     string     `json:"experiment_id"`
	Name             string     `json:"name"`
	ArtifactLocation string     `json:"artifact_location"`
	LifecycleStage   string     `json:"lifecycle_stage"`
	LastUpdateTime   int64      `json:"last_update_time"`
	CreationTime     int64      `json:"creation_time"`
	Tags             []keyValue `json:"tags,omitempty"`
}

func experimentOut(e tracking.Experiment) experimentJSON {
	return experimentJSON{ExperimentID: e.ID, Name: e.Name, ArtifactLocation: e.ArtifactLocation, LifecycleStage: e.LifecycleStage,
		LastUpdateTime: e.LastUpdateTime, CreationTime: e.CreationTime, Tags: tagsOut(e.Tags)}
}

type metricJSON struct {
	Key           string `json:"key"`
	Value         float  `json:"value"`
	Timestamp     num    `json:"timestamp"`
	Step          num    `json:"step"`
	DatasetName   string `json:"dataset_name,omitempty"`
	DatasetDigest string `json:"dataset_digest,omitempty"`
	ModelID       string `json:"model_id,omitempty"`
	RunID         string `json:"run_id,omitempty"`
}

func metricIn(m metricJSON) tracking.Metric {
	return tracking.Metric{Key: m.Key, Value: float64(m.Value), Timestamp: int64(m.Timestamp), Step: int64(m.Step),
		DatasetName: m.DatasetName, DatasetDigest: m.DatasetDigest, ModelID: m.ModelID}
}

func metricOut(m tracking.Metric) metricJSON {
	return metricJSON{Key: m.Key, Value: float(m.Value), Timestamp: num(m.Timestamp), Step: num(m.Step), DatasetName: m.DatasetName,
		DatasetDigest: m.DatasetDigest, ModelID: m.ModelID, RunID: m.RunID}
}

func metricsOut(ms []tracking.Metric) []metricJSON {
	if len(ms) == 0 {
		return nil
	}
	out := make([]metricJSON, len(ms))
	for i, m := range ms {
		out[i] = metricOut(m)
	}
	return out
}

type runInfoJSON struct {
	RunID          string `json:"run_id"`
	RunUUID        string `json:"run_uuid"`
	RunName        string `json:"run_name"`
	ExperimentID   string `json:"experiment_id"`
	UserID         string `json:"user_id"`
	Status         string `json:"status"`
	StartTime      int64  `json:"start_time"`
	EndTime        int64  `json:"end_time,omitempty"`
	ArtifactURI    string `json:"artifact_uri"`
	LifecycleStage string `json:"lifecycle_stage"`
}

func runInfoOut(ri tracking.RunInfo) runInfoJSON {
	return runInfoJSON{RunID: ri.ID, RunUUID: ri.ID, RunName: ri.Name, ExperimentID: ri.ExperimentID, UserID: ri.UserID,
		Status: string(ri.Status), StartTime: ri.StartTime, EndTime: ri.EndTime, ArtifactURI: ri.ArtifactURI, LifecycleStage: ri.LifecycleStage}
}

type datasetJSON struct {
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	SourceType string `json:"source_type"`
	Source     string `json:"source"`
	Schema     string `json:"schema,omitempty"`
	Profile    string `json:"profile,omitempty"`
}

type datasetInputJSON struct {
	Tags    []keyValue  `json:"tags,omitempty"`
	Dataset datasetJSON `json:"dataset"`
}

type modelIDJSON struct {
	ModelID string `json:"model_id"`
}

type modelOutputJSON struct {
	ModelID string `json:"model_id"`
	Step    num    `json:"step"`
}

type runJSON struct {
	Info runInfoJSON `json:"info"`
	Data struct {
		Metrics []metricJSON `json:"metrics,omitempty"`
		Params  []keyValue   `json:"params,omitempty"`
		Tags    []keyValue   `json:"tags,omitempty"`
	} `json:"data"`
	Inputs struct {
		DatasetInputs []datasetInputJSON `json:"dataset_inputs,omitempty"`
		ModelInputs   []modelIDJSON      `json:"model_inputs,omitempty"`
	} `json:"inputs"`
	Outputs struct {
		ModelOutputs []modelOutputJSON `json:"model_outputs,omitempty"`
	} `json:"outputs"`
}

func runOut(r tracking.Run) runJSON {
	var out runJSON
	out.Info = runInfoOut(r.Info)
	out.Data.Metrics, out.Data.Params, out.Data.Tags = metricsOut(r.Metrics), paramsOut(r.Params), tagsOut(r.Tags)
	for _, d := range r.Inputs {
		out.Inputs.DatasetInputs = append(out.Inputs.DatasetInputs, datasetInputJSON{Tags: tagsOut(d.Tags), Dataset: datasetJSON{
			Name: d.Dataset.Name, Digest: d.Dataset.Digest, SourceType: d.Dataset.SourceType, Source: d.Dataset.Source,
			Schema: d.Dataset.Schema, Profile: d.Dataset.Profile}})
	}
	for _, id := range r.ModelInputs {
		out.Inputs.ModelInputs = append(out.Inputs.ModelInputs, modelIDJSON{ModelID: id})
	}
	for _, o := range r.ModelOutputs {
		out.Outputs.ModelOutputs = append(out.Outputs.ModelOutputs, modelOutputJSON{ModelID: o.ModelID, Step: num(o.Step)})
	}
	return out
}

type loggedModelJSON struct {
	Info struct {
		ModelID                string     `json:"model_id"`
		ExperimentID           string     `json:"experiment_id"`
		Name                   string     `json:"name"`
		CreationTimestampMs    int64      `json:"creation_timestamp_ms"`
		LastUpdatedTimestampMs int64      `json:"last_updated_timestamp_ms"`
		ArtifactURI            string     `json:"artifact_uri"`
		Status                 string     `json:"status"`
		ModelType              string     `json:"model_type,omitempty"`
		SourceRunID            string     `json:"source_run_id,omitempty"`
		StatusMessage          string     `json:"status_message,omitempty"`
		Tags                   []keyValue `json:"tags,omitempty"`
	} `json:"info"`
	Data struct {
		Params  []keyValue   `json:"params,omitempty"`
		Metrics []metricJSON `json:"metrics,omitempty"`
	} `json:"data"`
}

func loggedModelOut(m tracking.LoggedModel) loggedModelJSON {
	var out loggedModelJSON
	i := &out.Info
	i.ModelID, i.ExperimentID, i.Name, i.ArtifactURI = m.ID, m.ExperimentID, m.Name, m.ArtifactURI
	i.CreationTimestampMs, i.LastUpdatedTimestampMs = m.CreationTime, m.LastUpdateTime
	i.Status, i.ModelType, i.SourceRunID, i.StatusMessage = string(m.Status), m.ModelType, m.SourceRunID, m.StatusMessage
	i.Tags = tagsOut(m.Tags)
	out.Data.Params, out.Data.Metrics = paramsOut(m.Params), metricsOut(m.Metrics)
	return out
}

type aliasJSON struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

type modelVersionJSON struct {
	Name                 string     `json:"name"`
	Version              string     `json:"version"`
	CreationTimestamp    int64      `json:"creation_timestamp"`
	LastUpdatedTimestamp int64      `json:"last_updated_timestamp"`
	UserID               string     `json:"user_id,omitempty"`
	CurrentStage         string     `json:"current_stage"`
	Description          string     `json:"description,omitempty"`
	Source               string     `json:"source"`
	RunID                string     `json:"run_id,omitempty"`
	Status               string     `json:"status"`
	StatusMessage        string     `json:"status_message,omitempty"`
	Tags                 []keyValue `json:"tags,omitempty"`
	RunLink              string     `json:"run_link,omitempty"`
	Aliases              []string   `json:"aliases,omitempty"`
	ModelID              string     `json:"model_id,omitempty"`
}

func versionOut(v modelregistry.ModelVersion) modelVersionJSON {
	return modelVersionJSON{Name: v.Name, Version: strconv.FormatInt(v.Version, 10), CreationTimestamp: v.CreationTime,
		LastUpdatedTimestamp: v.LastUpdatedTime, UserID: v.UserID, CurrentStage: v.CurrentStage, Description: v.Description,
		Source: v.Source, RunID: v.RunID, Status: v.Status, StatusMessage: v.StatusMessage, Tags: tagsOut(v.Tags), RunLink: v.RunLink,
		Aliases: v.Aliases, ModelID: v.ModelID}
}

func versionsOut(vs []modelregistry.ModelVersion) []modelVersionJSON {
	if len(vs) == 0 {
		return nil
	}
	out := make([]modelVersionJSON, len(vs))
	for i, v := range vs {
		out[i] = versionOut(v)
	}
	return out
}

type registeredModelJSON struct {
	Name                 string             `json:"name"`
	CreationTimestamp    int64              `json:"creation_timestamp"`
	LastUpdatedTimestamp int64              `json:"last_updated_timestamp"`
	Description          string             `json:"description,omitempty"`
	LatestVersions       []modelVersionJSON `json:"latest_versions,omitempty"`
	Tags                 []keyValue         `json:"tags,omitempty"`
	Aliases              []aliasJSON        `json:"aliases,omitempty"`
}

func modelOut(m modelregistry.RegisteredModel) registeredModelJSON {
	out := registeredModelJSON{Name: m.Name, CreationTimestamp: m.CreationTime, LastUpdatedTimestamp: m.LastUpdatedTime,
		Description: m.Description, LatestVersions: versionsOut(m.LatestVersions), Tags: tagsOut(m.Tags)}
	for _, a := range m.Aliases {
		out.Aliases = append(out.Aliases, aliasJSON{Alias: a.Alias, Version: strconv.FormatInt(a.Version, 10)})
	}
	return out
}
