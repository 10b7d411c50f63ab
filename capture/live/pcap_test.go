//go:build cgo

package live

import (
	"errors"
	"net"
	"testing"
)

func TestPrefix(t *testing.T) {
	tests := []struct {
		ip   net.IP
		mask net.IPMask
		want string
	}{
		{net.IPv4(198, 18, 0, 1).To4(), net.CIDRMask(24, 32), "198.18.0.1/24"},
		{net.ParseIP("2001:2::1"), net.CIDRMask(64, 128), "2001:2::1/64"},
		{net.ParseIP("198.18.0.1"), nil, "198.18.0.1/32"}, // 16-byte form, no mask
		{net.ParseIP("fe80::1"), net.IPMask{0xff, 0x00, 0xff}, "fe80::1/128"},
	}
	for _, tc := range tests {
		got, ok := prefix(tc.ip, tc.mask)
		if !ok || got.String() != tc.want {
			t.Errorf("prefix(%v, %v) = %v, %v; want %s", tc.ip, tc.mask, got, ok, tc.want)
		}
	}
	if _, ok := prefix(nil, nil); ok {
		t.Error("prefix(nil) is ok")
	}
}

func TestActivateError(t *testing.T) {
	tests := []struct {
		msg  string
		perm bool
	}{
		{"Permission Denied", true},
		{"Error: socket: Operation not permitted", true},
		{"No Such Device", false},
		{"Interface Not Up", false},
	}
	for _, tc := range tests {
		err := activateError(errors.New(tc.msg))
		if got := errors.Is(err, ErrPermission); got != tc.perm {
			t.Errorf("activateError(%q) = %v, permission %v; want %v", tc.msg, err, got, tc.perm)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(Options{}); err == nil {
		t.Error("Open with no interface succeeded")
	}
	if _, err := Open(Options{Interface: "intunecap-no-such-if0"}); err == nil {
		t.Error("Open on a missing interface succeeded")
	}
}
