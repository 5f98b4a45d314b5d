package upload

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// NS is the XEP-0363 namespace.
const NS = "urn:xmpp:http:upload:0"

const (
	nsDiscoInfo = "http://jabber.org/protocol/disco#info"
	nsDiscoItem = "http://jabber.org/protocol/disco#items"
	nsData      = "jabber:x:data"
)

// Config is what the service needs.
type Config struct {
	Host module.Host
	DB   *storage.DB
	Log  *slog.Logger
	// Domains are the served user domains; the service runs on
	// Subdomain.<each>.
	Domains   []string
	Subdomain string
	// MaxFileSize is the largest slot in bytes; Quota bounds one owner's
	// bytes (0: none).
	MaxFileSize, Quota int64
	// ExpireAfter is how long a file is kept; SlotTimeout how long a
	// slot waits for its PUT.
	ExpireAfter, SlotTimeout time.Duration
	// Dir holds the files and the signing secret.
	Dir string
	// BaseURL returns the public base URL ("https://host:port", no
	// trailing slash) for a user of domain.
	BaseURL func(domain string) string
	// SlotsPerMinute bounds one user's slot requests (a bucket of that
	// many, refilled at that rate); 0 is no limit.
	SlotsPerMinute int
	// SweepEvery is how often expired files are looked for; 0 derives it
	// from ExpireAfter and SlotTimeout (at most a minute).
	SweepEvery time.Duration
}

// PathPrefix is where the HTTP handler is mounted.
const PathPrefix = "/upload/"

// Service is the upload component and its HTTP handler.
type Service struct {
	cfg     Config
	log     *slog.Logger
	store   *Store
	secret  []byte
	files   string          // directory of the files
	domains map[string]bool // service domains
	rate    *slotRate
	now     func() time.Time
}

// New returns the service; it creates the upload directory and the
// signing secret if they do not exist.
func New(c Config) (*Service, error) {
	if c.Subdomain == "" {
		c.Subdomain = "upload"
	}
	s := &Service{cfg: c, log: c.Log.With("component", "upload"), store: NewStore(c.DB),
		files: filepath.Join(c.Dir, "files"), domains: map[string]bool{}, now: time.Now, rate: newSlotRate(c.SlotsPerMinute)}
	for _, d := range c.Domains {
		s.domains[c.Subdomain+"."+d] = true
	}
	if err := os.MkdirAll(s.files, 0o700); err != nil {
		return nil, fmt.Errorf("upload: directory: %w", err)
	}
	var err error
	if s.secret, err = loadSecret(filepath.Join(c.Dir, ".secret")); err != nil {
		return nil, err
	}
	return s, nil
}

// Store returns the slot store (for the admin surface).
func (s *Service) Store() *Store { return s.store }

// Register adds the service under each service domain and lists it in
// the server's disco#items.
func (s *Service) Register(reg *module.Registry) {
	for d := range s.domains {
		s.cfg.Host.AddService(d, s)
	}
	reg.ServerItems(func(domain string) []module.DiscoItem {
		d := s.cfg.Subdomain + "." + domain
		if !s.domains[d] {
			return nil
		}
		return []module.DiscoItem{{JID: d, Name: "HTTP File Upload"}}
	})
}

var (
	_ module.Registrar = (*Service)(nil)
	_ module.Service   = (*Service)(nil)
)

// Route implements module.Service: iqs to the service domain (disco and
// slot requests); anything else is refused or ignored.
func (s *Service) Route(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	if el.Local != stanza.KindIQ || el.Attr("type") == stanza.TypeError || el.Attr("type") == stanza.Result {
		return nil
	}
	if !to.IsDomain() {
		return stanza.NewError(stanza.ServiceUnavailable)
	}
	p := el.FirstChild()
	if p == nil || el.Attr("type") != stanza.Get {
		return stanza.NewError(stanza.ServiceUnavailable)
	}
	var payload *stanza.Element
	var err error
	switch {
	case p.Space == nsDiscoInfo && p.Local == "query" && p.Attr("node") == "":
		payload = s.discoInfo()
	case p.Space == nsDiscoItem && p.Local == "query" && p.Attr("node") == "":
		payload = stanza.New(nsDiscoItem, "query")
	case p.Space == NS && p.Local == "request":
		payload, err = s.request(ctx, from, to, p)
		mSlots.WithLabelValues(slotOutcome(err)).Inc()
	default:
		return stanza.NewError(stanza.ServiceUnavailable)
	}
	if err != nil {
		var se *stanza.Error
		if errors.As(err, &se) {
			return se
		}
		s.log.Error("slot request failed", "from", from, "err", err)
		return stanza.NewError(stanza.InternalServerError)
	}
	s.cfg.Host.Deliver(ctx, from, stanza.IQResult(el, payload, to, from))
	return nil
}

