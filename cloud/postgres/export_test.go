package postgres

// UpdateTickets, NoHashJoins and JoinsBack are the projection's ticket update
// and the planner settings around it.
const UpdateTickets, NoHashJoins, JoinsBack = updateTickets, noHashJoins, joinsBack
