package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    ByteSize
		wantErr bool
	}{
		{in: "1048576", want: MiB},
		{in: "1MiB", want: MiB},
		{in: "512KiB", want: 512 * KiB},
		{in: "10MB", want: 10_000_000},
		{in: "1 gib", want: GiB},
		{in: "7B", want: 7},
		{in: "2KB", want: 2000},
		{in: "", wantErr: true},
		{in: "MiB", wantErr: true},
		{in: "-1KiB", wantErr: true},
		{in: "1.5MiB", wantErr: true},
		{in: "1M", wantErr: true},
		{in: "9999999999999GiB", wantErr: true},
		{in: "99999999999999999999", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseByteSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestUnitsString(t *testing.T) {
	got := []string{
		MiB.String(), (512 * KiB).String(), (3 * GiB).String(), ByteSize(1000).String(), ByteSize(0).String(),
		Duration{720 * time.Hour}.String(), Duration{30 * time.Minute}.String(), Duration{90 * time.Minute}.String(),
		Duration{time.Hour + time.Second}.String(), Duration{0}.String(), Duration{1500 * time.Millisecond}.String(),
	}
	want := []string{"1MiB", "512KiB", "3GiB", "1000B", "0B", "720h", "30m", "1h30m", "1h0m1s", "0s", "1.5s"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("String() (-want +got):\n%s", diff)
	}
	for _, d := range []time.Duration{720 * time.Hour, 90 * time.Minute, time.Hour + time.Second, 1500 * time.Millisecond} {
		if back, err := parseDuration(Duration{d}.String()); err != nil || back.Duration != d {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", Duration{d}, back, err, d)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"addr", "baseUrl", "readTimeout", "readHeaderTimeout"}
	for in, want := range map[string]string{
		"adress": "addr", "address": "addr", "baseURL": "baseUrl", "base_url": "baseUrl",
		"readTimout": "readTimeout", "x": "", "tls": "", "certificateAuthorityData": "",
	} {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
