package sqlite

// Transactions is how many transactions the writer of st has begun.
func Transactions(st *Store) uint64 { return st.txs.Load() }
