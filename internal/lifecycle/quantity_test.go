package lifecycle

import (
	"strings"
	"testing"
)

func TestQuantityMilliCPU(t *testing.T) {
	tests := []struct {
		q       Quantity
		want    int64
		wantErr string
	}{
		{"4", 4000, ""},
		{"0.5", 500, ""},
		{".25", 250, ""},
		{"2.", 2000, ""},
		{"500m", 500, ""},
		{"1.5m", 0, `"1.5m" is finer than 1m, a thousandth of a core`},
		{"0.0001", 0, `"0.0001" is finer than 1m, a thousandth of a core`},
		{"4 cores", 0, `"4 cores" is not a quantity; write cores as "4" or "0.5", or millicores as "500m"`},
		{"-1", 0, `"-1" is not a quantity`},
		{"1e3", 0, `"1e3" is not a quantity`},
		{"", 0, `"" is not a quantity`},
		{".", 0, `"." is not a quantity`},
		{"m", 0, `"m" is not a quantity`},
		{"16Gi", 0, `"16Gi": cpu is counted in cores`},
		{"2k", 0, `"2k": cpu is counted in cores`},
		{"9999999999999999999", 0, `"9999999999999999999" is too large`},
		{Quantity(strings.Repeat("9", 40)), 0, "is too long to be a quantity"},
	}
	for _, tt := range tests {
		got, err := tt.q.MilliCPU()
		if tt.wantErr == "" && (err != nil || got != tt.want) {
			t.Errorf("Quantity(%q).MilliCPU() = %d, %v; want %d", tt.q, got, err, tt.want)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Quantity(%q).MilliCPU() = %d, %v; want an error containing %q", tt.q, got, err, tt.wantErr)
		}
	}
}

func TestQuantityBytes(t *testing.T) {
	tests := []struct {
		q       Quantity
		want    int64
		wantErr string
	}{
		{"16Gi", 16 << 30, ""},
		{"512Mi", 512 << 20, ""},
		{"1.5Gi", 3 << 29, ""},
		{"1G", 1e9, ""},
		{"128k", 128000, ""},
		{"2Ki", 2048, ""},
		{"1Ei", 1 << 60, ""},
		{"1048576", 1 << 20, ""},
		{"8Ei", 0, `"8Ei" is too large`},
		{"0.5", 0, `"0.5" is not a whole number of bytes`},
		{"512m", 0, `"512m" means thousandths of a byte; did you mean "512Mi"?`},
		{"16GB", 0, `"16GB" is not a quantity; write "16Gi" (power of 1024) or "16G" (power of 1000), without the B`},
		{"512kB", 0, `"512kB" is not a quantity; write "512Ki" (power of 1024) or "512k" (power of 1000), without the B`},
		{"16 Gi", 0, `"16 Gi" is not a quantity; write memory as "16Gi", "512Mi" or a number of bytes`},
		{"16gi", 0, `"16gi" is not a quantity`},
		{"B", 0, `"B" is not a quantity`},
	}
	for _, tt := range tests {
		got, err := tt.q.Bytes()
		if tt.wantErr == "" && (err != nil || got != tt.want) {
			t.Errorf("Quantity(%q).Bytes() = %d, %v; want %d", tt.q, got, err, tt.want)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Quantity(%q).Bytes() = %d, %v; want an error containing %q", tt.q, got, err, tt.wantErr)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	// Ascending, from the Semantic Versioning 2.0.0 specification's example.
	ordered := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0", "2.0.0"}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := compareVersions(ordered[i], ordered[j]); got != want {
				t.Errorf("compareVersions(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	for _, bad := range []string{"1.0", "01.0.0", "1.0.0-", "1.0.0-01", "v1.0.0", "1.0.0.0", ""} {
		if _, ok := parseVersion(bad); ok {
			t.Errorf("parseVersion(%q) accepted an invalid version", bad)
		}
		if compareVersions(bad, "0.0.1") != -1 {
			t.Errorf("invalid version %q does not sort before valid ones", bad)
		}
	}
}
