package portable

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// Namespaces of the format (XEP-0227 §4, §8.1, §5).
const (
	NS      = module.NSPIE
	NSOld   = module.NSPIEOld // before version 1.0; Openfire writes it
	NSScram = "urn:xmpp:pie:0#scram"
	NSXInc  = "http://www.w3.org/2001/XInclude"
)

// Limits bound what a file may make the importer read.
type Limits struct {
	MaxFileBytes  int64 // one file, includes counted separately (default 4 GiB)
	MaxUserBytes  int64 // one <user/> element (default 64 MiB)
	MaxDepth      int   // element nesting (default 64)
	MaxIncludes   int   // XInclude files in all (default 100000)
	MaxIncludeDep int   // nested includes (default 4)
}

func (l Limits) withDefaults() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = 4 << 30
	}
	if l.MaxUserBytes <= 0 {
		l.MaxUserBytes = 64 << 20
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 64
	}
	if l.MaxIncludes <= 0 {
		l.MaxIncludes = 100000
	}
	if l.MaxIncludeDep <= 0 {
		l.MaxIncludeDep = 4
	}
	return l
}

// userEntry is one <user/> element as read, with where it was.
type userEntry struct {
	host string
	name string // the name attribute, also when el is nil
	el   *stanza.Element
	at   string // file:line
	err  error  // set when the element could not be read (too large)
}

// visitor receives what a walk finds.
type visitor struct {
	host func(host, at string) // a <host/> begins
	user func(u userEntry)
	note func(at, msg string) // something ignored
}

// walker reads a XEP-0227 file and the files it includes.
type walker struct {
	lim      Limits
	v        visitor
	root     string // directory of the main file: includes stay inside it
	includes int
}

// walk reads path, whose root element is server-data (or, in an include,
// host or user).
func (w *walker) walk(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	w.root = filepath.Dir(abs)
	return w.file(abs, "server-data", "", 0)
}

// file reads one file whose root must be want ("server-data", "host" or
// "user"; a host file may also stand where a server-data child is).
func (w *walker) file(path, want, host string, depth int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	name := filepath.Base(path)
	dec := xml.NewDecoder(&limitedReader{r: f, n: w.lim.MaxFileBytes, name: name})
	dec.Strict = true
	start, err := rootElement(dec)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	at := func() string { return position(name, dec) }
	if start.Name.Space != NS && start.Name.Space != NSOld {
		return fmt.Errorf("%s: root element is <%s xmlns='%s'>; a XEP-0227 file has <server-data xmlns='%s'>", name, start.Name.Local, start.Name.Space, NS)
	}
	switch {
	case start.Name.Local == "server-data" && want == "server-data":
		err = w.serverData(dec, path, at, depth)
	case start.Name.Local == "host" && (want == "server-data" || want == "host"):
		err = w.host(dec, start, path, at, depth)
	case start.Name.Local == "user" && want == "user":
		w.user(dec, start, host, at)
	default:
		return fmt.Errorf("%s: root element is <%s/>, want <%s/>", name, start.Name.Local, want)
	}
	if err != nil {
		var ie *includeError
		if !errors.As(err, &ie) {
			err = fmt.Errorf("%s: %w", name, err)
		}
		return err
	}
	return trailer(dec, name)
}

// includeError is an error in or about an included file; it names the
// including file and line itself.
type includeError struct{ err error }

func (e *includeError) Error() string { return e.err.Error() }
func (e *includeError) Unwrap() error { return e.err }

// rootElement skips the prolog and returns the root start tag. A DTD is
// refused: entity definitions are how billion-laughs files blow up.
func rootElement(dec *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return xml.StartElement{}, errors.New("no root element: the file is empty or not XML")
		}
		if err != nil {
			return xml.StartElement{}, xmlError(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.Directive:
			return xml.StartElement{}, errors.New("the file has a DTD (<!DOCTYPE ...>); DTDs are refused (entity expansion)")
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return xml.StartElement{}, errors.New("text before the root element: not a XEP-0227 file")
			}
		}
	}
}

// trailer checks that nothing but comments and white space follows the
// root element.
func trailer(dec *xml.Decoder, name string) error {
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: after the root element: %w", name, xmlError(err))
		}
		switch t := tok.(type) {
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return fmt.Errorf("%s: text after the root element", name)
			}
		case xml.Directive, xml.StartElement:
			return fmt.Errorf("%s: markup after the root element", name)
		}
	}
}

func (w *walker) serverData(dec *xml.Decoder, path string, at func() string, depth int) error {
	return children(dec, func(start xml.StartElement) error {
		switch {
		case isPIE(start.Name, "host"):
			return w.host(dec, start, path, at, depth)
		case start.Name.Space == NSXInc && start.Name.Local == "include":
			return w.include(dec, start, path, "server-data", "", at, depth)
		}
		w.v.note(at(), fmt.Sprintf("ignored <%s xmlns='%s'> in <server-data/>", start.Name.Local, start.Name.Space))
		return dec.Skip()
	})
}

