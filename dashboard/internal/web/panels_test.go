package web

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPanelsRegistry: every panel of the table panels has its element on the page, its
// template, its data source and a view that renders; the page script takes the panel list from
// the page, so it names no panel itself.
func TestPanelsRegistry(t *testing.T) {
	e := newEnv(t, sampleMySQL(), sampleCassandra())
	e.sets.Refresh(t.Context())
	page := get(t, e.h, "/").Body.String()
	known := map[string]bool{}
	for _, s := range e.sets.States() {
		known[s.Name] = true
	}
	script, err := staticFS.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	word := regexp.MustCompile(`^[a-z]+$`)
	seen := map[string]bool{}
	tops := 0
	for _, p := range panels {
		t.Run(p.Name, func(t *testing.T) {
			if !word.MatchString(p.Name) || seen[p.Name] {
				t.Fatalf("name %q: want a unique lower-case word (it is an event name and part of element ids)", p.Name)
			}
			seen[p.Name] = true
			if e.h.tmpl.Lookup("frag-"+p.Name) == nil {
				t.Errorf("no template frag-%s in templates/fragments.html", p.Name)
			}
			if !strings.Contains(page, `id="`+p.Name+`-body"`) || !strings.Contains(page, `data-panel="`+p.Name+`"`) {
				t.Errorf("the page has no element id=%q with data-panel=%q", p.Name+"-body", p.Name)
			}
			if p.Top {
				tops++
			} else if p.Title == "" || !strings.Contains(page, `<h2 id="`+p.Name+`-h">`+p.Title+`</h2>`) {
				t.Errorf("card without its heading %q", p.Title)
			}
			if p.view == nil {
				t.Fatal("no view")
			}
			if !p.Every && len(p.Shows) == 0 {
				t.Error("shows no data set: it would never be re-rendered")
			}
			for _, d := range p.Shows {
				if !known[d] {
					t.Errorf("shows %q, which is not a data set (package dataset)", d)
				}
			}
			if _, err := e.h.fragment(p.Name); err != nil {
				t.Errorf("render: %v", err)
			}
			if strings.Contains(string(script), "'"+p.Name+"'") {
				t.Errorf("static/app.js names the panel %q; it should read the list from the page's data-panel attributes", p.Name)
			}
		})
	}
	if tops != 1 {
		t.Errorf("%d top panels, want the one header", tops)
	}
	for d := range known {
		shown := slices.ContainsFunc(panels, func(p panel) bool { return p.Every || slices.Contains(p.Shows, d) })
		if !shown {
			t.Errorf("no panel shows the data set %q", d)
		}
	}
	if strings.Count(page, "data-panel=") != len(panels) {
		t.Errorf("the page has %d data-panel elements, want one per panel (%d)", strings.Count(page, "data-panel="), len(panels))
	}
}
