package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestHandshake runs the server and the client over loopback.
func TestHandshake(t *testing.T) {
	ln, err := listen("127.0.0.1:0", []string{"lab.example"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var log bytes.Buffer
	go func() { done <- serve(ln, &log) }()
	var out bytes.Buffer
	if err := handshake(ln.Addr().String(), "quic.manage.microsoft.com", 5*time.Second, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `sni="quic.manage.microsoft.com" alpn=h3`) {
		t.Errorf("client said %q", out.String())
	}
	ln.Close()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// TestUsage checks the command line's errors and exit statuses.
func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"nope"}, 2},
		{[]string{"client", "--sni", "x"}, 2},
		{[]string{"server"}, 2},
		{[]string{"help"}, 0},
		{[]string{"client", "--connect", "127.0.0.1:1", "--sni", "x", "--timeout", "300ms"}, 1},
	} {
		var out, errOut bytes.Buffer
		if code := run(tt.args, &out, &errOut); code != tt.code {
			t.Errorf("%v: exit %d, want %d (%s)", tt.args, code, tt.code, errOut.String())
		}
	}
}
