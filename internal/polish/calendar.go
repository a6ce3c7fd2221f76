package polish

import (
	"slices"
	"time"
	_ "time/tzdata" // Warsaw must load even where the system has no tz database
)

// Warsaw is the Europe/Warsaw time zone, in which every calendar function of
// this package reads dates and in which it returns them.
var Warsaw = mustLoadWarsaw()

func mustLoadWarsaw() *time.Location {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		// Unreachable: time/tzdata embeds the zone.
		panic("polish: cannot load Europe/Warsaw: " + err.Error())
	}
	return loc
}

// Holiday is a Polish statutory public holiday (dzień ustawowo wolny od
// pracy).
type Holiday struct {
	Date   time.Time // midnight in Warsaw
	NamePL string    // Polish name, as in the statute
	NameEN string    // English name
}

// Easter returns Easter Sunday of the given year, at midnight in Warsaw, by
// the Gregorian computus (the "Anonymous Gregorian" algorithm given by Meeus).
// It is meaningful for the years of the Gregorian calendar, 1583 on.
func Easter(year int) time.Time {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	n := h + l - 7*m + 114
	return time.Date(year, time.Month(n/31), n%31+1, 0, 0, 0, 0, Warsaw)
}

// fixedHolidays are the holidays on the same date every year, with the first
// year they are holidays in their present form.
var fixedHolidays = []struct {
	month          time.Month
	day            int
	since          int
	namePL, nameEN string
}{
	{time.January, 1, 0, "Nowy Rok", "New Year's Day"},
	{time.January, 6, 2011, "Święto Trzech Króli", "Epiphany"},
	{time.May, 1, 0, "Święto Pracy", "Labour Day"},
	{time.May, 3, 0, "Święto Narodowe Trzeciego Maja", "Constitution Day"},
	{time.August, 15, 0, "Wniebowzięcie Najświętszej Maryi Panny", "Assumption of Mary"},
	{time.November, 1, 0, "Wszystkich Świętych", "All Saints' Day"},
	{time.November, 11, 0, "Narodowe Święto Niepodległości", "Independence Day"},
	{time.December, 24, 2025, "Wigilia Bożego Narodzenia", "Christmas Eve"},
	{time.December, 25, 0, "Boże Narodzenie (pierwszy dzień)", "Christmas Day"},
	{time.December, 26, 0, "Boże Narodzenie (drugi dzień)", "Second Day of Christmas"},
}

// movableHolidays are the holidays at a fixed distance from Easter Sunday.
var movableHolidays = []struct {
	daysAfterEaster int
	namePL, nameEN  string
}{
	{0, "Wielkanoc (pierwszy dzień)", "Easter Sunday"},
	{1, "Wielkanoc (drugi dzień)", "Easter Monday"},
	{49, "Zielone Świątki (pierwszy dzień)", "Pentecost Sunday"},
	{60, "Boże Ciało", "Corpus Christi"},
}

// Holidays returns the statutory public holidays of a year in date order: 13
// a year from 2011 on, and 14 from 2025 on, when Christmas Eve became one. The rules are
// those of the statute of 18 January 1951 on days free from work as amended;
// they are accurate from 1990 on (Epiphany is a holiday from 2011 on), and
// earlier years are computed with the rules of 1990.
func Holidays(year int) []Holiday {
	var days []Holiday
	for _, f := range fixedHolidays {
		if year >= f.since {
			date := time.Date(year, f.month, f.day, 0, 0, 0, 0, Warsaw)
			days = append(days, Holiday{Date: date, NamePL: f.namePL, NameEN: f.nameEN})
		}
	}
	easter := Easter(year)
	for _, m := range movableHolidays {
		date := easter.AddDate(0, 0, m.daysAfterEaster)
		days = append(days, Holiday{Date: date, NamePL: m.namePL, NameEN: m.nameEN})
	}
	slices.SortFunc(days, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return days
}

// IsHoliday reports whether the Warsaw calendar date of d is a statutory
// public holiday, and which.
func IsHoliday(d time.Time) (Holiday, bool) {
	y, m, day := d.In(Warsaw).Date()
	for _, h := range holidaysOf(y) {
		if h.Date.Month() == m && h.Date.Day() == day {
			return h, true
		}
	}
	return Holiday{}, false
}

// IsBusinessDay reports whether the Warsaw calendar date of d is a business
// day: Monday to Friday and not a public holiday. Saturdays are never business
// days: Elixir and SORBNET do not run on them.
func IsBusinessDay(d time.Time) bool {
	day := dateOf(d)
	if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, holiday := IsHoliday(day)
	return !holiday
}

// NextBusinessDay returns midnight in Warsaw of the first business day after
// the Warsaw calendar date of d.
func NextBusinessDay(d time.Time) time.Time {
	return BusinessDayOnOrAfter(dateOf(d).AddDate(0, 0, 1))
}

// BusinessDayOnOrAfter returns midnight in Warsaw of the first business day on
// or after the Warsaw calendar date of d.
func BusinessDayOnOrAfter(d time.Time) time.Time {
	day := dateOf(d)
	for !IsBusinessDay(day) {
		day = day.AddDate(0, 0, 1)
	}
	return day
}

// PreviousBusinessDay returns midnight in Warsaw of the last business day
// before the Warsaw calendar date of d.
func PreviousBusinessDay(d time.Time) time.Time {
	return BusinessDayOnOrBefore(dateOf(d).AddDate(0, 0, -1))
}

// BusinessDayOnOrBefore returns midnight in Warsaw of the last business day on
// or before the Warsaw calendar date of d.
func BusinessDayOnOrBefore(d time.Time) time.Time {
	day := dateOf(d)
	for !IsBusinessDay(day) {
		day = day.AddDate(0, 0, -1)
	}
	return day
}

// dateOf returns midnight in Warsaw of the Warsaw calendar date of t. Midnight
// always exists in Warsaw: the clocks change at 2 and 3 o'clock.
func dateOf(t time.Time) time.Time {
	y, m, d := t.In(Warsaw).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Warsaw)
}
