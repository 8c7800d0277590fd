// Package queue holds Ticketero's domain values: branches, services, priority
// classes, counters, executives, tickets and their status machine, the Chilean RUT,
// display numbers and the application error type. It has no I/O.
package queue