func (w *walker) host(dec *xml.Decoder, start xml.StartElement, path string, at func() string, depth int) error {
	host := attr(start, "jid")
	w.v.host(host, at())
	return children(dec, func(start xml.StartElement) error {
		switch {
		case isPIE(start.Name, "user"):
			w.user(dec, start, host, at)
			return nil
		case start.Name.Space == NSXInc && start.Name.Local == "include":
			return w.include(dec, start, path, "user", host, at, depth)
		}
		w.v.note(at(), fmt.Sprintf("host %s: ignored <%s xmlns='%s'>", host, start.Name.Local, start.Name.Space))
		return dec.Skip()
	})
}

// user reads one <user/> element whole and hands it on; one that is too
// large is skipped to its end and handed on with an error.
func (w *walker) user(dec *xml.Decoder, start xml.StartElement, host string, at func() string) {
	where := at()
	el, err := readElement(dec, start, w.lim.MaxDepth, dec.InputOffset()+w.lim.MaxUserBytes)
	w.v.user(userEntry{host: host, name: attr(start, "name"), el: el, at: where, err: err})
}

func (w *walker) include(dec *xml.Decoder, start xml.StartElement, path, parent, host string, at func() string, depth int) error {
	if err := w.includeFile(dec, start, path, parent, host, at(), depth); err != nil {
		return &includeError{err}
	}
	return nil
}

func (w *walker) includeFile(dec *xml.Decoder, start xml.StartElement, path, parent, host, where string, depth int) error {
	if err := dec.Skip(); err != nil {
		return err
	}
	href := attr(start, "href")
	switch {
	case attr(start, "parse") != "" && attr(start, "parse") != "xml", attr(start, "xpointer") != "":
		return fmt.Errorf("%s: <include href='%s'/> with parse or xpointer is not supported", where, href)
	case href == "" || strings.Contains(href, "://") || filepath.IsAbs(href):
		return fmt.Errorf("%s: <include href='%s'/>: only relative file names are supported", where, href)
	case depth+1 > w.lim.MaxIncludeDep:
		return fmt.Errorf("%s: includes nested deeper than %d", where, w.lim.MaxIncludeDep)
	case w.includes >= w.lim.MaxIncludes:
		return fmt.Errorf("%s: more than %d included files", where, w.lim.MaxIncludes)
	}
	w.includes++
	target := filepath.Join(filepath.Dir(path), filepath.FromSlash(href))
	if rel, err := filepath.Rel(w.root, target); err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("%s: <include href='%s'/> points outside the export's directory", where, href)
	}
	want := "host"
	if parent == "user" {
		want = "user"
	}
	if err := w.file(target, want, host, depth+1); err != nil {
		return fmt.Errorf("%s: included: %w", where, err)
	}
	return nil
}

func isPIE(n xml.Name, local string) bool {
	return n.Local == local && (n.Space == NS || n.Space == NSOld)
}

func attr(start xml.StartElement, local string) string {
	for _, a := range start.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// children calls fn for each child element of the element just opened,
// until its end tag; fn must consume the child. Text is ignored.
func children(dec *xml.Decoder, fn func(xml.StartElement) error) error {
	for {
		tok, err := dec.Token()
		if err != nil {
			return xmlError(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		case xml.Directive:
			return errors.New("a DTD inside the document")
		}
	}
}

// errTooLarge marks a <user/> larger than Limits.MaxUserBytes.
var errTooLarge = errors.New("element larger than the limit")

// readElement reads the element that start opened into a stanza.Element.
// Past maxOffset (input bytes) it skips to the end and returns
// errTooLarge.
func readElement(dec *xml.Decoder, start xml.StartElement, maxDepth int, maxOffset int64) (*stanza.Element, error) {
	root := element(start)
	stack := []*stanza.Element{root}
	for len(stack) > 0 {
		if dec.InputOffset() > maxOffset {
			for range stack {
				if err := dec.Skip(); err != nil {
					return nil, err
				}
			}
			return nil, errTooLarge
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, xmlError(err)
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("elements nested deeper than %d", maxDepth)
			}
			el := element(t)
			top.Append(el)
			stack = append(stack, el)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.AppendText(string(t))
		case xml.Directive:
			return nil, errors.New("a DTD inside the document")
		}
	}
	return root, nil
}

func element(start xml.StartElement) *stanza.Element {
	el := stanza.New(start.Name.Space, start.Name.Local)
	for _, a := range start.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue // declarations: the tree keeps resolved namespaces
		}
		el.Attrs = append(el.Attrs, stanza.Attr{Space: a.Name.Space, Local: a.Name.Local, Value: a.Value})
	}
	return el
}

// xmlError words encoding/xml's errors for an operator.
func xmlError(err error) error {
	var se *xml.SyntaxError
	switch {
	case errors.As(err, &se) && strings.Contains(se.Msg, "unexpected EOF"):
		return fmt.Errorf("the file ends in the middle of the document (truncated?) at line %d", se.Line)
	case errors.As(err, &se):
		return fmt.Errorf("not well-formed XML at line %d: %s", se.Line, se.Msg)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the file ends in the middle of the document (truncated?)")
	}
	return err
}

func position(name string, dec *xml.Decoder) string {
	line, _ := dec.InputPos()
	return fmt.Sprintf("%s:%d", name, line)
}

// limitedReader fails, rather than truncating, past n bytes.
type limitedReader struct {
	r    io.Reader
	n    int64
	name string
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("%s is larger than the import limit", l.name)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
