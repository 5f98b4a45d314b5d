package server

import "github.com/parleyim/parley/internal/storage"

// FastTokens returns the XEP-0484 FAST token store the client service
// uses (for tests and tools: listing or revoking an account's tokens).
func (s *Server) FastTokens() *storage.FastTokens { return s.db.FastTokens() }
