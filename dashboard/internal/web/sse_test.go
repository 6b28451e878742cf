package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"idxstream/dashboard/internal/market"
)

// sseEvent is one event as a browser's EventSource dispatches it.
type sseEvent struct {
	Type, Data, LastID string
}

// sseReader reads an event stream the way the HTML standard tells a browser to
// (html.spec.whatwg.org, "Interpreting an event stream"): a line ends at CR, LF or CRLF; a line
// starting with ":" is a comment; "field: value" sets a field (one space after the colon is
// dropped, a line without a colon is a field with an empty value, unknown fields are ignored);
// "data" lines are joined with LF; an empty line dispatches the event if there is data, of type
// "message" when no "event" field was given; an unfinished event at the end of the stream is
// dropped. It is the one parser of the tests: what it sees is what app.js gets.
type sseReader struct {
	r       *bufio.Reader
	afterCR bool   // the last line ended with CR: an LF next is part of that line end
	lastID  string // the "id" field persists across events
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{r: bufio.NewReader(r)} }

// line returns the next line without its end. It never waits for the byte after a CR, so a
// stream whose flush ends with CR is read as promptly as a browser reads it.
func (s *sseReader) line() (string, error) {
	var b []byte
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return "", err // an unfinished line is dropped with its event
		}
		if s.afterCR {
			s.afterCR = false
			if c == '\n' {
				continue
			}
		}
		switch c {
		case '\n':
			return string(b), nil
		case '\r':
			s.afterCR = true
			return string(b), nil
		}
		b = append(b, c)
	}
}

// next returns the next dispatched event; io.EOF when the stream ended.
func (s *sseReader) next() (sseEvent, error) {
	var typ string
	var data strings.Builder
	for {
		line, err := s.line()
		if err != nil {
			return sseEvent{}, err
		}
		if line == "" {
			if data.Len() == 0 {
				typ = "" // nothing to dispatch
				continue
			}
			if typ == "" {
				typ = "message"
			}
			return sseEvent{Type: typ, Data: strings.TrimSuffix(data.String(), "\n"), LastID: s.lastID}, nil
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch field {
		case "event":
			typ = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
		case "id":
			if !strings.Contains(value, "\x00") {
				s.lastID = value
			}
		}
	}
}

// parseStream returns every event a browser would dispatch from stream.
func parseStream(t *testing.T, stream string) []sseEvent {
	t.Helper()
	r := newSSEReader(strings.NewReader(stream))
	var out []sseEvent
	for {
		ev, err := r.next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
}

// fragmentHTML decodes an event's data as app.js does (JSON.parse).
func fragmentHTML(ev sseEvent) (string, error) {
	var html string
	if err := json.Unmarshal([]byte(ev.Data), &html); err != nil {
		return "", err
	}
	return html, nil
}

// TestSSEReaderSplitsLikeABrowser checks the parser itself on hand-written streams, so that
// the tests below can trust it to see an injection where a browser would.
func TestSSEReaderSplitsLikeABrowser(t *testing.T) {
	tests := []struct {
		name, stream string
		want         []sseEvent
	}{
		{"LF", "event: a\ndata: 1\n\n", []sseEvent{{Type: "a", Data: "1"}}},
		{"CRLF", "event: a\r\ndata: 1\r\n\r\n", []sseEvent{{Type: "a", Data: "1"}}},
		{"lone CR", "event: a\rdata: 1\r\r", []sseEvent{{Type: "a", Data: "1"}}},
		{"CR inside a data line ends it", "data: x\revent: evil\n\n", []sseEvent{{Type: "evil", Data: "x"}}},
		{"two data lines join with LF", "data: 1\ndata: 2\n\n", []sseEvent{{Type: "message", Data: "1\n2"}}},
		{"an empty line inside data makes two events", "data: 1\n\ndata: 2\n\n", []sseEvent{{Type: "message", Data: "1"}, {Type: "message", Data: "2"}}},
		{"comments, retry and an event without data send nothing", ": hi\nretry: 10\n\nevent: x\n\n", nil},
		{"id persists", "id: 7\ndata: a\n\ndata: b\n\n", []sseEvent{{Type: "message", Data: "a", LastID: "7"}, {Type: "message", Data: "b", LastID: "7"}}},
		{"no space after the colon", "event:a\ndata:1\n\n", []sseEvent{{Type: "a", Data: "1"}}},
		{"unfinished event dropped", "data: 1\n\ndata: 2\n", []sseEvent{{Type: "message", Data: "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseStream(t, tt.stream); !slices.Equal(got, tt.want) {
				t.Errorf("parsed %q as %+v, want %+v", tt.stream, got, tt.want)
			}
		})
	}
}

// TestWriteEventKeepsHostileDataInOneEvent feeds writeEvent values that try to end the data
// line, add a field or start a second event, and reads the result as a browser would: exactly
// one event of the given name, no id, and the value back unchanged after JSON.parse.
func TestWriteEventKeepsHostileDataInOneEvent(t *testing.T) {
	tests := []struct{ name, data string }{
		{"LF then an event field", "a\nevent: x"},
		{"CRLF then a data field", "b\r\ndata: y"},
		{"lone CR at the end", "c\r"},
		{"lone CRs around fields", "d\revent: x\rdata: y\r\r"},
		{"empty lines then a second event", "e\n\nevent: second\ndata: z\n\n"},
		{"CRLF empty line then a second event", "f\r\n\r\nevent: second\r\ndata: z\r\n\r\n"},
		{"id and retry fields", "g\nid: 666\nretry: 1\r"},
		{"a comment line", "h\n: comment\n"},
		{"ordinary multi-line HTML", "<table>\n<tr><th scope=\"row\">Energy &amp; Mining</th></tr>\n</table>\n"},
		{"empty fragment", ""},
		{"other control characters", "tab\tvt\vff\fnul\x00esc\x1b"},
		{"line and paragraph separators", "i\u2028j\u2029k\u0085l"},
		{"non-ASCII", "Properti & Real Estat — Rp 9.875 ✓"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeEvent(&b, "volume", template.HTML(tt.data)); err != nil {
				t.Fatal(err)
			}
			raw := b.String()
			// by construction: two field lines and the empty line, LF only
			if strings.ContainsRune(raw, '\r') || strings.Count(raw, "\n") != 3 || !strings.HasSuffix(raw, "\n\n") ||
				!strings.HasPrefix(raw, "event: volume\ndata: ") {
				t.Errorf("frame is not two fields and an empty line: %q", raw)
			}
			events := parseStream(t, raw)
			if len(events) != 1 {
				t.Fatalf("a browser sees %d events in %q, want 1: %+v", len(events), raw, events)
			}
			ev := events[0]
			if ev.Type != "volume" || ev.LastID != "" {
				t.Errorf("event type %q, last id %q; want %q and none", ev.Type, ev.LastID, "volume")
			}
			got, err := fragmentHTML(ev)
			if err != nil {
				t.Fatalf("data %q is not a JSON string: %v", ev.Data, err)
			}
			if got != tt.data {
				t.Errorf("data round-trips as %q, want %q", got, tt.data)
			}
		})
	}
}

// TestWriteEventNames: only the fixed fragment names are written; anything else, and above
// all a name carrying CR or LF, is refused before a byte is written.
func TestWriteEventNames(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"header", true}, {"health", true}, {"volume", true}, {"timeline", true}, {"movers", true}, {"trades", true},
		{"volume\nevent: x", false}, {"volume\r\ndata: y", false}, {"volume\r", false}, {"volume\n", false},
		{"", false}, {"message", false}, {"Volume", false}, {" volume", false}, {"unknown", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := writeEvent(&b, tt.name, "<p>x</p>")
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if events := parseStream(t, b.String()); len(events) != 1 || events[0].Type != tt.name {
					t.Errorf("events %+v, want one %q", events, tt.name)
				}
				return
			}
			if err == nil || b.Len() > 0 {
				t.Errorf("writeEvent(%q) = %v and wrote %q; want an error and nothing written", tt.name, err, b.String())
			}
		})
	}
}

