// Package polish knows the Polish specifics of a bank: account numbers (NRB and
// IBAN, sort codes, bank codes, the tax-office micro-accounts and ZUS
// accounts), the personal and business identifiers PESEL, NIP and REGON, the
// statutory holidays and business days, and the schedules of the interbank
// systems Elixir, Express Elixir and SORBNET.
//
// The package is pure: no I/O and no clock. Functions that depend on the date
// take it as an argument and interpret it in the Europe/Warsaw time zone.
package polish
