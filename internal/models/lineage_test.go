package models

import (
	"fmt"
	"strings"
	"testing"
)

func TestBuildLineage(t *testing.T) {
	_, vs, _ := fixture()
	l := BuildLineage(vs, []Deployment{{Environment: "production", Version: 2, State: "serving"}})
	var nodes, edges []string
	for _, n := range l.Nodes {
		nodes = append(nodes, n.Kind+":"+n.ID)
	}
	for _, e := range l.Edges {
		edges = append(edges, fmt.Sprintf("%s -%s-> %s", e.From, e.Kind, e.To))
	}
	wantNodes := []string{"dataset:dataset:churn-train@1", "dataset:dataset:churn-train@2", "deployment:deployment:production", "job:job:job_3",
		"model-version:model:churn@1", "model-version:model:churn@2", "model-version:model:churn@3", "run:run:run2", "run:run:run3"}
	wantEdges := []string{
		"dataset:churn-train@1 -trained-on-> run:run2",
		"dataset:churn-train@2 -trained-on-> run:run3",
		"job:job_3 -ran-> run:run3",
		"model:churn@2 -deployed-as-> deployment:production",
		"run:run2 -produced-> model:churn@2",
		"run:run3 -produced-> model:churn@3",
	}
	if strings.Join(nodes, "\n") != strings.Join(wantNodes, "\n") {
		t.Errorf("nodes:\n%s\nwant:\n%s", strings.Join(nodes, "\n"), strings.Join(wantNodes, "\n"))
	}
	if strings.Join(edges, "\n") != strings.Join(wantEdges, "\n") {
		t.Errorf("edges:\n%s\nwant:\n%s", strings.Join(edges, "\n"), strings.Join(wantEdges, "\n"))
	}
	for _, n := range l.Nodes {
		if n.ID == "dataset:churn-train@2" && (n.Attributes["quality"] != "passed" || n.Attributes["uri"] != "s3://data/churn.csv" || n.Label != "churn-train v2") {
			t.Errorf("dataset node = %+v", n)
		}
		if n.ID == "model:churn@3" && (n.Attributes["stage"] != "Staging" || n.Attributes["framework"] != "sklearn") {
			t.Errorf("model node = %+v", n)
		}
	}
	if empty := BuildLineage(nil, nil); len(empty.Nodes) != 0 || empty.Edges == nil {
		t.Errorf("no versions: %+v", empty)
	}
}

func TestParseMLmodel(t *testing.T) {
	cases := []struct {
		name, in, framework, flavors, sig string
		err                               bool
	}{
		{"sklearn with a column signature", `flavors:
  python_function: {loader_module: mlflow.sklearn}
  sklearn: {pickled_model: model.pkl}
signature:
  inputs: '[{"type": "double", "name": "age", "required": true}, {"type": "string", "name": "plan", "required": false}]'
  outputs: '[{"type": "long"}]'
  params: null
`, "sklearn", "python_function sklearn", "in[age:double plan:string?] out[:long]", false},
		{"pytorch with tensors", `flavors:
  pytorch: {model_data: data}
  python_function: {}
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3, 224, 224]}}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1000]}}]'
`, "pytorch", "python_function pytorch", "in[:tensor:float32[-1 3 224 224]] out[:tensor:float32[-1 1000]]", false},
		{"pyfunc only, no signature", "flavors:\n  python_function: {}\n", "python_function", "python_function", "", false},
		{"several flavors: the first after python_function", "flavors:\n  transformers: {}\n  onnx: {}\n  python_function: {}\n", "onnx", "onnx python_function transformers", "", false},
		{"not YAML", "flavors: [\n", "", "", "", true},
		{"signature not JSON", "flavors: {sklearn: {}}\nsignature:\n  inputs: '[{'\n", "sklearn", "sklearn", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fw, fl, sig, err := ParseMLmodel([]byte(c.in))
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if fw != c.framework || strings.Join(fl, " ") != c.flavors || sigString(sig) != c.sig {
				t.Errorf("got %q %q %q, want %q %q %q", fw, strings.Join(fl, " "), sigString(sig), c.framework, c.flavors, c.sig)
			}
		})
	}
}

func sigString(s *Signature) string {
	if s == nil {
		return ""
	}
	cols := func(cs []ColumnSpec) string {
		var out []string
		for _, c := range cs {
			x := c.Name + ":" + c.Type
			if c.Shape != nil {
				x += fmt.Sprint(c.Shape)
			}
			if c.Optional {
				x += "?"
			}
			out = append(out, x)
		}
		return strings.Join(out, " ")
	}
	return "in[" + cols(s.Inputs) + "] out[" + cols(s.Outputs) + "]"
}

func TestCursor(t *testing.T) {
	for _, seq := range []int64{0, 1, 42, 1 << 40} {
		got, err := DecodeCursor(EncodeCursor(seq))
		if err != nil || got != seq {
			t.Errorf("round trip of %d: %d %v", seq, got, err)
		}
	}
	if s, err := DecodeCursor(""); s != 0 || err != nil {
		t.Errorf("empty cursor: %d %v", s, err)
	}
	for _, bad := range []string{"!!", EncodeCursor(-1), "YWJj"} {
		if _, err := DecodeCursor(bad); err == nil {
			t.Errorf("DecodeCursor(%q) accepted", bad)
		}
	}
}
