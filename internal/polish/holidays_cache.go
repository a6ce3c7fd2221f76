package polish

import "sync"

// holidaysByYear caches Holidays(year): a year's holidays never change, and
// IsHoliday is asked for every item of an account's history (the business
// days of Elixir sessions), so each year is computed once per process.
var holidaysByYear sync.Map // int -> []Holiday

// holidaysOf is Holidays(year), computed once; callers must not modify it.
func holidaysOf(year int) []Holiday {
	if v, ok := holidaysByYear.Load(year); ok {
		return v.([]Holiday)
	}
	v, _ := holidaysByYear.LoadOrStore(year, Holidays(year))
	return v.([]Holiday)
}
