//go:build !linux

package main

import "errors"

type sender struct{}

func openSender(string, [][]byte, int) (*sender, error) {
	return nil, errors.New("replay sends on AF_PACKET sockets: Linux only")
}

func (s *sender) sendBatch(int, int) (int, error) { return 0, nil }
func (s *sender) close()                          {}
