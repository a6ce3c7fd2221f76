package polish

import (
	"testing"
	"time"
)

func warsaw(y int, m time.Month, d, hour, min int) time.Time {
	return time.Date(y, m, d, hour, min, 0, 0, Warsaw)
}

func day(y int, m time.Month, d int) time.Time { return warsaw(y, m, d, 0, 0) }

func TestWarsaw(t *testing.T) {
	if Warsaw.String() != "Europe/Warsaw" {
		t.Errorf("Warsaw = %v", Warsaw)
	}
	// CET in winter, CEST in summer.
	for _, tt := range []struct {
		t      time.Time
		offset int
	}{{day(2026, 1, 15), 3600}, {day(2026, 7, 15), 7200}} {
		if _, off := tt.t.Zone(); off != tt.offset {
			t.Errorf("offset on %v = %d; want %d", tt.t, off, tt.offset)
		}
	}
}

func TestEaster(t *testing.T) {
	tests := []struct {
		year int
		want time.Time
	}{
		{2024, day(2024, 3, 31)},
		{2025, day(2025, 4, 20)},
		{2026, day(2026, 4, 5)},
		{2027, day(2027, 3, 28)},
		{2028, day(2028, 4, 16)},
		{2000, day(2000, 4, 23)},
		{2038, day(2038, 4, 25)},
		{1943, day(1943, 4, 25)}, // the latest possible date
		{2285, day(2285, 3, 22)}, // the earliest possible date
		{1818, day(1818, 3, 22)},
		{2019, day(2019, 4, 21)},
	}
	for _, tt := range tests {
		if got := Easter(tt.year); !got.Equal(tt.want) || got.Location() != Warsaw {
			t.Errorf("Easter(%d) = %v; want %v", tt.year, got, tt.want)
		}
	}
	for year := 1583; year <= 4099; year++ {
		e := Easter(year)
		if e.Weekday() != time.Sunday || e.Before(day(year, 3, 22)) || e.After(day(year, 4, 25)) {
			t.Fatalf("Easter(%d) = %v: not a Sunday from 22 March to 25 April", year, e)
		}
	}
}

func TestHolidays(t *testing.T) {
	want2026 := []struct {
		date   time.Time
		namePL string
		nameEN string
	}{
		{day(2026, 1, 1), "Nowy Rok", "New Year's Day"},
		{day(2026, 1, 6), "Święto Trzech Króli", "Epiphany"},
		{day(2026, 4, 5), "Wielkanoc (pierwszy dzień)", "Easter Sunday"},
		{day(2026, 4, 6), "Wielkanoc (drugi dzień)", "Easter Monday"},
		{day(2026, 5, 1), "Święto Pracy", "Labour Day"},
		{day(2026, 5, 3), "Święto Narodowe Trzeciego Maja", "Constitution Day"},
		{day(2026, 5, 24), "Zielone Świątki (pierwszy dzień)", "Pentecost Sunday"},
		{day(2026, 6, 4), "Boże Ciało", "Corpus Christi"},
		{day(2026, 8, 15), "Wniebowzięcie Najświętszej Maryi Panny", "Assumption of Mary"},
		{day(2026, 11, 1), "Wszystkich Świętych", "All Saints' Day"},
		{day(2026, 11, 11), "Narodowe Święto Niepodległości", "Independence Day"},
		{day(2026, 12, 24), "Wigilia Bożego Narodzenia", "Christmas Eve"},
		{day(2026, 12, 25), "Boże Narodzenie (pierwszy dzień)", "Christmas Day"},
		{day(2026, 12, 26), "Boże Narodzenie (drugi dzień)", "Second Day of Christmas"},
	}
	got := Holidays(2026)
	if len(got) != len(want2026) {
		t.Fatalf("Holidays(2026) has %d days; want %d: %v", len(got), len(want2026), got)
	}
	for i, w := range want2026 {
		if h := got[i]; !h.Date.Equal(w.date) || h.Date.Location() != Warsaw || h.NamePL != w.namePL || h.NameEN != w.nameEN {
			t.Errorf("Holidays(2026)[%d] = %v %q %q; want %v %q %q", i, h.Date, h.NamePL, h.NameEN, w.date, w.namePL, w.nameEN)
		}
	}

	counts := map[int]int{2010: 12, 2011: 13, 2024: 13, 2025: 14, 2030: 14}
	for year, n := range counts {
		if got := len(Holidays(year)); got != n {
			t.Errorf("len(Holidays(%d)) = %d; want %d", year, got, n)
		}
	}

	movable := []struct {
		year                     int
		easterMon, pentecost, cc time.Time
	}{
		{2025, day(2025, 4, 21), day(2025, 6, 8), day(2025, 6, 19)},
		{2026, day(2026, 4, 6), day(2026, 5, 24), day(2026, 6, 4)},
		{2027, day(2027, 3, 29), day(2027, 5, 16), day(2027, 5, 27)},
		{2028, day(2028, 4, 17), day(2028, 6, 4), day(2028, 6, 15)},
	}
	for _, tt := range movable {
		for _, d := range []time.Time{tt.easterMon, tt.pentecost, tt.cc} {
			if _, ok := IsHoliday(d); !ok {
				t.Errorf("IsHoliday(%v) = false", d)
			}
		}
		if h, _ := IsHoliday(tt.cc); h.NameEN != "Corpus Christi" || tt.cc.Weekday() != time.Thursday {
			t.Errorf("%v: %q on a %v; want Corpus Christi on a Thursday", tt.cc, h.NameEN, tt.cc.Weekday())
		}
	}
}

