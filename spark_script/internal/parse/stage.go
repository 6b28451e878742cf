package parse

import (
	sc "idxstream/sparkconnect"
	"idxstream/trade"
)

// Apply runs the parse stages on a DataFrame of Kafka rows (the Kafka source's columns) and
// returns the Checked rows: both paths parse with this one function.
func Apply(kafka *sc.DataFrame, ref trade.Reference) *sc.DataFrame {
	return kafka.SelectExpr(Records()...).
		SelectExpr(Elements()...).
		Where(NotEmpty).
		SelectExpr(Parsed()...).
		SelectExpr(Typed(ref)...).
		SelectExpr(Checked(ref)...)
}
