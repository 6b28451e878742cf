package offsets

import (
	"reflect"
	"testing"
)

func TestNext(t *testing.T) {
	tests := []struct {
		name                            string
		prev, logStart, logEnd          Offsets
		max                             int64
		wantStart, wantEnd, wantSkipped Offsets
	}{
		{
			name:     "first run starts at the earliest offset",
			logStart: Offsets{0: 5, 1: 0}, logEnd: Offsets{0: 10, 1: 3}, max: 100,
			wantStart: Offsets{0: 5, 1: 0}, wantEnd: Offsets{0: 10, 1: 3}, wantSkipped: Offsets{},
		},
		{
			name: "continues from the previous end",
			prev: Offsets{0: 10, 1: 3}, logStart: Offsets{0: 0, 1: 0}, logEnd: Offsets{0: 12, 1: 3}, max: 100,
			wantStart: Offsets{0: 10, 1: 3}, wantEnd: Offsets{0: 12, 1: 3}, wantSkipped: Offsets{},
		},
		{
			name: "a new partition starts at its earliest offset",
			prev: Offsets{0: 10}, logStart: Offsets{0: 0, 1: 0}, logEnd: Offsets{0: 10, 1: 4}, max: 100,
			wantStart: Offsets{0: 10, 1: 0}, wantEnd: Offsets{0: 10, 1: 4}, wantSkipped: Offsets{},
		},
		{
			name: "records deleted by retention are counted as skipped",
			prev: Offsets{0: 2}, logStart: Offsets{0: 7}, logEnd: Offsets{0: 9}, max: 100,
			wantStart: Offsets{0: 7}, wantEnd: Offsets{0: 9}, wantSkipped: Offsets{0: 5},
		},
		{
			name: "the cap is shared in proportion to the backlog, exactly max records",
			prev: Offsets{0: 0, 1: 0, 2: 0}, logStart: Offsets{0: 0, 1: 0, 2: 0}, logEnd: Offsets{0: 100, 1: 50, 2: 1}, max: 10,
			wantStart: Offsets{0: 0, 1: 0, 2: 0}, wantEnd: Offsets{0: 7, 1: 3, 2: 0}, wantSkipped: Offsets{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Next(tt.prev, tt.logStart, tt.logEnd, tt.max)
			if !reflect.DeepEqual(p.Start, tt.wantStart) || !reflect.DeepEqual(p.End, tt.wantEnd) || !reflect.DeepEqual(p.Skipped, tt.wantSkipped) {
				t.Fatalf("Next = start %v end %v skipped %v; want %v %v %v", p.Start, p.End, p.Skipped, tt.wantStart, tt.wantEnd, tt.wantSkipped)
			}
			if p.Records() > tt.max {
				t.Fatalf("planned %d records, over the cap %d", p.Records(), tt.max)
			}
		})
	}
}

func TestNextNeverExceedsCap(t *testing.T) {
	for max := int64(1); max < 60; max++ {
		p := Next(nil, Offsets{0: 0, 1: 0, 2: 0}, Offsets{0: 17, 1: 23, 2: 5}, max)
		want := min(max, 17+23+5)
		if got := p.Records(); got != want {
			t.Fatalf("max %d: planned %d records, want %d", max, got, want)
		}
	}
}

func TestEncodingRoundTrip(t *testing.T) {
	o := Offsets{0: 12, 3: 7}
	got, err := Decode(o.Encode())
	if err != nil || !reflect.DeepEqual(got, o) {
		t.Fatalf("Decode(Encode(%v)) = %v, %v", o, got, err)
	}
	if _, err := Decode("not json"); err == nil {
		t.Fatal("Decode accepted garbage")
	}
	if got, want := SparkJSON("t", Offsets{1: 5}), `{"t":{"1":5}}`; got != want {
		t.Fatalf("SparkJSON = %s, want %s", got, want)
	}
}
