package unitfile

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestExecArgs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{`/bin/x live -i eth1`, []string{"/bin/x", "live", "-i", "eth1"}, false},
		{`/bin/x --bpf "port 53 or tcp" -w /f`, []string{"/bin/x", "--bpf", "port 53 or tcp", "-w", "/f"}, false},
		{`/bin/x ""`, []string{"/bin/x", ""}, false},
		{`/bin/x "open`, nil, true},
		{`/bin/x 'single'`, nil, true},
		{`/bin/x a\ b`, nil, true},
	}
	for _, tc := range tests {
		got, err := ExecArgs(tc.in)
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("ExecArgs(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.service")
	unit := "[Unit]\nDescription=x\n\n[Service]\n# comment\nExecStart=/bin/x a \\\n    b\nSystemCallFilter=@system-service\nSystemCallFilter=~@privileged\n[Install]\nWantedBy=multi-user.target\n"
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Section(path, "Service")
	if err != nil {
		t.Fatal(err)
	}
	if got := d["ExecStart"]; !slices.Equal(got, []string{"/bin/x a b"}) {
		t.Errorf("ExecStart = %q", got)
	}
	if got := d["SystemCallFilter"]; !slices.Equal(got, []string{"@system-service", "~@privileged"}) {
		t.Errorf("SystemCallFilter = %q", got)
	}
	if _, ok := d["Description"]; ok {
		t.Error("a [Unit] key read into [Service]")
	}
	if err := os.WriteFile(path, []byte("[Service]\nnot a directive\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Section(path, "Service"); err == nil {
		t.Error("a line without = read without error")
	}
}
