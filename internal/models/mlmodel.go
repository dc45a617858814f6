package models

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// mlmodel is the part of MLflow's MLmodel file mlportal reads.
type mlmodel struct {
	Flavors   map[string]yaml.Node `yaml:"flavors"`
	Signature *struct {
		Inputs  *string `yaml:"inputs"`
		Outputs *string `yaml:"outputs"`
	} `yaml:"signature"`
}

// schemaEntry is one element of a signature's inputs or outputs, a JSON
// string in the MLmodel file: a column ({"type": "double", "name": "age",
// "required": true}) or a tensor ({"type": "tensor", "tensor-spec":
// {"dtype": "float64", "shape": [-1, 4]}}).
type schemaEntry struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	Required   *bool  `json:"required"`
	Optional   *bool  `json:"optional"`
	TensorSpec *struct {
		DType string `json:"dtype"`
		Shape []int  `json:"shape"`
	} `json:"tensor-spec"`
}

// ParseMLmodel reads an MLmodel file: its flavors (sorted), the framework
// (the first flavor other than python_function, or python_function when it
// is the only one) and the signature, if any.
func ParseMLmodel(b []byte) (framework string, flavors []string, sig *Signature, err error) {
	var m mlmodel
	if err := yaml.Unmarshal(b, &m); err != nil {
		return "", nil, nil, fmt.Errorf("MLmodel is not valid YAML: %w", err)
	}
	for f := range m.Flavors {
		flavors = append(flavors, f)
	}
	sort.Strings(flavors)
	for _, f := range flavors {
		if f != "python_function" {
			framework = f
			break
		}
	}
	if framework == "" && len(flavors) > 0 {
		framework = flavors[0]
	}
	if m.Signature != nil {
		sig = &Signature{}
		if sig.Inputs, err = parseSchema(m.Signature.Inputs); err != nil {
			return framework, flavors, nil, fmt.Errorf("MLmodel signature inputs: %w", err)
		}
		if sig.Outputs, err = parseSchema(m.Signature.Outputs); err != nil {
			return framework, flavors, nil, fmt.Errorf("MLmodel signature outputs: %w", err)
		}
		if sig.Inputs == nil && sig.Outputs == nil {
			sig = nil
		}
	}
	return framework, flavors, sig, nil
}

func parseSchema(s *string) ([]ColumnSpec, error) {
	if s == nil || strings.TrimSpace(*s) == "" || strings.TrimSpace(*s) == "null" {
		return nil, nil
	}
	var entries []schemaEntry
	if err := json.Unmarshal([]byte(*s), &entries); err != nil {
		return nil, err
	}
	out := make([]ColumnSpec, 0, len(entries))
	for _, e := range entries {
		c := ColumnSpec{Name: e.Name, Type: e.Type}
		if e.TensorSpec != nil {
			c.Type = "tensor:" + e.TensorSpec.DType
			c.Shape = e.TensorSpec.Shape
		}
		if c.Type == "" {
			c.Type = "unknown"
		}
		c.Optional = (e.Required != nil && !*e.Required) || (e.Optional != nil && *e.Optional)
		out = append(out, c)
	}
	return out, nil
}
