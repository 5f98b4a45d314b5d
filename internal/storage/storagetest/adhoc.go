package storagetest

import (
	"testing"

	"github.com/parleyim/parley/internal/features/adhoc"
)

var adhocCases = []Case{
	{"adhoc/message of the day set replace delete", func(t *testing.T, e *Env) {
		s := adhoc.NewMOTDStore(e.DB)
		if got, err := s.Get(e.Ctx, e.Domain); err != nil || got != "" {
			t.Fatalf("Get before Set = %q, %v", got, err)
		}
		for _, body := range []string{"Wëlcome\nsecond line", "replaced"} {
			if err := s.Set(e.Ctx, e.Domain, body); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Get(e.Ctx, e.Domain); err != nil || got != body {
				t.Fatalf("Get = %q, %v; want %q", got, err, body)
			}
		}
		if got, _ := s.Get(e.Ctx, "other.example"); got != "" {
			t.Errorf("another domain sees %q", got)
		}
		if err := s.Delete(e.Ctx, e.Domain); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(e.Ctx, e.Domain); err != nil || got != "" {
			t.Errorf("after Delete: %q, %v", got, err)
		}
	}},
}
