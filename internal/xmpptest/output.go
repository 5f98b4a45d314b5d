package xmpptest

import (
	"bytes"
	"sync"
)

// SyncBuffer collects a process's output (as its Stdout or Stderr) while
// the test reads it: a bytes.Buffer safe for one writer and many readers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