func TestIsHolidayAndBusinessDay(t *testing.T) {
	tests := []struct {
		t        time.Time
		holiday  string // English name, or empty
		business bool
	}{
		{day(2024, 12, 24), "", true}, // a Tuesday, before Christmas Eve became a holiday
		{day(2025, 12, 24), "Christmas Eve", false},
		{day(2026, 6, 4), "Corpus Christi", false},
		{day(2026, 6, 5), "", true},
		{day(2026, 6, 6), "", false}, // Saturday
		{day(2026, 6, 7), "", false}, // Sunday
		{day(2025, 11, 11), "Independence Day", false},
		{day(2010, 1, 6), "", true}, // Epiphany was not a holiday before 2011
		{day(2011, 1, 6), "Epiphany", false},
		{day(2026, 8, 15), "Assumption of Mary", false}, // a Saturday: no substitute day
		{day(2026, 8, 17), "", true},
		// The Warsaw date counts, not the UTC one: 1 May 23:30 UTC is already 2 May in Warsaw.
		{time.Date(2025, 5, 1, 23, 30, 0, 0, time.UTC), "", true},
		{time.Date(2025, 5, 2, 22, 30, 0, 0, time.UTC), "Constitution Day", false},
		{time.Date(2025, 4, 30, 23, 0, 0, 0, time.UTC), "Labour Day", false},
		{warsaw(2025, 5, 1, 23, 59), "Labour Day", false},
	}
	for _, tt := range tests {
		h, ok := IsHoliday(tt.t)
		if ok != (tt.holiday != "") || h.NameEN != tt.holiday {
			t.Errorf("IsHoliday(%v) = %q, %v; want %q", tt.t, h.NameEN, ok, tt.holiday)
		}
		if got := IsBusinessDay(tt.t); got != tt.business {
			t.Errorf("IsBusinessDay(%v) = %v; want %v", tt.t, got, tt.business)
		}
	}
}

func TestBusinessDayArithmetic(t *testing.T) {
	tests := []struct {
		t                           time.Time
		next, onOrAfter, prev, onOr time.Time
	}{
		{ // Tuesday before Christmas 2025: 24-26 December are holidays, then a weekend.
			t:    warsaw(2025, 12, 23, 15, 0),
			next: day(2025, 12, 29), onOrAfter: day(2025, 12, 23),
			prev: day(2025, 12, 22), onOr: day(2025, 12, 23),
		},
		{ // Christmas Day 2025.
			t:    warsaw(2025, 12, 25, 9, 0),
			next: day(2025, 12, 29), onOrAfter: day(2025, 12, 29),
			prev: day(2025, 12, 23), onOr: day(2025, 12, 23),
		},
		{ // Easter Sunday 2026: Easter Monday follows.
			t:    day(2026, 4, 5),
			next: day(2026, 4, 7), onOrAfter: day(2026, 4, 7),
			prev: day(2026, 4, 3), onOr: day(2026, 4, 3),
		},
		{ // Friday.
			t:    warsaw(2026, 3, 6, 23, 59),
			next: day(2026, 3, 9), onOrAfter: day(2026, 3, 6),
			prev: day(2026, 3, 5), onOr: day(2026, 3, 6),
		},
		{ // New Year's Eve 2026 is a Thursday; 1 January 2027 a Friday holiday.
			t:    day(2026, 12, 31),
			next: day(2027, 1, 4), onOrAfter: day(2026, 12, 31),
			prev: day(2026, 12, 30), onOr: day(2026, 12, 31),
		},
		{ // Across the change to summer time (29 March 2026, a Sunday).
			t:    warsaw(2026, 3, 27, 12, 0),
			next: day(2026, 3, 30), onOrAfter: day(2026, 3, 27),
			prev: day(2026, 3, 26), onOr: day(2026, 3, 27),
		},
		{ // UTC late evening is already the next day in Warsaw (a Saturday).
			t:    time.Date(2026, 3, 6, 23, 30, 0, 0, time.UTC),
			next: day(2026, 3, 9), onOrAfter: day(2026, 3, 9),
			prev: day(2026, 3, 6), onOr: day(2026, 3, 6),
		},
	}
	for _, tt := range tests {
		check := func(name string, got, want time.Time) {
			t.Helper()
			if !got.Equal(want) || got.Location() != Warsaw {
				t.Errorf("%s(%v) = %v; want %v", name, tt.t, got, want)
			}
		}
		check("NextBusinessDay", NextBusinessDay(tt.t), tt.next)
		check("BusinessDayOnOrAfter", BusinessDayOnOrAfter(tt.t), tt.onOrAfter)
		check("PreviousBusinessDay", PreviousBusinessDay(tt.t), tt.prev)
		check("BusinessDayOnOrBefore", BusinessDayOnOrBefore(tt.t), tt.onOr)
	}
}
