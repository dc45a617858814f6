package modelregistry

import "testing"

func TestValidAlias(t *testing.T) {
	for a, ok := range map[string]bool{"champion": true, "prod-eu_1": true, "": false, "latest": false, "LATEST": false,
		"v3": false, "V12": false, "vnext": true, "has space": false, "a/b": false} {
		if err := validAlias(a); (err == nil) != ok {
			t.Errorf("validAlias(%q) = %v, want ok=%v", a, err, ok)
		}
	}
}

func TestCanonicalStage(t *testing.T) {
	for in, want := range map[string]string{"production": "Production", "STAGING": "Staging", "none": "None", "archived": "Archived", "prod": ""} {
		got, ok := CanonicalStage(in)
		if got != want || ok != (want != "") {
			t.Errorf("CanonicalStage(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, " 42 ": 42, "0": 0, "-1": 0, "x": 0} {
		got, err := ParseVersion(in)
		if got != want || (err == nil) != (want > 0) {
			t.Errorf("ParseVersion(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestReasonPrefersTag(t *testing.T) {
	mv := ModelVersion{Description: "desc"}
	if reason(mv) != "desc" {
		t.Errorf("reason without tag = %q", reason(mv))
	}
	mv.Tags = append(mv.Tags, struct{ Key, Value string }{TagReason, "better auc"})
	if reason(mv) != "better auc" {
		t.Errorf("reason with tag = %q", reason(mv))
	}
}
