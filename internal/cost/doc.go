// Package cost is mlportal's cost accounting: the prices of compute per GPU
// type and node pool (mlportal.costs), the cost of a job's attempts, the
// roll-ups of GPU-hours and cost by team, project, month and GPU type, and
// team budgets — a monthly amount with a warning threshold and an optional
// hard limit over which new jobs are refused.
//
// It meters nothing itself: the jobs controller records each attempt's
// GPU-seconds and cost through Prices (a jobs.Pricer); this package sums
// what was recorded and prices what still runs, as of the injected clock.
// A job is charged to the month in which it ends; while it runs, its cost
// so far counts in the current month. Invoices, currency conversion and
// proration of a job across months are out of scope.
package cost
