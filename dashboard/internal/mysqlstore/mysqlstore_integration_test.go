//go:build integration

package mysqlstore

import (
	"os"
	"testing"
	"time"

	"idxstream/dashboard/internal/itest"
	"idxstream/dashboard/internal/market"
	"idxstream/testkit"
)

// suite gives the package's tests a namespace of their own (testkit): they never write into the
// product's keyspace or database.
var suite = testkit.NewSuite("dashmysql")

func TestMain(m *testing.M) { os.Exit(suite.Run(m)) }

func openStore(t *testing.T, m itest.MySQL) *Store {
	t.Helper()
	s, err := Open(Config{Addr: m.Addr, Database: m.Database, User: m.DashUser, Password: m.DashPass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Ping(t.Context()); err != nil {
		itest.Unavailable(t, "MySQL does not accept the dashboard user: %v", err)
	}
	return s
}

func TestViewsReturnInsertedRows(t *testing.T) {
	m := itest.MySQLFromEnv(t, suite.Namespace(t))
	job := m.Open(t, m.JobUser, m.JobPassword)
	store := openStore(t, m)
	today := itest.MarketToday(t, job)
	tag := itest.RandomTag(6)
	a, b := "itest "+tag+" A", "itest "+tag+" B"
	at := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Minute).Add(7 * time.Second)
	itest.InsertAggregates(t, job, today, at, []itest.SectorRow{{Sector: a, Volume: 1500}, {Sector: b, Volume: 700}})
	itest.InsertAggregates(t, job, today, at.Add(time.Minute), []itest.SectorRow{{Sector: a, Volume: 300}})
	// a row of yesterday must not count today
	itest.InsertAggregates(t, job, today.AddDate(0, 0, -1), at, []itest.SectorRow{{Sector: a, Volume: 999_999}})

	vols, err := store.VolumeToday(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, v := range vols {
		got[v.Sector] = v.TotalVolume
	}
	if got[a] != 1800 || got[b] != 700 {
		t.Errorf("volume_today has %s=%d %s=%d, want 1800 and 700", a, got[a], b, got[b])
	}

	points, err := store.Timeline(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var mine []market.TimelinePoint
	for _, p := range points {
		if p.Sector == a {
			mine = append(mine, p)
		}
	}
	want := []market.TimelinePoint{
		{Sector: a, Minute: at.Truncate(time.Minute), TotalVolume: 1500},
		{Sector: a, Minute: at.Add(time.Minute).Truncate(time.Minute), TotalVolume: 300},
	}
	if len(mine) != len(want) {
		t.Fatalf("timeline of %s = %+v, want %+v", a, mine, want)
	}
	for i := range want {
		if !mine[i].Minute.Equal(want[i].Minute) || mine[i].TotalVolume != want[i].TotalVolume {
			t.Errorf("timeline point %d = %+v, want %+v", i, mine[i], want[i])
		}
	}
}

func TestLastBatchAndProfile(t *testing.T) {
	m := itest.MySQLFromEnv(t, suite.Namespace(t))
	job := m.Open(t, m.JobUser, m.JobPassword)
	store := openStore(t, m)

	b, err := store.LastBatch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var wantID int64
	if err := job.QueryRowContext(t.Context(), "SELECT COALESCE(MAX(batch_id), 0) FROM agg_batches WHERE committed_at IS NOT NULL").Scan(&wantID); err != nil {
		t.Fatal(err)
	}
	if b.ID < wantID { // the job may commit another batch in between, never fewer
		t.Errorf("last_batch id %d, agg_batches has %d", b.ID, wantID)
	}

	cs, err := store.Companies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := job.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM profile").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if len(cs) != n || n == 0 {
		t.Errorf("read %d companies, profile has %d", len(cs), n)
	}
}

func TestDashboardUserIsReadOnly(t *testing.T) {
	m := itest.MySQLFromEnv(t, suite.Namespace(t))
	dash := m.Open(t, m.DashUser, m.DashPass)
	_, err := dash.ExecContext(t.Context(), "DELETE FROM aggregated_data WHERE batch_id = -1")
	if err == nil {
		t.Error("the dashboard user may delete from aggregated_data")
	}
}
