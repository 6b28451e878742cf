package web

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"time"
)

// events streams fragment updates as server-sent events. On connect it sends every fragment
// (so a reconnecting page catches up), then after each data change only the fragments that
// show the changed data. Each event: "event: <fragment>" and the fragment's HTML as data lines.
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
	if err := h.sendFragments(w, fragmentOrder); err != nil {
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

// writeEvent writes one event; each line of data becomes one "data:" line, which the browser
// joins again with newlines.
func writeEvent(w io.Writer, name string, data template.HTML) error {
	var b strings.Builder
	fmt.Fprintf(&b, "event: %s\n", name)
	for line := range strings.Lines(string(data)) {
		b.WriteString("data: ")
		b.WriteString(strings.TrimRight(line, "\r\n"))
		b.WriteByte('\n')
	}
	if data == "" {
		b.WriteString("data: \n")
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write event %s: %w", name, err)
	}
	return nil
}
