package module

import (
	"context"
	"slices"
	"testing"

	"github.com/parleyim/parley/internal/stanza"
)

func TestBind2Inline(t *testing.T) {
	r := NewRegistry()
	if r.LookupBind2Inline("urn:a") != nil || len(r.Bind2Features()) != 0 {
		t.Fatal("an empty registry has Bind 2 features")
	}
	called := ""
	h := func(_ context.Context, _ Conn, el *stanza.Element) (*stanza.Element, error) {
		called = el.Space
		return stanza.New(el.Space, "done"), nil
	}
	before := r.tables()
	r.Bind2Inline("urn:b", h)
	r.Bind2Inline("urn:a", h)
	if before.bind2 != nil {
		t.Error("a registration changed published tables")
	}
	if got := r.Bind2Features(); !slices.Equal(got, []string{"urn:a", "urn:b"}) {
		t.Errorf("Bind2Features = %v", got)
	}
	out, err := r.LookupBind2Inline("urn:b")(context.Background(), nil, stanza.New("urn:b", "enable"))
	if err != nil || called != "urn:b" || out.Local != "done" {
		t.Errorf("handler: %v, %q, %v", out, called, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a duplicate registration did not panic")
		}
	}()
	r.Bind2Inline("urn:a", h)
}