// TestEventStreamHostileDatabaseValues puts line-breaking sector names into both databases and
// reads the whole first burst of /events as a browser would: exactly one event per fragment,
// in page order, and the names back intact in the fragments' HTML.
func TestEventStreamHostileDatabaseValues(t *testing.T) {
	hostile := []string{"a\nevent: x", "b\r\ndata: y", "c\r"}
	my, cass := sampleMySQL(), sampleCassandra()
	for i, s := range hostile {
		my.volume = append(my.volume, market.SectorVolume{Sector: s, TotalVolume: int64(1000 + i)})
	}
	cass.trades[0].Sector = hostile[0]
	cass.trades[1].Sector = hostile[1]
	cass.trades[2].Sector = hostile[2]
	e := newEnv(t, my, cass)
	e.sets.Refresh(t.Context())

	// a request whose context is already done: the handler writes the first burst (every
	// fragment), flushes and returns, so the recorded body is the whole stream
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/events", nil))

	events := parseStream(t, rec.Body.String())
	var types []string
	html := map[string]string{}
	for _, ev := range events {
		types = append(types, ev.Type)
		h, err := fragmentHTML(ev)
		if err != nil {
			t.Fatalf("event %s: data is not a JSON string: %v", ev.Type, err)
		}
		html[ev.Type] = h
	}
	if !slices.Equal(types, panelNames()) {
		t.Fatalf("a browser sees events %q, want exactly %q", types, panelNames())
	}
	for _, s := range hostile {
		for _, frag := range []string{"volume", "trades"} {
			if !strings.Contains(html[frag], ">"+s+"<") {
				t.Errorf("fragment %s lacks the sector %q", frag, s)
			}
		}
	}
}
