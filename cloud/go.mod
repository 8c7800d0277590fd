module github.com/ticketero/ticketero/cloud

go 1.26.0
