// Package namespace names the test namespaces: a Cassandra keyspace, a MySQL database and a set
// of Kafka topics that one test (or test run) owns, created with the product's own migrations and
// users and dropped afterwards, so that a test never writes into a stack's product data.
//
// A namespace's keyspace and database are both called by its name; its topics are the topics whose
// names start with the name and an underscore. Only names with Prefix can be created or dropped,
// so that no command here can drop the product's `trading` keyspace or database.
package namespace

import "strings"

// Prefix starts every test namespace's name.
const Prefix = "itest_"

// MaxLen is the longest name: Cassandra keyspace names have at most 48 characters.
const MaxLen = 48

// Valid reports whether name is a test namespace name: Prefix, then at least one lower-case
// letter, digit or underscore, at most MaxLen in all (a plain identifier in CQL and SQL alike).
func Valid(name string) bool {
	if !strings.HasPrefix(name, Prefix) || len(name) <= len(Prefix) || len(name) > MaxLen {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// OwnsTopic reports whether topic belongs to the namespace name.
func OwnsTopic(name, topic string) bool {
	return strings.HasPrefix(topic, name+"_")
}
