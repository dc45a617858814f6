package lifecycle

import (
	"io/fs"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode: it must return a template or
// an error made of *FileErrors, never panic or hang, and whatever it decodes
// must survive Validate and Merge.
func FuzzDecode(f *testing.F) {
	src := Shipped()
	files, _ := fs.Glob(src.FS, "*.yaml")
	for _, name := range files {
		if b, err := fs.ReadFile(src.FS, name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		header,
		header + "spec: {job: {resources: {cpu: 1e400, memory: .inf}}, serving: {canarySteps: [1, 99999999999999999999]}}",
		header + "spec: {promotionGates: [{metric: a, value: .nan}], dataExpectations: [{column: c, min: -.inf}]}",
		header + "spec: &s {serving: *s}",
		header + "metadata: {version: 1.0.0-rc.1+build}\nspec: {schedule: '*/0 * * * MON-SUN'}",
		"- [",
		"{{{",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tpl, err := Decode("f.yaml", data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		_ = tpl.Validate()
		_, _ = Merge(tpl, Overrides{Serving: ServingOverrides{Replicas: ptr(3)}})
	})
}

// FuzzQuantity checks that the quantity parser never panics and that what
// it accepts is not negative.
func FuzzQuantity(f *testing.F) {
	for _, s := range []string{"4", "500m", "0.5", "16Gi", "1.5Gi", "8Ei", ".", "1e3", "16GB", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := Quantity(s).MilliCPU(); err == nil && m < 0 {
			t.Errorf("MilliCPU(%q) = %d", s, m)
		}
		if b, err := Quantity(s).Bytes(); err == nil && b < 0 {
			t.Errorf("Bytes(%q) = %d", s, b)
		}
	})
}

// FuzzValidateCron checks that the cron parser never panics.
func FuzzValidateCron(f *testing.F) {
	for _, s := range []string{"0 2 * * *", "*/5 1-5/2 1,15 JAN-dec sun", "@daily", "a b c d e", "-/- 1-- ,, */"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { _ = ValidateCron(s) })
}
