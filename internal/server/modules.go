package server

import (
	"time"

	"github.com/parleyim/parley/internal/disco"
	"github.com/parleyim/parley/internal/entitytime"
	"github.com/parleyim/parley/internal/lastactivity"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/ping"
	"github.com/parleyim/parley/internal/register"
	"github.com/parleyim/parley/internal/version"
)

// Version is the server version reported by XEP-0092 and `parley version`.
var Version = "dev"

// modules is the explicit list of feature modules, in registration order.
func (s *Server) modules() []module.Registrar {
	return []module.Registrar{
		disco.New(),
		ping.Module{},
		&version.Module{Name: "Parley", Version: Version},
		&entitytime.Module{},
		register.New(register.Config{
			Accounts: s.accounts, Router: s.router, Limiter: s.limiter, Enabled: s.cfg.AllowRegistration, Log: s.log,
		}),
		&lastactivity.Module{Started: time.Now()},
	}
}
