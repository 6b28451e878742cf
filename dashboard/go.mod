module idxstream/dashboard

go 1.26.0

require (
	github.com/apache/cassandra-gocql-driver/v2 v2.1.2
	github.com/go-sql-driver/mysql v1.10.1
	github.com/joho/godotenv v1.5.1
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	gopkg.in/inf.v0 v0.9.1 // indirect
)
