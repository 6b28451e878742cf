package web

import (
	"slices"

	"idxstream/dashboard/internal/dataset"
)

// panel is one part of the page that live updates replace. The table panels is the one place
// that lists them: the page's layout (templates/page.html ranges over it), the events of
// /events and their order, which data set changes re-render which panel, and the page
// script's list of event names (it reads the data-panel attributes the page carries) all come
// from it. Adding a panel is a row here, its view method and its "frag-<Name>" template in
// templates/fragments.html.
type panel struct {
	// Name is the panel's event name, the id "<Name>-body" of the element whose inner HTML it
	// is, and its template "frag-<Name>". It must be a fixed word: event names are written
	// into the event stream as they are (writeEvent).
	Name string
	// Title is the card's heading (and the id "<Name>-h" labels the card); the Top panel has
	// none.
	Title string
	// Top puts the panel in the page's header bar instead of a card in <main>.
	Top bool
	// Wide makes the card span the page's width; narrow cards sit side by side.
	Wide bool
	// Live marks the panel aria-live="polite", so that screen readers announce its changes.
	Live bool
	// Shows are the data sets (package dataset's names) whose change re-renders the panel.
	Shows []string
	// Every is for panels that show every data set's freshness and the time since: they
	// follow every change and are re-rendered once a second.
	Every bool
	// view builds the data of the panel's template.
	view func(h *Handler) (any, error)
}

// panels in page order, which is also the order of the events.
var panels = []panel{
	{Name: "header", Top: true, Every: true, view: (*Handler).headerData},
	{Name: "health", Title: "Pipeline health", Wide: true, Live: true, Every: true, view: (*Handler).healthData},
	{Name: "volume", Title: "Traded volume by sector today", Shows: []string{dataset.Volume}, view: (*Handler).volumeData},
	{Name: "movers", Title: "Top movers since the open", Shows: []string{dataset.Prices}, view: (*Handler).moversData},
	{Name: "timeline", Title: "Volume over time by sector", Wide: true, Shows: []string{dataset.Timeline}, view: (*Handler).timelineData},
	{Name: "trades", Title: "Latest trades", Wide: true, Shows: []string{dataset.Trades}, view: (*Handler).tradesData},
}

// panelNames are the panels' names in page order: every event name there is.
func panelNames() []string {
	names := make([]string, len(panels))
	for i, p := range panels {
		names[i] = p.Name
	}
	return names
}

func panelNamed(name string) (panel, bool) {
	i := slices.IndexFunc(panels, func(p panel) bool { return p.Name == name })
	if i < 0 {
		return panel{}, false
	}
	return panels[i], true
}

// fragmentsFor returns the panels to resend after the named data sets changed, in page order.
func fragmentsFor(changed []string) []string {
	var out []string
	for _, p := range panels {
		if p.Every || slices.ContainsFunc(p.Shows, func(d string) bool { return slices.Contains(changed, d) }) {
			out = append(out, p.Name)
		}
	}
	return out
}
