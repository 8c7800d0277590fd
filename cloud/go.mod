module github.com/ticketero/ticketero/cloud

go 1.26.0

require (
	github.com/ticketero/ticketero/migrations v0.0.0
	github.com/ticketero/ticketero/shared v0.0.0
)

replace (
	github.com/ticketero/ticketero/migrations => ../migrations
	github.com/ticketero/ticketero/shared => ../shared
)
