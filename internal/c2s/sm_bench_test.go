package c2s

import "testing"

// BenchmarkChatMessageSM is BenchmarkChatMessage with stream management
// enabled on both sessions: the sender's stanza is counted after routing
// and the recipient keeps a copy of it until acknowledged (an ack every 32
// messages, as a client answering <r/> would).
func BenchmarkChatMessageSM(b *testing.B) { benchChat(b, true) }

// ackAll acknowledges everything sent to s, as its client would.
func ackAll(b *testing.B, s *Session) {
	s.out.mu.Lock()
	h := s.sm.sent()
	s.out.mu.Unlock()
	if _, ok := s.out.smAck(h); !ok {
		b.Fatal("ack refused")
	}
}