// discoInfo is the service's disco#info (XEP-0363 §3) with the XEP-0128
// form announcing max-file-size.
func (s *Service) discoInfo() *stanza.Element {
	q := stanza.New(nsDiscoInfo, "query").Append(
		stanza.New(nsDiscoInfo, "identity").SetAttr("category", "store").SetAttr("type", "file").SetAttr("name", "HTTP File Upload"))
	for _, f := range []string{nsDiscoInfo, nsDiscoItem, NS} {
		q.Append(stanza.New(nsDiscoInfo, "feature").SetAttr("var", f))
	}
	field := func(v, val string) *stanza.Element {
		f := stanza.New(nsData, "field").SetAttr("var", v)
		if v == "FORM_TYPE" {
			f.SetAttr("type", "hidden")
		}
		return f.Append(stanza.New(nsData, "value").AppendText(val))
	}
	return q.Append(stanza.New(nsData, "x").SetAttr("type", "result").Append(
		field("FORM_TYPE", NS), field("max-file-size", strconv.FormatInt(s.cfg.MaxFileSize, 10))))
}

// request answers a slot request (XEP-0363 §4, §5).
func (s *Service) request(ctx context.Context, from, to jid.JID, p *stanza.Element) (*stanza.Element, error) {
	if from.Local() == "" || !s.cfg.Host.IsLocal(from.Domain()) {
		return nil, stanza.Errorf("cancel", stanza.NotAllowed, "only accounts of this server may upload")
	}
	if ok, retry := s.rate.allow(from.Bare(), s.now()); !ok {
		e := stanza.Errorf("wait", stanza.ResourceConstraint, "too many upload requests: at most %d a minute", s.cfg.SlotsPerMinute)
		e.App = stanza.New(NS, "retry").SetAttr("stamp", retry.UTC().Format(time.RFC3339))
		return nil, e
	}
	sl, err := s.parseRequest(p)
	if err != nil {
		return nil, err
	}
	sl.Owner = from.Bare()
	if err := s.store.Create(ctx, sl, s.cfg.Quota); err != nil {
		if errors.Is(err, storage.ErrLimit) {
			return nil, stanza.Errorf("wait", stanza.ResourceConstraint, "upload quota of %d bytes reached; files expire after %s", s.cfg.Quota, s.cfg.ExpireAfter)
		}
		return nil, err
	}
	s.log.Debug("slot", "owner", sl.Owner, "slot", sl.ID, "size", sl.Size)
	return s.slotElement(from.Domain(), sl), nil
}

// parseRequest checks the request's attributes and makes a slot of them.
func (s *Service) parseRequest(p *stanza.Element) (Slot, error) {
	name, ctype := p.Attr("filename"), p.Attr("content-type")
	if err := checkFilename(name); err != nil {
		return Slot{}, stanza.Errorf("modify", stanza.BadRequest, "%v", err)
	}
	size, err := strconv.ParseInt(p.Attr("size"), 10, 64)
	if err != nil || size <= 0 {
		return Slot{}, stanza.Errorf("modify", stanza.BadRequest, "size must be a positive number of bytes")
	}
	if size > s.cfg.MaxFileSize {
		e := stanza.Errorf("modify", stanza.NotAcceptable, "file too large: the most is %d bytes", s.cfg.MaxFileSize)
		e.App = stanza.New(NS, "file-too-large").Append(
			stanza.New(NS, "max-file-size").AppendText(strconv.FormatInt(s.cfg.MaxFileSize, 10)))
		return Slot{}, e
	}
	if ctype != "" {
		if ctype, err = checkContentType(ctype); err != nil {
			return Slot{}, stanza.Errorf("modify", stanza.BadRequest, "%v", err)
		}
	}
	var id [16]byte
	rand.Read(id[:])
	now := s.now()
	return Slot{ID: hex.EncodeToString(id[:]), Filename: name, Size: size, ContentType: ctype, Created: now,
		PutBefore: now.Add(s.cfg.SlotTimeout), Expires: now.Add(s.cfg.ExpireAfter)}, nil
}

// slotElement is the <slot/> answer: the signed PUT URL and the GET URL.
func (s *Service) slotElement(domain string, sl Slot) *stanza.Element {
	get := s.cfg.BaseURL(domain) + filePath(sl)
	put := get + "?sig=" + s.sign(sl)
	return stanza.New(NS, "slot").Append(
		stanza.New(NS, "put").SetAttr("url", put),
		stanza.New(NS, "get").SetAttr("url", get))
}
