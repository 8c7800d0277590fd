package event

// Facts presence of one type in each fact table, for the coverage test.
type Facts struct{ Status, Ticket, Notice bool }

// FactsOf says which fact tables have an entry for t.
func FactsOf(t Type) Facts {
	_, s := statuses[t]
	_, k := namesTicket[t]
	_, n := notices[t]
	return Facts{Status: s, Ticket: k, Notice: n}
}

// FactEntries is the size of the largest fact table.
func FactEntries() int { return max(len(statuses), len(namesTicket), len(notices)) }

// Unmarshal and UnmarshalOne are the decoder's unmarshal and unmarshalOne.
var Unmarshal, UnmarshalOne = unmarshal, unmarshalOne

// DecodeOnePass is the one-pass decoder alone (ok false: it did not decide).
var DecodeOnePass = decodeOnePass

// DecodeScreening is DecodeBatchEvents without the one-pass decoder.
var DecodeScreening = decodeScreening
