module github.com/ticketero/ticketero/agent

go 1.26.0
