package portable

import (
	"fmt"
	"io"
)

// Report says what an import did: which accounts it imported, which it
// skipped and why, and what it left out of imported accounts.
type Report struct {
	Imported []string // account JIDs
	Skipped  []Entry  // accounts not imported: nothing of them was written
	Notes    []Entry  // parts left out of imported accounts, elements ignored
	DryRun   bool
}

// Entry is one skipped account or ignored part.
type Entry struct {
	What string // an account JID, or "file:line"
	Why  string
}

func (r *Report) skip(what, why string) { r.Skipped = append(r.Skipped, Entry{what, why}) }
func (r *Report) note(what, why string) { r.Notes = append(r.Notes, Entry{what, why}) }

// Write prints the report for an operator, one line each.
func (r *Report) Write(w io.Writer) {
	verb := "imported"
	if r.DryRun {
		verb = "would import"
	}
	for _, j := range r.Imported {
		fmt.Fprintf(w, "%s %s\n", verb, j)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s: %s\n", n.What, n.Why)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "skipped %s: %s\n", s.What, s.Why)
	}
	fmt.Fprintf(w, "%d account(s) %s, %d skipped, %d note(s)\n", len(r.Imported), verb, len(r.Skipped), len(r.Notes))
}
