package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"time"
)

// events streams fragment updates as server-sent events. On connect it sends every fragment
// (so a reconnecting page catches up), then after each data change only the fragments that
// show the changed data. Each event is written by writeEvent: "event: <fragment>" and the
// fragment's HTML as one JSON string on one data line.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	sub := h.cfg.Broker.Subscribe()
	defer sub.Close()

	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "retry: 3000\n\n"); err != nil {
		return
	}
	if err := h.sendFragments(w, panelNames()); err != nil {
		h.log.Debug("event stream ended", "err", err)
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	beat := time.NewTicker(h.cfg.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case <-beat.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case <-sub.Ready():
			if err := h.sendFragments(w, fragmentsFor(sub.Take())); err != nil {
				h.log.Debug("event stream ended", "err", err)
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

func (h *Handler) sendFragments(w io.Writer, names []string) error {
	for _, name := range names {
		html, err := h.fragment(name)
		if err != nil {
			return err
		}
		if err := writeEvent(w, name, html); err != nil {
			return err
		}
	}
	return nil
}

// writeEvent writes one event, safe by construction against values that would split it: the
// fragments carry names, tickers and sectors from the databases, and html/template leaves CR
// and LF in them as they are, while an event stream ends a line at CR, LF or CRLF. A value
// ending a line could then start a field of its own ("event: …", "id: …") or, with an empty
// line, a second event. So:
//
//   - the data is the HTML as one JSON string (the page script JSON.parses it): encoding/json
//     escapes CR, LF and every other control character, so the data is always exactly one line;
//   - the name must be one of the fixed panel names (the table panels), never a value from
//     outside.
//
// HTML escaping of the JSON (\u003c for <) is off: the JSON is only ever read by JSON.parse,
// never put into a page, and the fragments are mostly markup.
func writeEvent(w io.Writer, name string, data template.HTML) error {
	if _, ok := panelNamed(name); !ok {
		return fmt.Errorf("write event: %q is not a panel name", name)
	}
	var b bytes.Buffer
	b.WriteString("event: ")
	b.WriteString(name)
	b.WriteString("\ndata: ")
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(string(data)); err != nil { // Encode ends the line with \n
		return fmt.Errorf("write event %s: %w", name, err)
	}
	b.WriteByte('\n')
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write event %s: %w", name, err)
	}
	return nil
}
