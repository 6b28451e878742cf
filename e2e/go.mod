module idxstream/e2e

go 1.26.0

require (
	github.com/apache/cassandra-gocql-driver/v2 v2.1.2
	github.com/chromedp/chromedp v0.23.0
	github.com/twmb/franz-go v1.22.2
	github.com/twmb/franz-go/pkg/kadm v1.19.0
	idxstream/dashboard v0.0.0
	idxstream/trade v0.0.0
)

require (
	github.com/go-sql-driver/mysql v1.10.1 // indirect
	github.com/joho/godotenv v1.5.1 // indirect
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/twmb/franz-go/pkg/kmsg v1.15.0 // indirect
	gopkg.in/inf.v0 v0.9.1 // indirect
	idxstream/applog v0.0.0
	idxstream/testkit v0.0.0
)

replace idxstream/trade => ../trade

replace idxstream/dashboard => ../dashboard

replace idxstream/testkit => ../testkit

replace idxstream/applog => ../applog

require idxstream/envconf v0.0.0

replace idxstream/envconf => ../envconf
